"""Stale flags in a real browser: the Stale chip swaps the list and pushes a URL
whose reload is the same page, the row says why the flag is stale, the panel shows
its evaluations, and the page passes axe, at desktop width and at 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core import versions
from flags.models import Flag, FlagEvaluationDay
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stale_page(new_page, live_server):
    operator = User.objects.create_user(
        "stale-ops@northwind.example", None, name="Pat Rivera", platform_admin=True
    )
    long_ago = timezone.now() - timedelta(days=90)
    for key in ("sso_login", "forgotten_switch"):
        Flag.objects.create(key=key, state="on")
    Flag.objects.filter(key__in=["sso_login", "forgotten_switch"]).update(created_at=long_ago)
    today = timezone.now().date()
    FlagEvaluationDay.objects.create(
        key="sso_login", day=today, on_count=42, last_evaluated_at=timezone.now()
    )
    FlagEvaluationDay.objects.create(
        key="sso_login", day=today - timedelta(days=40), on_count=3, off_count=1,
        last_evaluated_at=timezone.now() - timedelta(days=40),
    )  # fmt: skip
    versions.bump("flags")
    return signed_in_opener(new_page, live_server, operator), live_server.url


@pytest.mark.parametrize("width", [1280, 390])
def test_the_stale_view_and_a_flags_evaluations(stale_page, screenshot_dir, width) -> None:
    require_axe()
    open_page, base = stale_page
    page = open_page(bypass_csp=True, viewport={"width": width, "height": 900})
    page.goto(f"{base}/flags/")
    page.get_by_test_id("chip-stale").click()
    expect(page).to_have_url(f"{base}/flags/?view=stale")
    rows = page.locator("#flag-rows tr.flag-row")
    expect(rows).to_have_count(2)
    expect(page.locator("#flag-row-sso_login").get_by_test_id("stale-badge")).to_have_text(
        "Always on for 30 days"
    )
    expect(page.locator("#flag-row-forgotten_switch").get_by_test_id("stale-badge")).to_have_text(
        "Never evaluated"
    )
    page.reload()
    expect(page.locator("#flag-rows tr.flag-row")).to_have_count(2)
    expect(page.get_by_test_id("chip-stale")).to_have_attribute("aria-current", "true")

    page.locator("#flag-link-sso_login").click()
    section = page.get_by_test_id("flag-evaluations")
    expect(section.get_by_test_id("evaluations-7d")).to_contain_text("100 % on")
    page.screenshot(path=str(screenshot_dir / f"flags-stale-{width}.png"), full_page=True)
    assert serious_violations(page, "#flag-results") == []
    assert serious_violations(page, "#flag-panel") == []
