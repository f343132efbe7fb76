"""What each operator has read, kept small.

Notifications themselves are not stored: they are audit events that match a rule
(notifications/rules.py). What is stored is how far each operator has read:

- `ReadWatermark.read_through`: the highest event id "Mark all read" covered; every
  notification at or below it is read.
- `NotificationRead`: single notifications opened above the watermark. Rows at or
  below the watermark say nothing new and are deleted when it passes them, so the
  table holds at most the notifications someone opened since their last "Mark all".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReadWatermark(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    read_through = models.BigIntegerField(
        default=0, help_text="The highest audit event id marked read by Mark all read."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} read through {self.read_through}"


class NotificationRead(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The audit event's id, not a foreign key: the audit table is append-only and
    # owned elsewhere, and a read mark must never hold up anything there.
    event_id = models.BigIntegerField()
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event_id"], name="notification_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read event {self.event_id}"
