"""The notification bell and its drawer in a real browser: the count follows what
another operator does without a reload, reading brings it down, and the drawer opens
and closes like every dialog (Escape, the scrim, X, navigation) with focus going in
and back to the bell."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from operators.models import User
from tenants import services as tenant_services
from tests.e2e.helpers import signed_in_opener
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader(db: Any) -> User:
    return User.objects.create_user(
        "bell-reader@dezky.example", None, name="Sample Reader", platform_admin=True
    )


@pytest.fixture
def other(db: Any) -> User:
    return OperatorFactory(email="night-shift@dezky.example")


@pytest.fixture
def signed_in(new_page: Any, live_server: Any, reader: User, settings: Any) -> Any:
    # The live server runs in this process: a one-second poll keeps the test short.
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    opener = signed_in_opener(new_page, live_server, reader)

    def open_page(path: str = "/tenants/", **options: Any) -> Any:
        page = opener(**options)
        page.goto(f"{live_server.url}{path}")
        return page

    return open_page


def suspend(slug: str, actor: User) -> None:
    tenant_services.tenant_suspend(tenant=TenantFactory(slug=slug), actor=actor)


def test_the_count_rises_without_a_reload_and_reading_brings_it_down(
    signed_in: Any, live_server: Any, other: User
) -> None:
    page = signed_in()
    bell = page.get_by_test_id("notification-bell")
    expect(bell).to_have_accessible_name("Notifications, none unread")
    expect(page.get_by_test_id("notification-count")).to_have_count(0)

    suspend("fjord-mail", other)
    suspend("kestrel-post", other)
    expect(page.get_by_test_id("notification-count")).to_have_text("2")
    expect(bell).to_have_accessible_name("Notifications, 2 unread")

    bell.click()
    drawer = page.get_by_test_id("notifications-drawer")
    expect(drawer).to_be_visible()
    rows = drawer.get_by_test_id("notification")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Tenant suspended")
    expect(rows.first).to_contain_text("night-shift@dezky.example suspended tenant")
    # Clicking a row marks it read and goes to what it is about, which closes the drawer.
    rows.filter(has_text="fjord-mail").click()
    page.wait_for_url(f"{live_server.url}/tenants/fjord-mail/")
    expect(drawer).to_be_hidden()
    expect(page.get_by_test_id("notification-count")).to_have_text("1")

    bell.click()
    expect(drawer.locator("[data-unread]")).to_have_count(1)
    drawer.get_by_test_id("notifications-read-all").click()
    expect(drawer.locator("[data-unread]")).to_have_count(0)
    expect(page.get_by_test_id("notification-count")).to_have_count(0)
    expect(bell).to_have_accessible_name("Notifications, none unread")


@pytest.mark.parametrize("how", ["escape", "scrim", "close-button"])
def test_the_drawer_closes_and_focus_goes_back_to_the_bell(
    signed_in: Any, other: User, how: str
) -> None:
    suspend("fjord-mail", other)
    page = signed_in()
    bell = page.get_by_test_id("notification-bell")
    bell.focus()
    page.keyboard.press("Enter")
    drawer = page.get_by_test_id("notifications-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator(":focus")).to_have_count(1)  # focus moved into the drawer
    expect(drawer.get_by_test_id("notification")).to_have_count(1)
    # Focus starts on the close button; the rows come next with Tab.
    expect(drawer.get_by_test_id("notifications-close")).to_be_focused()
    page.keyboard.press("Tab")
    expect(drawer.get_by_test_id("notification")).to_be_focused()

    if how == "escape":
        page.keyboard.press("Escape")
    elif how == "scrim":
        page.mouse.click(40, 400)  # left of the right-anchored panel: the scrim
    else:
        drawer.get_by_test_id("notifications-close").click()
    expect(drawer).to_be_hidden()
    expect(bell).to_be_focused()


def test_on_a_phone_the_drawer_is_the_whole_width(signed_in: Any, other: User) -> None:
    suspend("fjord-mail", other)
    # Reduced motion: no slide-in, so the box is measured where it ends up.
    page = signed_in(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",
    )
    page.get_by_test_id("notification-bell").click()
    drawer = page.get_by_test_id("notifications-drawer")
    expect(drawer.get_by_test_id("notification")).to_have_count(1)
    box = drawer.bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_without_the_drawer_the_bell_leads_to_the_page(signed_in: Any, other: User) -> None:
    suspend("fjord-mail", other)
    page = signed_in("/notifications/")
    rows = page.get_by_test_id("notification-list").get_by_test_id("notification")
    expect(rows).to_have_count(1)
    page.get_by_test_id("notifications-read-all-page").click()
    expect(page.get_by_test_id("notification-list").locator("[data-unread]")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("notification-list").locator("[data-unread]")).to_have_count(0)
