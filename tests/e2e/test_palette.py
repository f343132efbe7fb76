"""The command palette in a real browser: Ctrl-K from anywhere, search and jump with
the keyboard, actions, closing with focus back where it was, and recent items."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations
from tests.flags.factories import FlagFactory
from tests.operators.factories import UserFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"
EMAIL = "palette-ops@dezky.example"


@pytest.fixture
def console_page(live_server, page):
    return sign_in(live_server, page)


def sign_in(live_server, page):
    User.objects.create_user(EMAIL, PASSWORD, name="Palette Operator", platform_admin=True)
    TenantFactory(slug="nordlicht-energie", name="Nordlicht Energie GmbH")
    TenantFactory(slug="sample-co", name="Sample Company")
    UserFactory(email="robin.fjell@fjord-freight.example", name="Robin Fjell")
    FlagFactory(key="quantum_inbox", description="A flag the palette finds by key")
    FlagFactory(key="quantum_outbox", description="Its neighbour")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def open_palette(page):
    page.keyboard.press("Control+k")
    dialog = page.get_by_test_id("palette")
    expect(dialog).to_be_visible()
    box = dialog.get_by_role("combobox")
    expect(box).to_be_focused()
    return dialog, box


def active_option(page):
    return page.locator('#palette-listbox [role="option"][aria-selected="true"]')


def test_ctrl_k_finds_a_tenant_by_part_of_its_name_and_enter_opens_it(
    console_page, live_server, screenshot_dir
) -> None:
    page = console_page
    page.goto(f"{live_server.url}/tenants/")
    # Even from inside a field: Ctrl-K is the palette's, not the browser's.
    page.locator("input:visible").first.focus()
    dialog, box = open_palette(page)
    box.press_sequentially("lichT en", delay=20)
    tenants = dialog.get_by_role("group", name="Tenants")
    expect(tenants.get_by_role("option")).to_have_count(1)
    expect(active_option(page)).to_contain_text("Nordlicht Energie GmbH")
    expect(box).to_have_attribute("aria-expanded", "true")
    active_id = active_option(page).get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", active_id)
    page.screenshot(path=str(screenshot_dir / "palette-tenant.png"))

    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/tenants/nordlicht-energie/")


def test_a_user_by_email_and_a_flag_by_key_with_the_arrow_keys(console_page, live_server) -> None:
    page = console_page
    dialog, box = open_palette(page)
    box.fill("robin.fj")
    users = dialog.get_by_role("group", name="Users")
    expect(users.get_by_role("option")).to_have_count(1)
    expect(users.get_by_role("option")).to_contain_text("robin.fjell@fjord-freight.example")

    box.fill("quantum")
    flags = dialog.get_by_role("group", name="Feature flags")
    expect(flags.get_by_role("option")).to_have_count(2)
    expect(flags.get_by_role("option").first).to_contain_text("quantum_inbox")
    # Down to the next option and back up again, then open the flag.
    options = dialog.get_by_role("option")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(options.first).to_contain_text("quantum_inbox")
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/flags/quantum_inbox/")


def test_an_action_runs_toggle_theme_flips_the_theme(console_page) -> None:
    page = console_page
    html = page.locator("html")
    before = html.get_attribute("data-theme")
    dialog, box = open_palette(page)
    box.fill("toggle th")
    expect(active_option(page)).to_contain_text("Toggle theme")
    box.press("Enter")
    expect(dialog).to_be_hidden()
    expect(html).not_to_have_attribute("data-theme", before)
    assert html.get_attribute("data-theme") in ("dark", "light")


def test_reconcile_and_a_tenant_name_offers_its_confirmation_first(console_page) -> None:
    page = console_page
    _, box = open_palette(page)
    box.press_sequentially("reconcile nordl", delay=20)
    expect(active_option(page)).to_contain_text("Reconcile Nordlicht Energie GmbH")
    expect(active_option(page)).to_have_attribute("href", "/tenants/nordlicht-energie/reconcile/")
    # Its confirmation page: nothing runs until the operator confirms there.
    with page.expect_navigation() as navigation:
        box.press("Enter")
    assert navigation.value.url.endswith("/tenants/nordlicht-energie/reconcile/")
    assert navigation.value.status == 200


def test_the_mouse_works_too(console_page, live_server) -> None:
    page = console_page
    page.get_by_test_id("palette-trigger").click()
    box = page.get_by_test_id("palette").get_by_role("combobox")
    box.fill("sample")
    dialog = page.get_by_test_id("palette")
    option = dialog.get_by_role("group", name="Tenants").get_by_role("option")
    reconcile = dialog.get_by_role("group", name="Actions").get_by_role("option").first
    expect(reconcile).to_contain_text("Reconcile Sample Company")
    reconcile.hover()
    expect(reconcile).to_have_attribute("aria-selected", "true")
    expect(option).to_have_attribute("aria-selected", "false")
    option.hover()
    expect(option).to_have_attribute("aria-selected", "true")
    option.click()
    page.wait_for_url(f"{live_server.url}/tenants/sample-co/")


def test_escape_and_the_backdrop_close_and_focus_returns_to_the_trigger(
    console_page,
) -> None:
    page = console_page
    trigger = page.get_by_test_id("palette-trigger")
    dialog = page.get_by_test_id("palette")
    trigger.click()
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("palette").get_by_role("combobox")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()

    trigger.click()
    expect(dialog).to_be_visible()
    page.mouse.click(8, 850)  # the backdrop, below the box
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()


def test_the_keyboard_shortcuts_action_opens_them(console_page) -> None:
    page = console_page
    trigger = page.get_by_test_id("palette-trigger")
    trigger.click()
    page.get_by_test_id("palette").get_by_role("combobox").fill("keyboard")
    expect(active_option(page)).to_contain_text("Keyboard shortcuts")
    page.keyboard.press("Enter")
    shortcuts = page.get_by_test_id("shortcuts-dialog")
    expect(shortcuts).to_be_visible()
    expect(page.get_by_test_id("palette")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    expect(trigger).to_be_focused()


def test_an_empty_box_shows_the_recently_opened_tenant(
    console_page, live_server, screenshot_dir
) -> None:
    page = console_page
    # Opening a tenant's and a flag's page is what puts them in the recents.
    page.goto(f"{live_server.url}/tenants/nordlicht-energie/")
    page.goto(f"{live_server.url}/flags/quantum_inbox/")
    page.goto(f"{live_server.url}/")
    dialog, box = open_palette(page)
    recent = dialog.get_by_role("group", name="Recent tenants")
    expect(recent.get_by_role("option")).to_have_count(1)
    expect(recent.get_by_role("option")).to_contain_text("Nordlicht Energie GmbH")
    expect(dialog.get_by_role("group", name="Recent flags")).to_contain_text("quantum_inbox")
    expect(active_option(page)).to_contain_text("Nordlicht Energie GmbH")
    page.screenshot(path=str(screenshot_dir / "palette-recent.png"))
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/tenants/nordlicht-energie/")


def test_sign_out_from_the_palette(console_page, live_server) -> None:
    page = console_page
    _, box = open_palette(page)
    box.fill("sign out")
    expect(active_option(page)).to_contain_text("Sign out")
    box.press("Enter")
    page.wait_for_url(re.compile(r".*/login/"))


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_readable_in_both_themes_and_a_full_width_sheet_on_a_phone(
    live_server, new_page, screenshot_dir, theme: str
) -> None:
    """axe-core over the open palette (contrast, roles, names) at 1360 and 390 px."""
    require_axe()
    # The console's CSP rightly refuses injected scripts; axe is injected only here.
    page = new_page(bypass_csp=True)
    page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
    sign_in(live_server, page)
    for width, height in ((1360, 860), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/")
        trigger = page.get_by_test_id("palette-trigger")
        # On a phone the trigger is an icon, and still says what it is.
        expect(trigger).to_have_accessible_name(re.compile(r"^Search or jump to…"))
        page.screenshot(
            path=str(screenshot_dir / f"palette-trigger-{width}-{theme}.png"),
            clip={"x": 0, "y": 0, "width": width, "height": 64},
        )
        trigger.click()
        dialog = page.get_by_test_id("palette")
        box = dialog.get_by_role("combobox")
        box.fill("e")
        expect(dialog.get_by_role("group", name="Tenants")).to_be_visible()
        box.press("ArrowDown")
        page.wait_for_timeout(250)  # the entry animation, so contrast is measured at rest
        page.screenshot(path=str(screenshot_dir / f"palette-{width}-{theme}.png"))
        serious = serious_violations(page, include="#palette")
        assert serious == [], (width, theme, serious)
        if width == 390:
            frame = dialog.bounding_box()
            assert frame is not None and frame["x"] == 0 and frame["width"] == 390
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
