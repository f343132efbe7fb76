"""Browser: an operator views the console as a tenant member from the tenant's Users
tab (reason required), sees the banner, is refused a write and an operator page,
leaves with the keyboard through Exit and is back in their own view; the banner
passes axe in both themes and fits a 390 px phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from operators.models import Impersonation, User
from tenants.models import MemberRole, Membership, Tenant, TenantStatus
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Ticket 4711: Pat cannot find the second mail domain"


@pytest.fixture
def signed_in(new_page: Any, live_server: Any, db: Any) -> Any:
    operator = User.objects.create_user(
        "lee@dezky.example", None, name="Sample Lee", platform_admin=True
    )
    tenant = Tenant.objects.create(
        slug="northwind",
        name="Northwind Traders",
        status=TenantStatus.ACTIVE,
        domains=["northwind.example", "mail.northwind.example"],
    )
    pat = User.objects.create_user("pat@northwind.example", None, name="Pat Rivera")
    Membership.objects.create(tenant=tenant, user=pat, role=MemberRole.ADMIN)
    return signed_in_opener(new_page, live_server, operator)


def _start(page: Any, live_server: Any) -> None:
    """From the Users tab's row button to the member view."""
    page.goto(f"{live_server.url}/tenants/northwind/?tab=users")
    page.get_by_test_id("member-row").filter(has_text="pat@northwind.example").get_by_test_id(
        "impersonate-button"
    ).click()
    expect(page.get_by_test_id("impersonation-limits")).to_contain_text("For at most 15 minutes")
    page.get_by_test_id("impersonation-reason").fill(REASON)
    page.get_by_test_id("impersonation-confirm").click()
    expect(page.get_by_test_id("impersonation-banner")).to_be_visible()


def test_view_as_a_member_then_exit(signed_in: Any, live_server: Any, screenshot_dir: Path) -> None:
    page = signed_in()
    page.goto(f"{live_server.url}/tenants/northwind/?tab=users")
    # A reason that is too short is refused, naming the field.
    page.get_by_test_id("impersonate-button").first.click()
    page.get_by_test_id("impersonation-reason").fill("help")
    page.get_by_test_id("impersonation-confirm").click()
    expect(page.locator("#imp-reason-errors")).to_contain_text("Reason:")
    expect(page.get_by_test_id("impersonation-banner")).to_have_count(0)

    _start(page, live_server)
    banner = page.get_by_test_id("impersonation-banner")
    expect(banner).to_contain_text("Pat Rivera")
    expect(banner).to_contain_text(REASON)
    expect(page.get_by_test_id("impersonation-until")).to_have_text(re.compile(r"^\d\d:\d\d UTC$"))
    expect(page.get_by_test_id("member-tenant-row")).to_have_count(1)
    page.get_by_role("link", name="Northwind Traders").click()
    expect(page.get_by_test_id("member-tenant-identity")).to_contain_text("mail.northwind.example")
    page.screenshot(path=str(screenshot_dir / "impersonation-member-tenant.png"), full_page=True)

    # A write the page's script sends is refused, and nothing changes.
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const r = await fetch("/tenants/northwind/suspend/", {
                method: "POST", headers: {"X-CSRFToken": token, "HX-Request": "true"},
            });
            return [r.status, await r.text()];
        }"""
    )
    assert status[0] == 403
    assert "Writes are off while you view the console as Pat Rivera" in status[1]
    assert Tenant.objects.get(slug="northwind").status == TenantStatus.ACTIVE

    # An operator page is not shown.
    page.goto(f"{live_server.url}/tenants/")
    expect(page.get_by_test_id("impersonation-refused")).to_contain_text(
        "Pat Rivera cannot see this page."
    )

    # Exit, with the keyboard: from the banner's link, Tab reaches Exit.
    page.get_by_role("link", name="Member view").first.focus()
    page.keyboard.press("Tab")
    exit_button = page.get_by_test_id("impersonation-exit")
    expect(exit_button).to_be_focused()
    assert exit_button.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("impersonation-banner")).to_have_count(0)
    expect(page.get_by_test_id("members-table")).to_be_visible()  # back on the Users tab
    expect(page.get_by_test_id("toasts")).to_contain_text("You stopped viewing as Pat Rivera")
    record = Impersonation.objects.get()
    assert record.ended_reason == "exit"
    page.goto(f"{live_server.url}/tenants/")
    expect(page.get_by_test_id("impersonation-refused")).to_have_count(0)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_banner_passes_axe_and_fits_a_phone(
    signed_in: Any, live_server: Any, theme: str, screenshot_dir: Path
) -> None:
    require_axe()
    page = signed_in(bypass_csp=True)
    page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
    page.goto(f"{live_server.url}/view-as/start/?member=pat%40northwind.example")
    found = {"start": serious_violations(page)}
    page.screenshot(path=str(screenshot_dir / f"impersonation-start-{theme}.png"), full_page=True)
    _start(page, live_server)
    found["member view"] = serious_violations(page)
    page.goto(f"{live_server.url}/view-as/tenants/northwind/")
    found["member tenant"] = serious_violations(page)
    page.goto(f"{live_server.url}/flags/")
    found["refused"] = serious_violations(page)
    assert {k: v for k, v in found.items() if v} == {}

    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/view-as/", "/view-as/tenants/northwind/", "/flags/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_test_id("impersonation-exit")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.screenshot(path=str(screenshot_dir / f"impersonation-390-{theme}.png"), full_page=True)
