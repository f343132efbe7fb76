from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"

validate_action = RegexValidator(
    ACTION_PATTERN, "Use a dotted verb such as tenant.suspended.", code="invalid_action"
)


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")

    # Django's bulk paths bypass save(); only audit.record() may write.
    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be changed.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are written one at a time by audit.record().")


class AuditEvent(models.Model):
    """One thing that happened, append-only and chained to the event before it.

    Actor and tenant are kept as snapshots (email, readable target) so an event
    still reads right after the user or tenant is gone; the foreign keys carry
    no database constraint, so deleting either never touches this table.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Empty for the system.")
    actor_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=100, validators=[validate_action], db_index=True)
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_repr = models.CharField("target", max_length=300, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    metadata = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    # Which chain key signed `hash` (see audit.chain); empty for events written before
    # the chain was keyed, whose hash is a plain SHA-256.
    key_id = models.CharField(max_length=16, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["tenant", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_email or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def actor_label(self) -> str:
        return self.actor_email or "system"


class ChainVerification(models.Model):
    """One run of the chain check (command, page or schedule): what the audit page's
    status card shows. Kept beside the log, not in it: a verification is not an
    action on the platform, and the failing ones are also recorded as events."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Empty for the system.")
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    broken_event_id = models.BigIntegerField(null=True, blank=True)
    checkpoint_count = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The count of the checkpoint the chain was held to."
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'intact' if self.ok else 'broken'} ({self.checked})"
