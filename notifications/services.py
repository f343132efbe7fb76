"""Writes: marking notifications read.

Reading a notification is an operator's own bookkeeping, not an action on the
platform, so nothing here is recorded in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from audit.models import AuditEvent
from notifications.models import NotificationRead, ReadWatermark


@transaction.atomic
def notification_mark_read(*, user: Any, event_id: int) -> bool:
    """Mark one notification read; False when it already was."""
    watermark = ReadWatermark.objects.filter(user=user).values_list("read_through", flat=True)
    if event_id <= next(iter(watermark), 0):
        return False
    _, created = NotificationRead.objects.get_or_create(user=user, event_id=event_id)
    return created


@transaction.atomic
def notifications_mark_all_read(*, user: Any, through: int | None = None) -> int:
    """Everything up to event `through` (the newest the operator was shown; default:
    the newest there is) becomes read. The watermark only moves forward, and the
    single read marks it passes are deleted. Returns the watermark."""
    newest = AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    through = newest if through is None else min(through, newest)
    mark, _ = ReadWatermark.objects.select_for_update().get_or_create(user=user)
    if through > mark.read_through:
        mark.read_through = through
        mark.save(update_fields=["read_through", "updated_at"])
    NotificationRead.objects.filter(user=user, event_id__lte=mark.read_through).delete()
    return mark.read_through
