"""Which flags are stale: each rule, and the cases that must not be called stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flags import staleness
from flags.models import Flag, FlagEvaluationDay
from tests.flags.factories import FlagFactory

pytestmark = pytest.mark.django_db


def old_flag(key: str, age_days: int = 60) -> Flag:
    flag = FlagFactory(key=key)
    Flag.objects.filter(pk=flag.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return flag


def counted(key: str, age_days: int, on: int = 0, off: int = 0) -> None:
    day = timezone.now().date() - timedelta(days=age_days)
    FlagEvaluationDay.objects.create(
        key=key,
        day=day,
        on_count=on,
        off_count=off,
        last_evaluated_at=timezone.now() - timedelta(days=age_days),
    )


@pytest.fixture
def counting_for_long():
    """Counts reach back past the window (another flag was counted 40 days ago)."""
    counted("counted_long_ago", 40, on=1, off=1)


def verdicts() -> dict[str, tuple[str, str]]:
    return {f.key: (f.stale_reason, f.stale_label) for f in staleness.stale_flags()}


@pytest.mark.usefixtures("counting_for_long")
class TestRules:
    def test_only_on_in_the_window_is_always_on(self) -> None:
        old_flag("sso_login")
        counted("sso_login", 3, on=120)
        counted("sso_login", 20, on=40)
        assert verdicts()["sso_login"] == (staleness.ALWAYS_ON, "Always on for 30 days")

    def test_only_off_in_the_window_is_always_off(self) -> None:
        old_flag("legacy_export")
        counted("legacy_export", 1, off=9)
        assert verdicts()["legacy_export"] == (staleness.ALWAYS_OFF, "Always off for 30 days")

    def test_answers_before_the_window_do_not_count(self) -> None:
        old_flag("beta_ui")
        counted("beta_ui", 45, on=10)  # it used to be on, before the window
        counted("beta_ui", 5, off=10)
        assert verdicts()["beta_ui"][0] == staleness.ALWAYS_OFF

    def test_both_answers_in_the_window_is_not_stale(self) -> None:
        old_flag("new_billing")
        counted("new_billing", 2, on=5, off=95)
        assert "new_billing" not in verdicts()

    def test_no_count_at_all_is_never_evaluated(self) -> None:
        old_flag("forgotten_switch")
        assert verdicts()["forgotten_switch"] == (staleness.NEVER_EVALUATED, "Never evaluated")

    def test_counts_only_before_the_window_is_not_evaluated_lately(self) -> None:
        old_flag("quiet_switch")
        counted("quiet_switch", 35, on=3, off=3)
        assert verdicts()["quiet_switch"] == (
            staleness.NOT_EVALUATED,
            "Not evaluated for 30 days",
        )

    def test_a_flag_younger_than_the_window_is_not_stale(self) -> None:
        old_flag("fresh_never", age_days=10)
        old_flag("fresh_always_on", age_days=29)
        counted("fresh_always_on", 1, on=50)
        found = verdicts()
        assert "fresh_never" not in found
        assert "fresh_always_on" not in found

    def test_the_window_follows_the_setting(self, settings) -> None:
        settings.FLAG_STALE_DAYS = 7
        old_flag("sso_login", age_days=8)
        counted("sso_login", 1, on=4)
        counted("sso_login", 10, off=4)  # outside the 7 days
        assert verdicts()["sso_login"] == (staleness.ALWAYS_ON, "Always on for 7 days")


def test_nothing_is_stale_before_the_counts_cover_the_window() -> None:
    old_flag("forgotten_switch")
    old_flag("sso_login")
    counted("sso_login", 3, on=10)  # counting began 3 days ago
    assert verdicts() == {}
    counted("other_flag", 29, on=1)  # now the counts reach the window's first day
    assert set(verdicts()) == {"forgotten_switch", "sso_login"}


def test_nothing_is_stale_with_no_counts_at_all() -> None:
    old_flag("forgotten_switch")
    assert staleness.counting_since() is None
    assert verdicts() == {}


@pytest.mark.usefixtures("counting_for_long")
def test_view_counts_follow_the_search() -> None:
    old_flag("forgotten_switch")
    old_flag("sso_login")
    counted("sso_login", 2, on=1, off=1)
    every = Flag.objects.count()
    assert staleness.view_counts() == {"": every, "stale": 1}
    assert staleness.view_counts(search="sso_login") == {"": 1, "stale": 0}


class TestSummary:
    def test_shares_of_the_last_7_and_30_days(self) -> None:
        counted("sso_login", 0, on=3, off=1)
        counted("sso_login", 10, on=0, off=4)
        counted("sso_login", 40, on=100)  # past both windows
        summary = staleness.evaluation_summary(key="sso_login")
        seven, thirty = summary.shares
        assert (seven.on, seven.off, seven.on_percent) == (3, 1, 75)
        assert (thirty.on, thirty.off, thirty.on_percent) == (3, 5, 38)
        assert summary.last_evaluated_at.date() == timezone.now().date()

    def test_no_counts(self) -> None:
        summary = staleness.evaluation_summary(key="sso_login")
        assert summary.last_evaluated_at is None
        assert [s.on_percent for s in summary.shares] == [None, None]
