"""Unread counts and the list: notifications/selectors.py, and marking read:
notifications/services.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from notifications import selectors, services
from notifications.models import NotificationRead, ReadWatermark
from tests.notifications.events import failed_reconcile, good_reconcile, record
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor() -> Any:
    return OperatorFactory(email="actor@dezky.example")


@pytest.fixture
def reader() -> Any:
    return OperatorFactory(email="reader@dezky.example")


def suspensions(actor: Any, n: int) -> list[int]:
    return [record("tenant.suspended", actor=actor).id for _ in range(n)]


class TestCount:
    def test_counts_unread_notifications(self, actor, reader) -> None:
        suspensions(actor, 3)
        record("tenant.created", actor=actor)
        assert selectors.unread_count(reader) == 3

    def test_stops_counting_past_99(self, actor, reader) -> None:
        with mock.patch.object(selectors, "BATCH", 40):  # several batches, few events
            suspensions(actor, selectors.COUNT_CAP + 5)
            assert selectors.unread_count(reader) == selectors.COUNT_CAP + 1

    def test_predicates_run_over_the_batches(self, actor, reader) -> None:
        with mock.patch.object(selectors, "BATCH", 3):
            failing = [record("tenant.reconciled", actor=actor, metadata=failed_reconcile()).id]
            suspensions(actor, 4)
            record("tenant.reconciled", actor=actor, metadata=good_reconcile())
            assert selectors.unread_count(reader) == 5
            assert failing[0] in [n.id for n in selectors.notification_list(reader).items]

    def test_only_the_last_30_days(self, actor, reader) -> None:
        suspensions(actor, 2)
        later = timezone.now() + selectors.WINDOW + timedelta(minutes=1)
        with mock.patch.object(selectors.timezone, "now", return_value=later):
            assert selectors.unread_count(reader) == 0
            assert selectors.notification_list(reader).items == []

    @pytest.mark.parametrize("events", [1, 60])
    def test_costs_the_same_few_queries_whatever_there_is(
        self, actor, reader, events, django_assert_num_queries
    ) -> None:
        suspensions(actor, events)
        record("tenant.reconciled", actor=actor, metadata=failed_reconcile())
        services.notification_mark_read(user=reader, event_id=suspensions(actor, 1)[0])
        # the watermark, then one batch of candidates (reads excluded in the same query)
        with django_assert_num_queries(2):
            selectors.unread_count(reader)

    def test_flag_events_add_one_query_for_the_flags(
        self, actor, reader, django_assert_num_queries
    ) -> None:
        from flags import services as flag_services

        flag_services.flag_create(key="everywhere", actor=actor)
        flag_services.flag_update(key="everywhere", actor=actor, state="on")
        with django_assert_num_queries(3):
            assert selectors.unread_count(reader) == 1


class TestMarkOne:
    def test_marks_it_read_and_the_count_goes_down(self, actor, reader) -> None:
        first, second = suspensions(actor, 2)
        assert services.notification_mark_read(user=reader, event_id=first) is True
        assert selectors.unread_count(reader) == 1
        page = selectors.notification_list(reader)
        assert [(n.id, n.unread) for n in page.items] == [(second, True), (first, False)]
        assert page.unread == 1

    def test_twice_is_once(self, actor, reader) -> None:
        [event] = suspensions(actor, 1)
        services.notification_mark_read(user=reader, event_id=event)
        assert services.notification_mark_read(user=reader, event_id=event) is False
        assert NotificationRead.objects.filter(user=reader).count() == 1

    def test_below_the_watermark_stores_nothing(self, actor, reader) -> None:
        [event] = suspensions(actor, 1)
        services.notifications_mark_all_read(user=reader)
        assert services.notification_mark_read(user=reader, event_id=event) is False
        assert not NotificationRead.objects.filter(user=reader).exists()

    def test_is_per_operator(self, actor, reader) -> None:
        [event] = suspensions(actor, 1)
        services.notification_mark_read(user=reader, event_id=event)
        assert selectors.unread_count(OperatorFactory()) == 1


class TestMarkAll:
    def test_moves_the_watermark_to_what_was_shown(self, actor, reader) -> None:
        shown = suspensions(actor, 2)
        page = selectors.notification_list(reader)
        assert page.through == shown[-1]
        arrived_since = suspensions(actor, 1)
        assert services.notifications_mark_all_read(user=reader, through=page.through) == shown[-1]
        assert selectors.unread_count(reader) == 1
        assert [
            n.id for n in selectors.notification_list(reader).items if n.unread
        ] == arrived_since

    def test_without_through_marks_everything(self, actor, reader) -> None:
        suspensions(actor, 3)
        services.notifications_mark_all_read(user=reader)
        assert selectors.unread_count(reader) == 0

    def test_never_moves_back_nor_past_the_newest_event(self, actor, reader) -> None:
        events = suspensions(actor, 3)
        services.notifications_mark_all_read(user=reader, through=events[1])
        assert services.notifications_mark_all_read(user=reader, through=events[0]) == events[1]
        assert services.notifications_mark_all_read(user=reader, through=10**15) == events[2]
        assert ReadWatermark.objects.get(user=reader).read_through == events[2]

    def test_prunes_the_single_reads_it_passes(self, actor, reader) -> None:
        events = suspensions(actor, 3)
        for event in events:
            services.notification_mark_read(user=reader, event_id=event)
        services.notifications_mark_all_read(user=reader, through=events[1])
        assert list(
            NotificationRead.objects.filter(user=reader).values_list("event_id", flat=True)
        ) == [events[2]]
        assert selectors.unread_count(reader) == 0


class TestGet:
    def test_one_of_theirs(self, actor, reader) -> None:
        [event] = suspensions(actor, 1)
        assert selectors.notification_get(reader, event).title == "Tenant suspended"

    @pytest.mark.parametrize("which", ["own", "silent", "missing"])
    def test_anything_else_is_not_found(self, actor, reader, which) -> None:
        from core.errors import NotFound

        event = {
            "own": lambda: record("tenant.suspended", actor=reader).id,
            "silent": lambda: record("tenant.created", actor=actor).id,
            "missing": lambda: 987654,
        }[which]()
        with pytest.raises(NotFound):
            selectors.notification_get(reader, event)
