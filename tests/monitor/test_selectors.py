"""The cards' 24 hours: one bucket per hour, failures marked, said in words, and a
bounded number of queries however many results there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitor import selectors
from monitor.models import Component, ProbeResult

pytestmark = pytest.mark.django_db


def _result(hours_ago: float, ok: bool, error: str = "") -> None:
    ProbeResult.objects.create(
        component=Component.DATABASE, ok=ok, latency_ms=2, error=error,
        at=timezone.now() - timedelta(hours=hours_ago),
    )  # fmt: skip


def _card(component: str = Component.DATABASE) -> selectors.Card:
    return {c.component: c for c in selectors.infrastructure_cards()}[component]


def test_hour_buckets_mark_failures_and_say_them_in_words() -> None:
    now = timezone.localtime()
    for minutes in range(0, 60 * 23, 30):  # every half hour for the last 23 hours
        _result(minutes / 60, ok=True)
    _result(2.0, ok=False, error="could not connect to server")
    card = _card()
    assert len(card.buckets) == 24
    assert card.buckets[-1].start == now.replace(minute=0, second=0, microsecond=0)
    failed = [b for b in card.buckets if b.failed]
    assert len(failed) == 1 and failed[0].total >= 2
    assert card.state == "up"  # the latest probe was fine
    assert card.last_failure.error == "could not connect to server"
    assert card.chart_text.startswith(f"{sum(1 for b in card.buckets if b.total) - 1} of ")
    assert "last failure" in card.chart_text
    assert [b["state"] for b in card.chart_bars].count("down") == 1


def test_a_component_never_probed_says_so() -> None:
    card = _card()
    assert card.state == "unknown"
    assert card.chart_text == "No probe in the last 24 hours."
    assert {b["state"] for b in card.chart_bars} == {"none"}


def test_results_older_than_a_day_are_not_in_the_chart() -> None:
    _result(30, ok=False, error="long ago")
    card = _card()
    assert card.last_failure is None
    assert all(b.total == 0 for b in card.buckets)


def test_cards_take_a_fixed_number_of_queries(django_assert_max_num_queries) -> None:
    for hours in range(24):
        _result(hours, ok=hours % 5 != 0)
    # The buckets (1) and, per probed component, its latest result and latest failure.
    with django_assert_max_num_queries(5):
        selectors.infrastructure_cards()
