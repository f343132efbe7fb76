"""What the monitor stores: probe results (bounded: the probe run keeps 7 days) and
incidents with their timeline."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5000


class Component(models.TextChoices):
    """What the infrastructure page has a card for, in the order it shows them."""

    DATABASE = "database", "Database"
    CACHE = "cache", "Cache and coordination"
    AUTHENTIK = "authentik", "Authentik (identity)"
    STALWART = "stalwart", "Stalwart (mail)"
    OCIS = "ocis", "oCIS (files)"


class ProbeResult(models.Model):
    """One probe of one component: did it answer, how fast, and in its own words why not."""

    component = models.CharField(max_length=20, choices=Component.choices)
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["component", "-at"], name="monitor_probe_comp_at"),
            # The charts' last 24 hours and the retention delete read by time alone.
            models.Index(fields=["at"], name="monitor_probe_at"),
        ]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.component} {'up' if self.ok else 'down'} at {self.at:%Y-%m-%d %H:%M}"


class Severity(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


_TEXT_VALIDATORS = [ProhibitNullCharactersValidator()]


class Incident(models.Model):
    title = models.CharField(max_length=TITLE_MAX_LENGTH, validators=_TEXT_VALIDATORS)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(
        max_length=15, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    # Component values (Component); a list so an incident can name several.
    affected_components = models.JSONField(default=list, blank=True)
    affected_tenants = models.ManyToManyField("tenants.Tenant", blank=True, related_name="+")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["resolved_at", "-opened_at"], name="monitor_inc_open")]
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def affected_labels(self) -> list[str]:
        labels = dict(Component.choices)
        return [labels.get(c, c) for c in self.affected_components]


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=15, choices=IncidentStatus.choices)
    body = models.TextField(validators=[*_TEXT_VALIDATORS, MaxLengthValidator(BODY_MAX_LENGTH)])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # Kept so the timeline still says who wrote it after the account is gone.
    author_email = models.CharField(max_length=254, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status} at {self.at:%Y-%m-%d %H:%M}"
