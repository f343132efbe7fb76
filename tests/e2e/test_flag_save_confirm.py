"""A save that turns tenants on in prod, in a real browser: the panel shows the diff
and who flips before anything is written, "Back to editing" keeps what was typed,
"Save anyway" saves; the confirmation passes axe in both themes, works on a phone's
width and without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from core import versions
from flags.models import Flag, FlagState
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "dmarc_reports"


@pytest.fixture
def open_page(new_page, live_server):
    """Pages signed in as an operator, on a platform of five live tenants, three of
    them on the business plan."""
    operator = User.objects.create_user(
        "flags-confirm@northwind.example", None, name="Pat Rivera", platform_admin=True
    )
    for n, plan in enumerate(("business", "business", "business", "starter", "starter")):
        TenantFactory(slug=f"northwind-{n}", name=f"Northwind Bakery {n}", plan=plan)
    versions.bump("tenants")
    return signed_in_opener(new_page, live_server, operator)


def target_business(page: Any, base: str) -> Any:
    """Open the flag's panel from the list and target the business plan (typed, not
    saved)."""
    page.goto(f"{base}/flags/")
    page.locator(f"#flag-row-{KEY} a").click()
    panel = page.get_by_test_id(f"flag-panel-{KEY}")
    panel.locator(".segment-targeted").click()
    panel.locator(".chip-toggle", has_text="business").click()
    expect(panel.get_by_test_id("flips-prod")).to_contain_text("prod: 3 turn on")
    return panel


def ask(page: Any, base: str) -> Any:
    """Target the business plan and press Save: the confirmation in the panel."""
    panel = target_business(page, base)
    panel.get_by_test_id("save-flag").click()
    confirm = panel.get_by_test_id("save-confirm")
    expect(confirm).to_be_visible()
    return confirm


def test_the_diff_and_counts_come_first_then_save_anyway_saves(open_page, live_server) -> None:
    page = open_page()
    confirm = ask(page, live_server.url)
    heading = confirm.get_by_role("heading", name=re.compile("Save this change"))
    expect(heading).to_be_focused()
    expect(confirm.get_by_test_id("save-confirm-prod")).to_have_text(
        "3 tenants turn on, 0 turn off in prod."
    )
    expect(confirm.get_by_test_id("save-confirm-flips-staging")).to_have_text(
        "staging: 3 turn on, 0 turn off"
    )
    diff = confirm.get_by_test_id("save-confirm-diff")
    expect(diff.get_by_test_id("save-confirm-line-state").locator("th, td")).to_have_text(
        ["State", "off", "targeted"]
    )
    expect(diff.get_by_test_id("save-confirm-line-scope_plans").locator("th, td")).to_have_text(
        ["Plans", "none", "business"]
    )
    # Nothing is written until it is confirmed.
    assert Flag.objects.get(key=KEY).version == 1
    panel = page.get_by_test_id(f"flag-panel-{KEY}")
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 1")

    panel.get_by_role("button", name="Save anyway").click()
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 2")
    expect(page.locator("#toasts").get_by_test_id("toast")).to_contain_text(
        f"Saved {KEY} (version 2)"
    )
    expect(page.get_by_test_id("save-confirm")).to_have_count(0)
    flag = Flag.objects.get(key=KEY)
    assert (flag.state, flag.scope_plans, flag.version) == (FlagState.TARGETED, ["business"], 2)


def test_back_to_editing_keeps_everything_typed(open_page, live_server) -> None:
    page = open_page()
    confirm = ask(page, live_server.url)
    panel = page.get_by_test_id(f"flag-panel-{KEY}")
    panel.get_by_test_id("save-confirm-back").click()
    expect(confirm).to_have_count(0)
    expect(panel.locator(".segment-targeted input")).to_be_checked()
    expect(panel.locator(".chip-toggle", has_text="business").locator("input")).to_be_checked()
    expect(panel.get_by_test_id("save-flag")).to_be_enabled()
    expect(panel.get_by_test_id("flips-prod")).to_contain_text("prod: 3 turn on")
    assert Flag.objects.get(key=KEY).version == 1


def test_a_change_made_meanwhile_is_the_conflict(open_page, live_server) -> None:
    from flags import services

    page = open_page()
    ask(page, live_server.url)
    services.flag_update(key=KEY, actor=None, description="Changed by Harbor Freight ops")
    page.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_test_id("conflict")).to_contain_text("Changed by Harbor Freight ops")
    assert Flag.objects.get(key=KEY).state == FlagState.OFF


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_confirmation_passes_axe(open_page, live_server, screenshot_dir, theme: str) -> None:
    require_axe()
    page = open_page(bypass_csp=True)
    page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
    ask(page, live_server.url)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    page.screenshot(path=str(screenshot_dir / f"flags-save-confirm-{theme}.png"))
    assert serious_violations(page, "#flag-panel") == []


def test_at_390_px_the_confirmation_is_usable(open_page, live_server, screenshot_dir) -> None:
    width, height = 390, 844
    page = open_page(viewport={"width": width, "height": height})
    confirm = ask(page, live_server.url)
    page.evaluate(
        "Promise.all(document.getElementById('flag-panel').getAnimations().map((a) => a.finished))"
    )
    page.screenshot(path=str(screenshot_dir / "flags-save-confirm-390.png"))
    # Nothing runs off the side: the diff table and the counts fit the screen.
    for part in ("save-confirm", "save-confirm-diff", "save-confirm-prod"):
        box = page.get_by_test_id(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, part
    scroll = page.evaluate(
        "[document.querySelector('.panel-body').scrollWidth,"
        " document.querySelector('.panel-body').clientWidth]"
    )
    assert scroll[0] <= scroll[1]
    # Both buttons are on screen and reachable.
    for name in ("save-confirm-back", "save-confirm-save"):
        box = page.get_by_test_id(name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert box["y"] + box["height"] <= height, name
    expect(confirm).to_contain_text("3 tenants turn on, 0 turn off in prod.")
    page.get_by_test_id("save-confirm-save").click()
    expect(page.get_by_test_id(f"flag-panel-{KEY}").get_by_test_id("flag-version")).to_have_text(
        "version 2"
    )


def test_without_javascript_the_confirmation_is_a_page(open_page, live_server) -> None:
    page = open_page(java_script_enabled=False)
    base = live_server.url
    page.goto(f"{base}/flags/{KEY}/?q=dmarc")
    panel = page.get_by_test_id(f"flag-panel-{KEY}")
    panel.locator(".segment-on input").check()
    panel.get_by_test_id("save-flag").click()
    confirm = page.get_by_test_id("save-confirm")
    expect(confirm).to_contain_text("5 tenants turn on, 0 turn off in prod.")
    assert Flag.objects.get(key=KEY).version == 1
    page.get_by_test_id("save-confirm-save").click()
    page.wait_for_url(f"{base}/flags/{KEY}/?q=dmarc")
    expect(page.get_by_test_id("toasts")).to_contain_text(f"Saved {KEY} (version 2)")
    assert Flag.objects.get(key=KEY).state == FlagState.ON
