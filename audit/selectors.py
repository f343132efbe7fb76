"""Reading the audit log: filters, keyset pages, one event's place in the chain.

Pages are keyset pages over the id (events only ever get a larger id, so "newest
first" is `-id`): a page is "the 50 events before id N" or "after id N", never an
OFFSET, and nothing counts the whole table. Each filter is an indexed lookup
((action, id), (actor_email, id), (tenant_id, id), (target_type, target_id, id),
see migration 0010), so a page costs the same at the millionth event as at the
first.

TRICKY: text (`q`, and `target`, text in the target's name) cannot use an index.
A page with text looks at SEARCH_WINDOW events at most (an id range next to the
cursor) and says which ones it looked at; "Search older" moves the window on. A
rare word therefore never scans a million rows in one request. Exports are not
windowed: they read everything that matches, once, streamed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from audit import actions
from audit.models import AuditEvent
from core.errors import NotFound

PAGE_SIZE = 50
# TRICKY: a time range also narrows the ids, or "a month, half a year back, newest
# first" sorts every event of the month (seconds at a million). The ids of the first
# and last event of the range come from the `at` index (one row each); the page then
# walks the primary key between them, the exact `at` test still applied. An event's
# time is stamped once its append holds the chain's lock (audit.services.record), so
# time follows id; TIME_SKEW is slack for a clock that steps back (NTP).
TIME_SKEW = 1_000
SEARCH_WINDOW = 20_000
EXPORT_CHUNK = 2_000
_CURSOR = re.compile(r"^(n?)([1-9][0-9]{0,17})$")


@dataclass(frozen=True)
class Cursor:
    """A place in the log: events older than `id`, or (`newer`) newer than it.
    Written as "123" or "n123" in a URL."""

    id: int
    newer: bool = False

    @classmethod
    def parse(cls, value: str) -> Cursor | None:
        match = _CURSOR.match(value or "")
        if match is None:
            return None
        return cls(int(match.group(2)), newer=bool(match.group(1)))

    @property
    def token(self) -> str:
        return f"{'n' if self.newer else ''}{self.id}"

    def __str__(self) -> str:
        return self.token


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # an email, or "system" (events with no actor)
    action: str = ""  # one action code
    kind: str = ""  # a kind of action (actions.kinds()), e.g. "Tenants"
    tenant_id: int | None = None
    target_type: str = ""
    target_id: str = ""
    target: str = ""  # text in the target's name
    since: date | None = None
    until: date | None = None  # included
    q: str = ""  # text in the actor's email, the target's name or the action

    @property
    def has_text(self) -> bool:
        return bool(self.q or self.target)


def tenant_id_for(slug: str) -> int | None:
    """The id of the tenant with `slug` (deleted ones too: their events stay)."""
    from tenants.models import Tenant

    return Tenant.objects.filter(slug=slug).values_list("id", flat=True).first()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered_events(filters: AuditFilters, *, kind: bool = True) -> QuerySet[AuditEvent]:
    """Every event matching `filters`, unordered, text included (no window); without
    the kind's action IN (...) when `kind` is False (pages narrow by kind themselves)."""
    events = AuditEvent.objects.all()
    if filters.actor:
        events = events.filter(actor_email="" if filters.actor == "system" else filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    elif filters.kind and kind:
        events = events.filter(action__in=actions.codes_of_kind(filters.kind))
    if filters.tenant_id is not None:
        events = events.filter(tenant_id=filters.tenant_id)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    if filters.since:
        start = _day_start(filters.since)
        events = events.filter(at__gte=start)
        first = AuditEvent.objects.filter(at__gte=start).order_by("at")  # the index alone
        first_id = first.values_list("id", flat=True).first()
        events = events.filter(id__gte=first_id - TIME_SKEW) if first_id else events.none()
    if filters.until and filters.until < date.max:
        end = _day_start(filters.until + timedelta(days=1))
        events = events.filter(at__lt=end)
        last = AuditEvent.objects.filter(at__lt=end).order_by("-at")
        last_id = last.values_list("id", flat=True).first()
        events = events.filter(id__lte=last_id + TIME_SKEW) if last_id else events.none()
    if filters.target:
        events = events.filter(target_repr__icontains=filters.target)
    if filters.q:
        events = events.filter(
            Q(actor_email__icontains=filters.q)
            | Q(target_repr__icontains=filters.q)
            | Q(action__icontains=filters.q)
        )
    return events


@dataclass(frozen=True)
class AuditRow:
    """An event as a list shows it: the sentence, never the raw code."""

    event: AuditEvent
    sentence: str
    tone: str
    kind: str

    @property
    def url(self) -> str:
        return _url_of("audit:detail", "event_id", self.event.id)

    @property
    def tenant_url(self) -> str:
        tenant = self.event.tenant if self.event.tenant_id else None
        return _url_of("tenants:detail", "slug", tenant.slug) if tenant else ""


@functools.cache
def _url_pattern(name: str, kwarg: str) -> tuple[str, str]:
    # A page has 50 rows with two links each; reversing each cost more than the query.
    marker = "0" if kwarg == "event_id" else "x-marker-x"
    return tuple(reverse(name, kwargs={kwarg: marker}).rsplit(marker, 1))  # type: ignore[return-value]


def _url_of(name: str, kwarg: str, value: Any) -> str:
    before, after = _url_pattern(name, kwarg)
    return f"{before}{value}{after}"


def as_row(event: AuditEvent) -> AuditRow:
    action = actions.get(event.action)
    return AuditRow(
        event=event,
        sentence=actions.describe(event),
        tone=actions.tone(event.action),
        kind=action.kind if action else "Other",
    )


@dataclass
class AuditPage:
    rows: list[AuditRow]
    newest: bool  # the first page (no cursor)
    older: Cursor | None = None
    newer: Cursor | None = None
    # With text: the ids this page looked at ((low, high), both included), and whether
    # the window ran out before the page filled (so older or newer events were not searched).
    searched: tuple[int, int] | None = None
    window_ran_out: bool = False
    window: int = SEARCH_WINDOW
    notes: list[str] = field(default_factory=list)

    @property
    def events(self) -> list[AuditEvent]:
        return [row.event for row in self.rows]


def _head_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _slice(
    events: QuerySet[AuditEvent], *, after: int | None, before: int | None, size: int,
    newer: bool, codes: list[str] | None = None,
) -> tuple[list[AuditEvent], bool]:  # fmt: skip
    if after is not None:
        events = events.filter(id__gt=after)
    if before is not None:
        events = events.filter(id__lt=before)
    order = "id" if newer else "-id"
    if codes:
        # TRICKY: `action IN (...) ORDER BY id DESC LIMIT n` walks the primary key and
        # tests each row, which at a rare kind is the whole table. One short backward
        # scan of (action, id) per action, merged, then the page's rows by id.
        per_action = [
            events.filter(action=code).order_by(order).values_list("id", flat=True)[: size + 1]
            for code in codes
        ]
        events = AuditEvent.objects.filter(id__in=_merged_ids(per_action, size + 1, newer))
    ordered = events.select_related("tenant").order_by(order)
    rows = list(ordered[: size + 1])
    return rows[:size], len(rows) > size


def _merged_ids(parts: list[QuerySet[Any]], limit: int, newer: bool) -> list[int]:
    """The first `limit` ids of several sorted id queries, in one statement. (Django's
    union() refuses sliced parts on SQLite; each part wrapped as a subquery is fine
    on SQLite and PostgreSQL.)"""
    sqls, params = [], []
    for n, part in enumerate(parts):
        sql, part_params = part.query.get_compiler(using=part.db).as_sql()
        sqls.append(f"SELECT * FROM ({sql}) AS part{n}")  # noqa: S608 (Django-compiled, params apart)
        params.extend(part_params)
    direction = "ASC" if newer else "DESC"
    statement = f"{' UNION ALL '.join(sqls)} ORDER BY 1 {direction} LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def audit_page(
    filters: AuditFilters, cursor: Cursor | None = None, *, size: int = PAGE_SIZE,
    window: int = SEARCH_WINDOW,
) -> AuditPage:  # fmt: skip
    """One keyset page, newest first: the first page, or the page before/after `cursor`."""
    events = filtered_events(filters, kind=False)
    codes = actions.codes_of_kind(filters.kind) if filters.kind and not filters.action else None
    bounded = filters.has_text
    if cursor is not None and cursor.newer:
        return _newer_page(
            events, filters, cursor, size=size, window=window, bounded=bounded, codes=codes
        )
    start = cursor.id if cursor is not None else (_head_id() + 1 if bounded else None)
    floor = max(0, start - window - 1) if bounded and start is not None else None
    rows, more = _slice(events, after=floor, before=start, size=size, newer=False, codes=codes)
    page = AuditPage(rows=[as_row(e) for e in rows], newest=cursor is None, window=window)
    if more:
        page.older = Cursor(rows[-1].id)
    elif floor:  # the window ended above the first event: older ones are not searched yet
        page.older, page.window_ran_out = Cursor(floor + 1), True
    if cursor is not None:
        page.newer = Cursor((rows[0].id if rows else cursor.id - 1), newer=True)
    if bounded and start is not None:
        page.searched = ((floor or 0) + 1, start - 1)
    return page


def _newer_page(
    events: QuerySet[AuditEvent], filters: AuditFilters, cursor: Cursor, *, size: int,
    window: int, bounded: bool, codes: list[str] | None,
) -> AuditPage:  # fmt: skip
    ceiling = cursor.id + window + 1 if bounded else None
    rows, more = _slice(events, after=cursor.id, before=ceiling, size=size, newer=True, codes=codes)
    head = _head_id() if bounded and not more else 0
    if not more and not (bounded and ceiling is not None and ceiling <= head):
        # Nothing newer past this page: it is the newest page, shown whole.
        return audit_page(filters, None, size=size, window=window)
    rows.reverse()
    page = AuditPage(rows=[as_row(e) for e in rows], newest=False, window=window)
    if more:
        page.newer = Cursor(rows[0].id, newer=True)
    else:  # the window ran out below the head: newer events are not searched yet
        page.newer, page.window_ran_out = Cursor((ceiling or 1) - 1, newer=True), True
    page.older = Cursor(rows[-1].id if rows else cursor.id + 1)
    if bounded and ceiling is not None:
        page.searched = (cursor.id + 1, ceiling - 1)
    return page


def export_events(filters: AuditFilters, *, chunk: int = EXPORT_CHUNK) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read in keyset chunks of `chunk` rows so an
    export of a million events holds one chunk in memory (and no long cursor open)."""
    events = filtered_events(filters).select_related("tenant")
    before: int | None = None
    while True:
        batch = events if before is None else events.filter(id__lt=before)
        rows = list(batch.order_by("-id")[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        before = rows[-1].id


def export_estimate(filters: AuditFilters, *, cap: int = 1_000_000) -> int:
    """How many events an export will hold, counted up to `cap` (for its progress bar)."""
    return filtered_events(filters).order_by()[:cap].count()


# --------------------------------------------------------------- one event --


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class EventDetail:
    row: AuditRow
    position: int  # 1-based place in the chain
    previous_id: int | None
    next_id: int | None
    changes: list[ChangeRow]


def event_changes(metadata: Any) -> list[ChangeRow]:
    """Before/after pairs from an event's metadata: `changes` as core.changes writes it
    ({field: {"before", "after"}}) or as [before, after] pairs, or a `before` snapshot
    (a deleted thing: every field goes to nothing)."""
    if not isinstance(metadata, dict):
        return []
    changes = metadata.get("changes")
    found: list[ChangeRow] = []
    if isinstance(changes, dict):
        for name, change in sorted(changes.items()):
            if isinstance(change, dict) and ("before" in change or "after" in change):
                found.append(ChangeRow(str(name), change.get("before"), change.get("after")))
            elif isinstance(change, list | tuple) and len(change) == 2:
                found.append(ChangeRow(str(name), change[0], change[1]))
    before = metadata.get("before")
    if not found and isinstance(before, dict):
        after = metadata.get("after") if isinstance(metadata.get("after"), dict) else {}
        for name in sorted(set(before) | set(after)):
            found.append(ChangeRow(str(name), before.get(name), after.get(name)))
    return found


def chain_position(event: AuditEvent) -> int:
    """How many events have an id up to this one's (an index-only count)."""
    return AuditEvent.objects.filter(id__lte=event.id).count()


def event_detail(*, event_id: int) -> EventDetail:
    event = AuditEvent.objects.select_related("tenant").filter(id=event_id).first()
    if event is None:
        raise NotFound(f"No audit event has the id {event_id}.", field="id")
    ids = AuditEvent.objects.values_list("id", flat=True)
    return EventDetail(
        row=as_row(event),
        position=chain_position(event),
        previous_id=ids.filter(id__lt=event.id).order_by("-id").first(),
        next_id=ids.filter(id__gt=event.id).order_by("id").first(),
        changes=event_changes(event.metadata),
    )
