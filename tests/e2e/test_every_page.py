"""Every console page, as an operator meets it, in a real browser:

- each page and every URL a swap on it pushes comes back as the whole page (the shell,
  the stylesheet, the inputs filled from the URL) on Back, Forward and reload;
- an axe-core scan finds no serious or critical violation, in dark and light, comfy
  and compact;
- at 390 x 844 nothing scrolls sideways and the sidebar is a drawer.

The pages run on the demo data (`demo.seed`), so lists have several pages, chips
have counts and every tab has something in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from demo.seed import seed_demo
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)

TENANT = "acme"
TABS = ("overview", "users", "resources", "flags", "billing", "audit", "support", "danger")

# Every console page an operator can open (a tenant's tabs each have their URL).
PAGES = [
    "/",
    "/tenants/",
    *(f"/tenants/{TENANT}/?tab={tab}" for tab in TABS),
    "/partners/",
    "/partners/nordic-it/",
    "/users/",
    "/operator-team/",
    "/operator-team/invite/",
    f"/tenants/{TENANT}/members/invite/",  # inviting a member without JavaScript
    "/view-as/start/",  # viewing as a tenant member: its start page
    "/flags/",
    "/flags/saml_sso/",
    "/flags/saml_sso/explain/?tenant=acme&environment=prod",
    "/flags/change-requests/",
    "/flags/scheduled-changes/",
    "/flags/saml_sso/schedule/",
    # Where an action's confirm button leads without JavaScript.
    f"/tenants/{TENANT}/suspend/",
    "/flags/saml_sso/kill/",
    "/settings/sessions/end-others/",
    "/infrastructure/",
    "/incidents/",
    "/incidents/new/",
    "/audit/",
    "/audit/?action=kind:Tenants",
    "/audit/{newest_event}/",  # one event: the newest of the demo's history
    "/audit/verify/",
    "/support/",
    "/settings/",
    "/billing/",
    "/reports/",
    "/notifications/",
]
# Where a page's swaps push URLs that a person comes back to.
PUSHING_PAGES = [
    "/tenants/",
    f"/tenants/{TENANT}/?tab=overview",
    "/partners/",
    "/users/",
    "/flags/",
    "/incidents/",
    "/audit/",
]
AWAY = "/partners/"  # a full navigation away, to come back from with Back


def pages() -> list[str]:
    """PAGES with the ids of this run's data filled in (an audit event's id depends on
    what the database held before)."""
    from audit.models import AuditEvent

    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return [path.format(newest_event=newest) for path in PAGES]


@pytest.fixture
def demo_operator(db: Any) -> User:
    seed_demo()
    return User.objects.create_user(
        "walker@dezky.example", None, name="Sample Walker", platform_admin=True
    )


@pytest.fixture
def signed_in(new_page: Any, live_server: Any, demo_operator: User) -> Any:
    """A function opening a signed-in page with the given context options."""
    return signed_in_opener(new_page, live_server, demo_operator)


def assert_whole_page(page: Any, url: str) -> None:
    """The shell is there, styled, and the search box says what the URL searched for."""
    expect(page.locator("aside.sidebar")).to_have_count(1)
    expect(page.locator("header.topbar")).to_have_count(1)
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Times" not in font and font, f"unstyled page at {url}: {font}"
    q = parse_qs(urlsplit(url).query).get("q", [""])[0]
    search = page.locator("[data-page-search]")
    if search.count():
        expect(search).to_have_value(q)


def pushed_links(page: Any) -> list[str]:
    """The distinct URLs the page's htmx links push, a few of each kind."""
    hrefs = page.eval_on_selector_all(
        "a[hx-push-url='true'][href]",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.getAttribute('href'))",
    )
    seen: list[str] = []
    for href in hrefs:
        if href not in seen:
            seen.append(href)
    return seen[:8]


def absolute(live_server: Any, current: str, href: str) -> str:
    if href.startswith("?"):
        return f"{live_server.url}{urlsplit(current).path}{href}"
    return f"{live_server.url}{href}" if href.startswith("/") else href


def test_every_page_opens_whole_with_its_shell(signed_in: Any, live_server: Any) -> None:
    page = signed_in()
    for path in pages():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert_whole_page(page, page.url)


@pytest.mark.parametrize("start", PUSHING_PAGES)
def test_every_pushed_url_survives_back_forward_and_reload(
    signed_in: Any, live_server: Any, start: str
) -> None:
    page = signed_in()
    page.goto(f"{live_server.url}{start}")
    links = pushed_links(page)
    assert links, f"no swap pushes a URL on {start}"
    for href in links:
        page.goto(f"{live_server.url}{start}")
        target = absolute(live_server, page.url, href)
        if target == page.url:
            continue  # a link to where the page is (the selected "All" chip) pushes nothing
        page.locator(f"a[hx-push-url='true'][href='{href}']:visible").first.click()
        page.wait_for_url(target)
        # The swap has settled (a locator, not wait_for_function: the CSP forbids eval).
        expect(page.locator(".htmx-request")).to_have_count(0)
        # A whole navigation away, then Back to the pushed URL and Back again to the start.
        page.goto(f"{live_server.url}{AWAY}")
        page.go_back()
        page.wait_for_url(target)
        assert_whole_page(page, target)
        page.go_back()
        assert_whole_page(page, page.url)
        page.go_forward()
        page.wait_for_url(target)
        assert_whole_page(page, target)
        page.reload()
        assert_whole_page(page, target)


@pytest.mark.parametrize("start", ["/tenants/", "/partners/", "/users/", "/flags/"])
def test_a_search_comes_back_with_its_box_filled(
    signed_in: Any, live_server: Any, start: str
) -> None:
    page = signed_in()
    page.goto(f"{live_server.url}{start}")
    page.locator("[data-page-search]").fill("a")
    page.wait_for_url(lambda url: "q=a" in url)
    searched = page.url
    page.goto(f"{live_server.url}/")
    page.go_back()
    page.wait_for_url(searched)
    assert_whole_page(page, searched)
    page.reload()
    assert_whole_page(page, searched)


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("density", ["comfy", "compact"])
def test_no_serious_accessibility_violation_on_any_page(
    signed_in: Any, live_server: Any, theme: str, density: str
) -> None:
    require_axe()
    # The console's CSP rightly refuses injected scripts; axe is injected only here.
    page = signed_in(bypass_csp=True)
    page.add_init_script(
        f"localStorage.setItem('dezky.theme', '{theme}');"
        f"localStorage.setItem('dezky.density', '{density}');"
    )
    found: dict[str, list[str]] = {}
    for path in pages():
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    assert found == {}, found


def test_phones_get_a_drawer_and_no_sideways_scrolling(
    signed_in: Any, live_server: Any, screenshot_dir: Path
) -> None:
    page = signed_in(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    overflowing: dict[str, int] = {}
    for path in pages():
        page.goto(f"{live_server.url}{path}")
        name = path.strip("/").replace("/", "-").replace("?tab=", "-") or "overview"
        page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            overflowing[path] = width
        expect(page.locator("aside.sidebar")).not_to_be_in_viewport()
    assert overflowing == {}, f"wider than the phone: {overflowing}"

    page.goto(f"{live_server.url}/tenants/")
    toggle = page.get_by_test_id("drawer-toggle")
    toggle.click()
    sidebar = page.locator("aside.sidebar")
    expect(sidebar).to_be_in_viewport()
    expect(sidebar.get_by_role("link", name="Feature flags")).to_be_visible()
    page.wait_for_timeout(400)  # the slide-in, so the screenshot shows it settled
    page.screenshot(path=str(screenshot_dir / "phone-drawer-open.png"))
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()
    expect(toggle).to_be_focused()


def test_table_headers_stay_in_view_on_a_long_list(signed_in: Any, live_server: Any) -> None:
    page = signed_in()
    page.goto(f"{live_server.url}/users/")
    header = page.locator("table thead th").first
    topbar = page.locator("header.topbar").bounding_box()
    rows = page.locator("table tbody tr")
    assert rows.count() == 50  # a full page of the demo's users
    rows.nth(45).scroll_into_view_if_needed()
    box = header.bounding_box()
    assert box is not None
    # Stuck under the top bar, not scrolled away with the rows.
    assert topbar["y"] + topbar["height"] - 1 <= box["y"] <= topbar["y"] + topbar["height"] + 2
    expect(header).to_be_in_viewport()
