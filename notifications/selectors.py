"""Reads: an operator's notifications and how many are unread.

Bounded work whatever the size of the audit log:
- only events of the last WINDOW (30 days) are looked at;
- the database filters by action (and a rule's `narrow`), by the window, by the
  operator's watermark and read marks, and drops the operator's own events;
- what is left is read newest first in batches of BATCH and passed through the
  rules' predicates, stopping at what is asked for (COUNT_CAP + 1 for the count)
  or after SCAN_LIMIT events.

The count is 2 queries in the usual case (watermark, one batch), one more when the
batch holds flag events (the flags as they are now) and one more when it holds change
requests waiting for approval (which of them are still open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.timesince import timesince

from audit import actions
from audit.models import AuditEvent
from core.errors import NotFound
from notifications import rules
from notifications.models import NotificationRead, ReadWatermark

WINDOW = timedelta(days=30)
COUNT_CAP = 99  # shown as "99+" above this
BATCH = 200
SCAN_LIMIT = 2000
LIST_SIZE = 50
_FIELDS = ("id", "at", "actor_email", "action", "target_type", "target_id", "target_repr")


@dataclass(frozen=True)
class Notification:
    id: int
    title: str
    text: str
    tone: str
    icon: str
    at: datetime
    url: str
    unread: bool

    @property
    def ago(self) -> str:
        """ "just now", "5 minutes ago", "2 days, 3 hours ago"."""
        if timezone.now() - self.at < timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.at)} ago"


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    unread: int  # among `items`
    through: int  # the newest id shown: what "Mark all read" covers


def window_start() -> datetime:
    return timezone.now() - WINDOW


def read_through(user: Any) -> int:
    found = ReadWatermark.objects.filter(user=user).values_list("read_through", flat=True)
    return next(iter(found), 0)


def _notifying(user: Any) -> QuerySet[AuditEvent]:
    """Events that may notify `user`: rule actions in the window, not their own."""
    # TRICKY: the window is applied as an id floor (the first event at or after its
    # start; ids only grow, like `at`), so the database can walk the (action, id)
    # index alone; filtering on `at` as well made PostgreSQL intersect 30 days of the
    # `at` index (about 80,000 entries at a million events) on every poll.
    floor = AuditEvent.objects.filter(at__gte=window_start()).order_by("at", "id").values("id")
    return (
        AuditEvent.objects.filter(rules.candidates(), id__gte=Subquery(floor[:1]))
        .exclude(actor_id=user.pk)
        .only(*_FIELDS, "metadata", "tenant_id")
    )


def _scan(
    events: QuerySet[AuditEvent], *, limit: int, links: bool
) -> list[tuple[AuditEvent, rules.Rule, rules.Lookups]]:
    found: list[tuple[AuditEvent, rules.Rule, rules.Lookups]] = []
    scanned, before = 0, None
    while len(found) < limit and scanned < SCAN_LIMIT:
        page = events if before is None else events.filter(id__lt=before)
        batch = list(page.order_by("-id")[:BATCH])
        if not batch:
            break
        lookups = rules.Lookups.for_events(batch, links=links)
        for event in batch:
            rule = rules.rule_for(event.action)
            if rule is not None and rule.applies(event, lookups):
                found.append((event, rule, lookups))
                if len(found) == limit:
                    break
        scanned += len(batch)
        if len(batch) < BATCH:
            break
        before = batch[-1].id
    return found


def unread_count(user: Any) -> int:
    """Unread notifications of `user`, counted up to COUNT_CAP + 1 ("99+")."""
    watermark = read_through(user)
    reads = NotificationRead.objects.filter(user=user).values("event_id")
    unread = _notifying(user).filter(id__gt=watermark).exclude(id__in=reads)
    return len(_scan(unread, limit=COUNT_CAP + 1, links=False))


def notification_list(user: Any, *, limit: int = LIST_SIZE) -> NotificationPage:
    """The newest notifications of `user`, read and unread, newest first."""
    watermark = read_through(user)
    read_ids = set(
        NotificationRead.objects.filter(user=user, event_id__gt=watermark).values_list(
            "event_id", flat=True
        )
    )
    items = [
        _notification(
            event, rule, lookups, unread=event.id > watermark and event.id not in read_ids
        )
        for event, rule, lookups in _scan(_notifying(user), limit=limit, links=True)
    ]
    return NotificationPage(
        items=items,
        unread=sum(1 for n in items if n.unread),
        through=max((n.id for n in items), default=0),
    )


def notification_get(user: Any, event_id: int) -> Notification:
    """One notification of `user`; NotFound when the event is none of theirs (not a
    notifying event, their own, older than the window or not there at all)."""
    event = _notifying(user).filter(id=event_id).first()
    rule = rules.rule_for(event.action) if event is not None else None
    if event is not None and rule is not None:
        lookups = rules.Lookups.for_events([event], links=True)
        if rule.applies(event, lookups):
            return _notification(event, rule, lookups, unread=False)
    raise NotFound(f"There is no notification {event_id} for you.", field="event_id")


def _notification(
    event: AuditEvent, rule: rules.Rule, lookups: rules.Lookups, *, unread: bool
) -> Notification:
    return Notification(
        id=event.id,
        title=rule.title,
        text=actions.describe(event),
        tone=rule.shown_tone,
        icon=rule.icon,
        at=event.at,
        url=rule.link(event, lookups),
        unread=unread,
    )
