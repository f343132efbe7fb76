"""The flags page's Stale view, the row's last evaluation and the panel's Evaluations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from flags.models import Flag, FlagEvaluationDay
from tests.flags.factories import FlagFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "flag-results"}


def old_flag(key: str) -> Flag:
    flag = FlagFactory(key=key)
    Flag.objects.filter(pk=flag.pk).update(created_at=timezone.now() - timedelta(days=90))
    return flag


def counted(key: str, age_days: int, on: int = 0, off: int = 0) -> None:
    FlagEvaluationDay.objects.create(
        key=key,
        day=timezone.now().date() - timedelta(days=age_days),
        on_count=on,
        off_count=off,
        last_evaluated_at=timezone.now() - timedelta(days=age_days, minutes=5),
    )


@pytest.fixture
def flags_with_counts():
    old_flag("forgotten_switch")  # never evaluated
    old_flag("sso_login")
    counted("sso_login", 0, on=30)  # always on
    old_flag("new_billing")
    counted("new_billing", 1, on=3, off=1)  # decides something
    counted("new_billing", 40, on=1, off=1)  # counts reach past the window


def row_keys(html: str) -> list[str]:
    return re.findall(r'data-flag-row="([a-z0-9_]+)"', html)


class TestStaleView:
    def test_the_stale_view_is_a_whole_page_with_only_stale_flags(
        self, operator_client, flags_with_counts
    ) -> None:
        response = operator_client.get(reverse("flags:list"), {"view": "stale"})
        assert response.status_code == 200
        html = response.text
        assert "<html" in html
        assert row_keys(html) == ["forgotten_switch", "sso_login"]
        assert "Always on for 30 days" in html
        assert "Never evaluated" in html
        assert re.search(r'data-testid="chip-stale"\s+aria-current="true"', html)
        assert 'data-testid="stale-hint"' in html

    def test_chips_count_every_flag_and_the_stale_ones(
        self, operator_client, flags_with_counts
    ) -> None:
        html = operator_client.get(reverse("flags:list")).text
        counts = re.findall(
            r'data-testid="chip-(all|stale)".*?data-testid="chip-count">(\d+)<', html, re.S
        )
        assert dict(counts) == {"all": str(Flag.objects.count()), "stale": "2"}
        assert "new_billing" in row_keys(html)  # All shows every flag

    def test_a_chip_swap_answers_the_results_only(self, operator_client, flags_with_counts):
        response = operator_client.get(reverse("flags:list"), {"view": "stale"}, **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert row_keys(response.text) == ["forgotten_switch", "sso_login"]

    def test_search_keeps_the_view(self, operator_client, flags_with_counts) -> None:
        response = operator_client.get(reverse("flags:list"), {"view": "stale", "q": "sso"})
        assert row_keys(response.text) == ["sso_login"]
        assert 'name="view" value="stale"' in response.text  # the search form sends it

    def test_an_unknown_view_is_every_flag(self, operator_client, flags_with_counts) -> None:
        response = operator_client.get(reverse("flags:list"), {"view": "<script>"})
        assert response.status_code == 200
        assert len(row_keys(response.text)) == Flag.objects.count()

    def test_before_the_counts_cover_the_window_it_says_so(self, operator_client) -> None:
        old_flag("forgotten_switch")
        response = operator_client.get(reverse("flags:list"), {"view": "stale"})
        assert 'data-testid="stale-not-yet"' in response.text
        assert row_keys(response.text) == []
        assert "No stale flags." in response.text

    def test_rows_say_when_the_flag_was_last_evaluated(
        self, operator_client, flags_with_counts
    ) -> None:
        html = operator_client.get(reverse("flags:list")).text
        row = html[html.index('data-flag-row="sso_login"') :]
        row = row[: row.index("</tr>")]
        assert re.search(r"evaluated <time[^>]*>5\xa0minutes ago</time>", row)
        never = html[html.index('data-flag-row="forgotten_switch"') :]
        assert "no evaluations recorded" in never[: never.index("</tr>")]


class TestPanel:
    def test_the_panel_shows_the_shares_of_on(self, operator_client, flags_with_counts) -> None:
        html = operator_client.get(reverse("flags:detail", args=["new_billing"])).text
        section = html[html.index('data-testid="flag-evaluations"') :]
        section = section[: section.index("</section>")]
        assert "Last evaluated" in section
        assert re.search(r'evaluations-7d">75 % on <span class="faint">\(3 on, 1 off\)', section)
        assert re.search(r'evaluations-30d">75 % on', section)
        assert "60 s" in section  # how far behind the counts may be

    def test_a_flag_without_counts_says_none_are_recorded(self, operator_client) -> None:
        FlagFactory(key="brand_new")
        response = operator_client.get(reverse("flags:detail", args=["brand_new"]), **{
            "HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "flag-panel"
        })  # fmt: skip
        assert response.status_code == 200
        assert "No evaluations recorded." in response.text
