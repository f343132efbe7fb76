from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from core.validators import validate_slug, validate_string_list
from tenants.models import Plan

FLAG_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
HISTORY_KEPT = 20
SCOPE_AXES = ("plans", "tenant_slugs", "partner_slugs", "environments")

validate_flag_key = RegexValidator(
    FLAG_KEY_PATTERN,
    "Use 2-63 characters: a lower-case letter, then lower-case letters, digits or underscores.",
    code="invalid_flag_key",
)


class FlagState(models.TextChoices):
    OFF = "off", "Off"
    ON = "on", "On"
    TARGETED = "targeted", "Targeted"
    ROLLOUT = "rollout", "Rollout"


class Flag(models.Model):
    """A feature flag; the rules that read it are in flags/engine.py and nowhere else."""

    key = models.CharField(max_length=63, unique=True, validators=[validate_flag_key])
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=FlagState.choices, default=FlagState.OFF)
    pct = models.PositiveSmallIntegerField(
        "rollout %",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of in-scope tenants that get the flag; used only by rollout.",
    )
    # The four allowlists of the scope; an empty list means the axis is not used.
    scope_plans = models.JSONField(
        default=list,
        blank=True,
        validators=[partial(validate_string_list, allowed=set(Plan.values))],
    )
    scope_tenant_slugs = models.JSONField(
        default=list, blank=True, validators=[partial(validate_string_list, item=validate_slug)]
    )
    scope_partner_slugs = models.JSONField(
        default=list, blank=True, validators=[partial(validate_string_list, item=validate_slug)]
    )
    scope_environments = models.JSONField(
        default=list,
        blank=True,
        validators=[partial(validate_string_list, allowed=set(settings.ENVIRONMENTS))],
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every change; a write based on an older one is refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pct__gte=0, pct__lte=100), name="flag_pct_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=FlagState.values), name="flag_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def scope(self) -> dict[str, list[str]]:
        return {axis: list(getattr(self, f"scope_{axis}")) for axis in SCOPE_AXES}


class FlagChange(models.Model):
    """One entry of a flag's history; only the newest HISTORY_KEPT per flag are kept
    (the audit log keeps every change for good)."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, help_text='{"field": {"before": ..., "after": ...}}')

    class Meta:
        ordering = ["-at", "-id"]
        get_latest_by = "at"

    def __str__(self) -> str:
        return f"{self.flag.key} by {self.actor_email or 'system'} at {self.at:%Y-%m-%d %H:%M}"


class RetiredFlagKey(models.Model):
    """A deleted flag's key. Keys are never reused: a service that still asks for the
    old flag must not silently get a new one with different rules."""

    key = models.CharField(max_length=63, unique=True)
    retired_at = models.DateTimeField(auto_now_add=True)
    retired_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
