"""Browser: search, chips, open a tenant, every tab, suspend -> confirm -> resume."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from operators.models import User
from tenants import services
from tenants.models import Partner

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(page, live_server):
    User.objects.create_user(
        "ops@dezky.example", PASSWORD, name="Sample Operator", platform_admin=True
    )
    partner = Partner.objects.create(slug="nordic-it", name="Nordic IT Partners")
    for slug, name, status in [
        ("acme", "Acme Logistics", "active"),
        ("globex", "Globex Freight", "suspended"),
        ("initech", "Initech Mail", "pending"),
        ("umbrella", "Umbrella Bakery", "active"),
    ]:
        services.tenant_create(
            slug=slug, name=name, plan="business", domains=[f"{slug}.example"],
            partner=partner, status=status, actor=None,
        )  # fmt: skip
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("ops@dezky.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return live_server.url


def _rows(page) -> list[str]:
    return page.get_by_test_id("tenant-row").evaluate_all("rows => rows.map(r => r.dataset.slug)")


def test_tenants_end_to_end(page, signed_in, screenshot_dir) -> None:
    expect(page.get_by_test_id("kpi-tenants")).to_have_text("4")
    page.goto(f"{signed_in}/tenants/")
    assert sorted(_rows(page)) == ["acme", "globex", "initech", "umbrella"]

    # Chips with live counts.
    expect(page.get_by_test_id("chip-suspended").get_by_test_id("chip-count")).to_have_text("1")
    page.get_by_test_id("chip-suspended").click()
    page.wait_for_url(re.compile(r"status=suspended"))
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    assert _rows(page) == ["globex"]
    page.get_by_test_id("chip-all").click()
    expect(page.get_by_test_id("tenant-row")).to_have_count(4)

    # Search by name; the chips follow.
    page.get_by_test_id("tenant-search").fill("acme")
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    assert _rows(page) == ["acme"]
    expect(page.get_by_test_id("chip-all").get_by_test_id("chip-count")).to_have_text("1")
    page.screenshot(path=str(screenshot_dir / "tenants-list.png"), full_page=True)

    # Open it and visit every tab.
    page.get_by_role("link", name="Acme Logistics").click()
    page.wait_for_url(re.compile(r"/tenants/acme/"))
    for tab, marker in [
        ("users", "members-table"), ("resources", "provisioning-table"),
        ("billing", "sample-label"), ("audit", "audit-table"),
        ("support", "support-placeholder"), ("overview", "tenant-edit"), ("danger", "suspend"),
    ]:  # fmt: skip
        page.get_by_test_id(f"tab-{tab}").click()
        page.get_by_test_id(f"panel-{tab}").wait_for()
        expect(page.get_by_test_id(marker).first, tab).to_be_visible()
    page.get_by_test_id("tab-audit").click()
    page.get_by_test_id("audit-row").filter(has_text="tenant.created").wait_for()
    page.get_by_test_id("tab-danger").click()
    page.get_by_test_id("panel-danger").wait_for()

    # The dialog closes on Escape and on a backdrop click without doing anything.
    dialog = page.get_by_test_id("suspend-dialog")
    page.get_by_test_id("suspend").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.get_by_test_id("suspend").click()
    expect(dialog).to_be_visible()
    page.mouse.click(5, 5)
    dialog.wait_for(state="hidden")
    assert page.get_by_test_id("tenant-detail").get_attribute("data-status") == "active"

    # Suspend -> confirm -> the status changes; then resume.
    page.get_by_test_id("suspend").click()
    page.get_by_test_id("suspend-dialog-confirm").click()
    page.wait_for_selector("[data-testid=tenant-detail][data-status=suspended]")
    expect(page.get_by_test_id("tenant-status")).to_have_text("Suspended")
    # The button and its dialog were swapped away: focus is on what happened, not lost.
    expect(page.locator(":focus")).to_have_attribute("data-testid", "notice")
    expect(page.locator(":focus")).to_contain_text("is suspended")
    page.screenshot(path=str(screenshot_dir / "tenant-suspended.png"), full_page=True)
    page.get_by_test_id("resume").click()
    page.get_by_test_id("resume-dialog-confirm").click()
    page.wait_for_selector("[data-testid=tenant-detail][data-status=active]")
    expect(page.get_by_test_id("tenant-status")).to_have_text("Active")
    expect(page.locator(":focus")).to_have_attribute("data-testid", "notice")
    expect(page.locator(":focus")).to_contain_text("active again")
