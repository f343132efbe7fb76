from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit import selectors
from audit.models import AuditEvent
from audit.selectors import AuditFilters, Cursor
from tests.audit.factories import SAMPLE, event, events
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _freeze_event_time(monkeypatch, now) -> None:
    # record() stamps the time once it holds the chain's lock, with audit.services'
    # own reference to django.utils.timezone.
    from types import SimpleNamespace

    from audit import services as audit_services

    monkeypatch.setattr(audit_services, "timezone", SimpleNamespace(now=now))


def _ids(page: selectors.AuditPage) -> list[int]:
    return [e.id for e in page.events]


def _flat(pages: list[list[int]]) -> list[int]:
    return [i for page in pages for i in page]


def _all_pages(filters: AuditFilters, size: int, **kw) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = selectors.audit_page(filters, cursor, size=size, **kw)
        pages.append(_ids(page))
        if page.older is None:
            return pages
        cursor = page.older


class TestKeysetPages:
    def test_pages_walk_every_event_once_newest_first_even_with_equal_timestamps(
        self, monkeypatch
    ) -> None:
        same = timezone.now()
        _freeze_event_time(monkeypatch, lambda: same)  # every event at the same instant
        made = [e.id for e in events(23)]
        pages = _all_pages(SAMPLE, size=5)
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
        assert _flat(pages) == sorted(made, reverse=True)
        assert AuditEvent.objects.filter(at=same).count() == 23

    def test_newer_goes_back_to_the_same_page(self) -> None:
        events(12)
        first = selectors.audit_page(SAMPLE, size=5)
        second = selectors.audit_page(SAMPLE, first.older, size=5)
        third = selectors.audit_page(SAMPLE, second.older, size=5)
        assert first.newer is None and first.newest
        back = selectors.audit_page(SAMPLE, third.newer, size=5)
        assert _ids(back) == _ids(second)
        # From the second page, Newer is the newest page, whole.
        top = selectors.audit_page(SAMPLE, second.newer, size=5)
        assert _ids(top) == _ids(first) and top.newest

    def test_the_last_page_has_no_older_link(self) -> None:
        events(3)
        page = selectors.audit_page(SAMPLE, size=5)
        assert page.older is None and page.newer is None

    def test_a_cursor_past_the_end_is_an_empty_page_with_a_way_back(self) -> None:
        made = events(3)
        page = selectors.audit_page(SAMPLE, Cursor(made[0].id), size=5)
        assert page.rows == [] and page.older is None and page.newer is not None


class TestCursor:
    @pytest.mark.parametrize("value", ["", "0", "-4", "abc", "n", "12a", "1" * 30, "n0", "1\x00"])
    def test_garbage_is_not_a_cursor(self, value: str) -> None:
        assert Cursor.parse(value) is None

    def test_tokens_round_trip(self) -> None:
        assert Cursor.parse("42") == Cursor(42)
        assert Cursor.parse("n42") == Cursor(42, newer=True)
        assert Cursor(42, newer=True).token == "n42"


class TestFilters:
    def test_actor_by_email_and_system(self) -> None:
        ops = OperatorFactory(email="ops@northwind.example")
        mine = event(actor=ops)
        system = event()
        assert _ids(selectors.audit_page(AuditFilters(actor="ops@northwind.example"))) == [mine.id]
        assert system.id in _ids(selectors.audit_page(AuditFilters(actor="system")))
        assert mine.id not in _ids(selectors.audit_page(AuditFilters(actor="system")))

    def test_action_and_kind(self) -> None:
        suspended = event("tenant.suspended")
        flag = event("flag.created", target_type="flag", target_id="sample-flag")
        assert _ids(selectors.audit_page(AuditFilters(action="tenant.suspended"))) == [suspended.id]
        assert _ids(selectors.audit_page(AuditFilters(kind="Flags")))[0] == flag.id
        assert suspended.id not in _ids(selectors.audit_page(AuditFilters(kind="Flags")))
        assert suspended.id in _ids(selectors.audit_page(AuditFilters(kind="Tenants")))

    def test_tenant(self) -> None:
        acme, other = TenantFactory(), TenantFactory()
        mine = event(tenant=acme)
        event(tenant=other)
        assert _ids(selectors.audit_page(AuditFilters(tenant_id=acme.id))) == [mine.id]
        assert selectors.tenant_id_for(acme.slug) == acme.id
        assert selectors.tenant_id_for("no-such-tenant") is None

    def test_target_type_id_and_name(self) -> None:
        flag = event("flag.updated", target_type="flag", target_id="s7", target_repr="Sample SSO")
        event("flag.updated", target_type="flag", target_id="s8", target_repr="Sample Login")
        by_id = AuditFilters(target_type="flag", target_id="s7")
        assert _ids(selectors.audit_page(by_id)) == [flag.id]
        assert _ids(selectors.audit_page(AuditFilters(target="sample sso"))) == [flag.id]

    def test_time_range_includes_both_days(self, monkeypatch) -> None:
        base = timezone.now().replace(hour=12)
        made = {}
        for days in (3, 2, 1, 0):  # oldest first, as events are written
            _freeze_event_time(monkeypatch, lambda d=days: base - timedelta(days=d))
            made[days] = event().id
        today = base.date()
        filters = AuditFilters(since=today - timedelta(days=2), until=today - timedelta(days=1))
        assert _ids(selectors.audit_page(filters)) == [made[1], made[2]]
        everything = AuditFilters(target_type="sample", until=date.max)
        assert _ids(selectors.audit_page(everything)) == [made[0], made[1], made[2], made[3]]

    def test_free_text_in_actor_target_and_action(self) -> None:
        ops = OperatorFactory(email="harbour@northwind.example")
        by_actor = event(actor=ops)
        by_target = event(target_repr="Harbourview Dental")
        by_action = event("flag.killed", target_repr="x")
        event(target_repr="Unrelated")
        assert set(_ids(selectors.audit_page(AuditFilters(q="harbour")))) == {
            by_actor.id,
            by_target.id,
        }
        assert _ids(selectors.audit_page(AuditFilters(q="killed"))) == [by_action.id]


class TestTextSearchWindow:
    def test_a_rare_word_is_searched_a_window_at_a_time(self) -> None:
        needle = event(target_repr="Needle Works")
        events(9)
        filters = AuditFilters(q="needle")
        first = selectors.audit_page(filters, size=5, window=4)
        assert first.rows == [] and first.window_ran_out and first.older is not None
        assert first.searched is not None and first.searched[1] - first.searched[0] == 3
        # Moving the window on finds it, and every window together covers the log once.
        found = _flat(_all_pages(filters, 5, window=4))
        assert found == [needle.id]

    def test_newer_windows_come_back_up(self) -> None:
        events(10)
        filters = AuditFilters(q="sample")
        seen = _flat(_all_pages(filters, 3, window=4))
        assert sorted(seen, reverse=True) == seen
        last = selectors.audit_page(filters, Cursor(seen[-1]), size=3, window=4)
        up = selectors.audit_page(filters, last.newer, size=3, window=4)
        assert up.events and all(e.id >= seen[-1] for e in up.events)


class TestExport:
    def test_exports_read_every_match_in_chunks_newest_first(self) -> None:
        made = [e.id for e in events(7)]
        assert [e.id for e in selectors.export_events(SAMPLE, chunk=3)] == made[::-1]
        assert selectors.export_estimate(SAMPLE) == 7
        assert selectors.export_estimate(SAMPLE, cap=5) == 5


class TestEventDetail:
    def test_place_in_the_chain_and_neighbours(self) -> None:
        a, b, c = events(3)
        detail = selectors.event_detail(event_id=b.id)
        assert detail.position == AuditEvent.objects.filter(id__lte=b.id).count()
        assert (detail.previous_id, detail.next_id) == (a.id, c.id)

    def test_changes_in_every_shape(self) -> None:
        dicts = {"changes": {"plan": {"before": "starter", "after": "business"}}}
        pairs = {"changes": {"name": ["Old", "New"]}}
        snapshot = {"before": {"key": "saml_sso", "pct": 10}}
        assert [(c.field, c.before, c.after) for c in selectors.event_changes(dicts)] == [
            ("plan", "starter", "business")
        ]
        assert [(c.before, c.after) for c in selectors.event_changes(pairs)] == [("Old", "New")]
        assert [(c.field, c.before, c.after) for c in selectors.event_changes(snapshot)] == [
            ("key", "saml_sso", None),
            ("pct", 10, None),
        ]
        assert selectors.event_changes({"reason": "x"}) == []
        assert selectors.event_changes("not a dict") == []
