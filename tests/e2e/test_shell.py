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


def test_the_theme_follows_the_operating_system_until_one_is_chosen(
    new_page, live_server, operator_login
) -> None:
    light = new_page(color_scheme="light")
    operator_login(light)
    html = light.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    light.emulate_media(color_scheme="dark")
    expect(html).to_have_attribute("data-theme", "dark")

    # Once chosen, the choice wins over the system's preference.
    light.get_by_test_id("user-menu-button").click()
    light.get_by_test_id("theme-toggle").click()
    expect(html).to_have_attribute("data-theme", "light")
    light.emulate_media(color_scheme="dark")
    light.reload()
    expect(html).to_have_attribute("data-theme", "light")

    dark = new_page(color_scheme="dark")
    dark.goto(f"{live_server.url}/login/")
    expect(dark.locator("html")).to_have_attribute("data-theme", "dark")


def test_shortcuts_never_fire_while_typing(page, live_server, operator_login) -> None:
    operator_login(page)
    page.goto(f"{live_server.url}/tenants/")
    html = page.locator("html")
    before = html.get_attribute("data-sidebar")
    search = page.locator("[data-page-search]")
    search.click()
    page.keyboard.press("Control+BracketLeft")
    page.keyboard.type("a/?")
    assert html.get_attribute("data-sidebar") == before
    expect(page.get_by_test_id("shortcuts-dialog")).to_be_hidden()
    expect(search).to_have_value("a/?")


def test_slash_focuses_the_search_and_question_mark_lists_the_shortcuts(
    page, live_server, operator_login
) -> None:
    operator_login(page)
    page.goto(f"{live_server.url}/users/")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(page.locator("[data-page-search]")).to_be_focused()

    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Search and jump")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_toasts_float_over_the_content_instead_of_pushing_it(
    page, live_server, operator_login
) -> None:
    operator_login(page)
    page.goto(f"{live_server.url}/tenants/")
    heading = page.locator("h1")
    top = heading.bounding_box()["y"]
    # A request that cannot reach the server is said in a toast (shell.js).
    page.evaluate("document.dispatchEvent(new CustomEvent('htmx:sendError'))")
    toast = page.get_by_test_id("toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("could not be reached")
    assert page.evaluate("getComputedStyle(document.getElementById('toasts')).position") == "fixed"
    assert heading.bounding_box()["y"] == top
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_be_hidden()


def test_the_favicon_is_served(page, live_server, operator_login) -> None:
    operator_login(page)
    icon = page.locator("link[rel='icon']").get_attribute("href")
    assert page.request.get(f"{live_server.url}{icon}").status == 200
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert "svg" in response.headers["content-type"]
