from __future__ import annotations

import pytest
from playwright.sync_api import expect

from operators.models import User

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"


@pytest.fixture
def operator_login(live_server):
    User.objects.create_user(
        "ops@dezky.example", PASSWORD, name="Sample Operator", platform_admin=True
    )

    def login(page) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email").fill("ops@dezky.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

    return login


def test_login_then_sidebar_and_theme_are_remembered_across_a_reload(
    page, live_server, operator_login, screenshot_dir
) -> None:
    operator_login(page)
    html = page.locator("html")
    expect(page.get_by_test_id("env-badge")).to_have_text("DEV")

    initial_theme = html.get_attribute("data-theme")
    assert html.get_attribute("data-sidebar") != "collapsed"

    page.get_by_test_id("sidebar-toggle").click()
    assert html.get_attribute("data-sidebar") == "collapsed"

    page.get_by_test_id("user-menu-button").click()
    page.get_by_test_id("theme-toggle").click()
    switched = html.get_attribute("data-theme")
    assert switched in ("dark", "light") and switched != initial_theme

    page.reload()
    assert html.get_attribute("data-sidebar") == "collapsed"
    assert html.get_attribute("data-theme") == switched
    page.screenshot(path=str(screenshot_dir / "shell-collapsed-theme.png"), full_page=True)


def test_keyboard_toggles_the_sidebar_and_escape_closes_the_user_menu(
    page, live_server, operator_login
) -> None:
    operator_login(page)
    html = page.locator("html")
    before = html.get_attribute("data-sidebar")
    page.keyboard.press("Control+BracketLeft")
    assert html.get_attribute("data-sidebar") != before

    page.get_by_test_id("user-menu-button").click()
    menu = page.get_by_test_id("user-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("ops@dezky.example")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    page.get_by_test_id("user-menu-button").click()
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(menu).to_be_hidden()


def test_every_sidebar_entry_leads_to_a_page(page, live_server, operator_login) -> None:
    operator_login(page)
    links = page.get_by_test_id("sidebar").locator("a[href]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    nav = [h for h in hrefs if h and h.startswith("/") and not h.startswith("/admin")]
    assert len(set(nav)) == 12
    for href in sorted(set(nav)):
        response = page.goto(f"{live_server.url}{href}")
        assert response.status == 200, href
        active = page.get_by_test_id("sidebar").locator("[aria-current='page']")
        assert active.count() == 1 and active.get_attribute("href") == href


def test_sign_out_from_the_user_menu(page, live_server, operator_login) -> None:
    operator_login(page)
    page.get_by_test_id("user-menu-button").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/flags/")
    assert "/login/" in page.url
