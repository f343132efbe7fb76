"""Browser: search, chips, filters, sort and pages with Back/Forward; focus after
every swap; open a tenant, every tab, edit (and an invalid edit); suspend -> confirm
-> resume; the pages at 1440 and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from operators.models import User
from tenants import services
from tenants.models import Partner, Tenant

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
    _login(page, live_server.url)
    return live_server.url


def _login(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("ops@dezky.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _rows(page) -> list[str]:
    return page.get_by_test_id("tenant-row").evaluate_all("rows => rows.map(r => r.dataset.slug)")


def _focused(page):
    return page.locator(":focus")


def test_list_chips_filters_sort_and_back(page, signed_in, screenshot_dir) -> None:
    expect(page.get_by_test_id("kpi-tenants")).to_have_text("4")
    page.goto(f"{signed_in}/tenants/")
    assert sorted(_rows(page)) == ["acme", "globex", "initech", "umbrella"]

    # A chip filters, pushes its URL and keeps focus on itself.
    expect(page.get_by_test_id("chip-suspended").get_by_test_id("chip-count")).to_have_text("1")
    page.get_by_test_id("chip-suspended").click()
    page.wait_for_url(re.compile(r"status=suspended"))
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    assert _rows(page) == ["globex"]
    expect(_focused(page)).to_have_attribute("id", "status-chips-suspended")
    expect(page.get_by_test_id("chip-suspended")).to_have_attribute("aria-current", "true")

    # Open it (anywhere on the row), switch a tab, then Back twice: the list page,
    # whole, with its chip still selected.
    row = page.get_by_test_id("tenant-row").first
    box = row.locator("td").nth(2).bounding_box()  # the Plan cell, not the name's link
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/tenants/globex/$"))
    page.get_by_test_id("tab-users").click()
    page.wait_for_url(re.compile(r"tab=users"))
    page.get_by_test_id("panel-users").wait_for()
    page.go_back()
    page.wait_for_url(re.compile(r"/tenants/globex/$"))
    expect(page.get_by_test_id("panel-overview")).to_be_visible()
    page.go_back()
    page.wait_for_url(re.compile(r"/tenants/\?status=suspended$"))
    expect(page.get_by_test_id("sidebar")).to_be_visible()
    expect(page.get_by_test_id("chip-suspended")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    page.go_forward()
    page.wait_for_url(re.compile(r"/tenants/globex/$"))
    expect(page.get_by_test_id("tenant-detail")).to_be_visible()
    page.go_back()
    page.wait_for_url(re.compile(r"status=suspended"))

    # Search: the chips follow, the search box keeps the text after a reload.
    page.get_by_test_id("chip-all").click()
    expect(page.get_by_test_id("tenant-row")).to_have_count(4)
    page.get_by_test_id("tenant-search").fill("acme")
    page.wait_for_url(re.compile(r"q=acme"))
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    expect(page.get_by_test_id("chip-all").get_by_test_id("chip-count")).to_have_text("1")
    page.reload()
    expect(page.get_by_test_id("tenant-search")).to_have_value("acme")
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    page.get_by_test_id("tenant-search").fill("")
    expect(page.get_by_test_id("tenant-row")).to_have_count(4)

    # A filter (a select) swaps and pushes; the chips count under it.
    page.get_by_test_id("filter-problem").select_option("follow_up")
    page.wait_for_url(re.compile(r"problem=follow_up"))
    expect(page.get_by_test_id("tenant-row")).to_have_count(1)  # globex, suspended
    expect(page.get_by_test_id("chip-all").get_by_test_id("chip-count")).to_have_text("1")
    page.get_by_test_id("filter-problem").select_option("")
    expect(page.get_by_test_id("tenant-row")).to_have_count(4)

    # A sort header: the URL says it, focus stays on it, a second click flips it.
    page.get_by_test_id("sort-name").click()
    page.wait_for_url(re.compile(r"sort=name"))
    expect(_focused(page)).to_have_attribute("id", "sort-name")
    expect(page.get_by_test_id("tenant-row").first).to_have_attribute("data-slug", "acme")
    page.get_by_test_id("sort-name").click()
    page.wait_for_url(re.compile(r"sort=-name"))
    expect(page.get_by_test_id("tenant-row").first).to_have_attribute("data-slug", "umbrella")
    expect(_focused(page)).to_have_attribute("id", "sort-name")
    page.reload()
    expect(page.locator("th[aria-sort=descending]")).to_have_count(1)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(screenshot_dir / "tenants-list-1440.png"), full_page=True)


def test_a_page_link_keeps_focus(page, signed_in) -> None:
    Tenant.objects.bulk_create(
        Tenant(slug=f"bulk-{n:03}", name=f"Bulk Tenant {n:03}", domains=[]) for n in range(110)
    )
    page.goto(f"{signed_in}/tenants/?sort=name")
    next_link = page.get_by_test_id("next-page")
    next_link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("pager")).to_contain_text("Page 2 of 3")
    expect(_focused(page)).to_have_attribute("id", "pager-next")
    page.get_by_test_id("previous-page").click()
    page.wait_for_url(re.compile(r"/tenants/\?sort=name$"))
    expect(page.get_by_test_id("pager")).to_contain_text("Page 1 of 3")
    # Page 1 has no Previous link: focus stays on the same place (the pager keeps
    # the id on its disabled control), never on <body>.
    expect(_focused(page)).to_have_attribute("id", "pager-previous")
    page.go_back()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("pager")).to_contain_text("Page 2 of 3")
    expect(page.get_by_test_id("sidebar")).to_be_visible()


def test_tenant_tabs_edit_and_actions(page, signed_in, screenshot_dir) -> None:
    page.goto(f"{signed_in}/tenants/acme/")
    for tab, marker in [
        ("users", "members-table"), ("resources", "provisioning-table"),
        ("billing", "sample-label"), ("audit", "audit-table"),
        ("support", "support-placeholder"), ("overview", "tenant-edit"), ("danger", "suspend"),
    ]:  # fmt: skip
        page.get_by_test_id(f"tab-{tab}").click()
        page.get_by_test_id(f"panel-{tab}").wait_for()
        expect(page.get_by_test_id(marker).first, tab).to_be_visible()
        expect(_focused(page), tab).to_have_attribute("id", f"tab-{tab}")
    page.get_by_test_id("tab-audit").click()
    # The tab reads as sentences, never raw action codes.
    created = page.get_by_test_id("audit-row").filter(has_text="created tenant")
    created.first.wait_for()
    expect(page.get_by_test_id("audit-table")).not_to_contain_text("tenant.created")

    # Edit opens with focus in its first field; an invalid save focuses that field.
    page.get_by_test_id("tab-overview").click()
    page.get_by_test_id("tenant-edit").click()
    page.wait_for_url(re.compile(r"edit=1"))
    expect(_focused(page)).to_have_attribute("id", "id_name")
    page.get_by_label("Mail domains").fill("not a domain!")
    page.get_by_test_id("tenant-save").click()
    expect(page.get_by_test_id("id_domains-errors")).to_be_visible()
    expect(_focused(page)).to_have_attribute("id", "id_domains")
    expect(_focused(page)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Mail domains").fill("acme.example")
    page.get_by_label("Name").fill("Acme Shipping")
    page.get_by_test_id("tenant-save").click()
    expect(page.get_by_role("heading", name="Acme Shipping", level=1)).to_be_visible()
    expect(_focused(page)).to_have_attribute("data-testid", "notice")
    expect(page).to_have_url(re.compile(r"/tenants/acme/\?tab=overview$"))

    # The danger zone: a disabled action says why, in visible text.
    page.get_by_test_id("tab-danger").click()
    page.get_by_test_id("panel-danger").wait_for()
    expect(page.get_by_test_id("resume")).to_be_disabled()
    expect(page.get_by_test_id("resume-why")).to_be_visible()
    expect(page.get_by_test_id("resume-why")).to_have_text(
        "Only a suspended tenant can be resumed; this one is active."
    )

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
    expect(_focused(page)).to_have_attribute("data-testid", "notice")
    expect(_focused(page)).to_contain_text("is suspended")
    expect(page.get_by_test_id("suspend-why")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "tenant-suspended.png"), full_page=True)
    page.get_by_test_id("resume").click()
    page.get_by_test_id("resume-dialog-confirm").click()
    page.wait_for_selector("[data-testid=tenant-detail][data-status=active]")
    expect(page.get_by_test_id("tenant-status")).to_have_text("Active")
    expect(_focused(page)).to_have_attribute("data-testid", "notice")
    expect(_focused(page)).to_contain_text("active again")


def test_actions_work_without_javascript(new_page, signed_in) -> None:
    page = new_page(java_script_enabled=False)
    _login(page, signed_in)
    page.goto(f"{signed_in}/tenants/acme/?tab=danger")
    page.get_by_test_id("suspend").click()
    page.wait_for_url(re.compile(r"/tenants/acme/suspend/$"))
    expect(page.get_by_test_id("confirm-page")).to_be_visible()
    page.get_by_test_id("suspend-dialog-confirm").click()
    page.wait_for_url(re.compile(r"/tenants/acme/\?tab=danger$"))
    expect(page.get_by_test_id("tenant-detail")).to_have_attribute("data-status", "suspended")
    expect(page.get_by_test_id("toasts")).to_contain_text("is suspended")
    # The list's filters: a GET form with an Apply button.
    page.goto(f"{signed_in}/tenants/?q=e")
    page.get_by_test_id("filter-problem").select_option("follow_up")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"problem=follow_up"))
    assert "q=e" in page.url
    expect(page.get_by_test_id("tenant-row")).to_have_count(2)  # acme (just suspended), globex


def test_pages_at_1440_and_390(new_page, signed_in, screenshot_dir) -> None:
    wide = new_page()
    wide.set_viewport_size({"width": 1440, "height": 900})
    _login(wide, signed_in)
    for n in range(14):  # enough for "10 of N shown"
        services.tenant_create(
            slug=f"frozen-{n}", name=f"A Rather Long Frozen Company Name {n}", plan="starter",
            status="suspended", actor=None,
        )  # fmt: skip
    wide.goto(f"{signed_in}/")
    for table in ("recent-tenants", "follow-up"):
        box = wide.get_by_test_id(table).bounding_box()
        wrap = wide.get_by_test_id(table).locator("xpath=..").bounding_box()
        assert box["width"] <= wrap["width"] + 1, table  # no overflow, nothing cut
    expect(wide.get_by_test_id("follow-up-more")).to_contain_text("10 of 15 shown")
    wide.screenshot(path=str(screenshot_dir / "overview-1440.png"), full_page=True)
    wide.get_by_test_id("follow-up-all").click()
    wide.wait_for_url(re.compile(r"/tenants/\?problem=follow_up$"))
    expect(wide.get_by_test_id("result-count")).to_contain_text("15")
    wide.goto(f"{signed_in}/tenants/acme/")
    wide.screenshot(path=str(screenshot_dir / "tenant-detail-1440.png"), full_page=True)
    wide.goto(f"{signed_in}/partners/")
    wide.screenshot(path=str(screenshot_dir / "partners-1440.png"), full_page=True)

    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    _login(phone, signed_in)
    phone.goto(f"{signed_in}/tenants/acme/")
    expect(phone.get_by_role("heading", name="Acme Logistics", level=1)).to_be_in_viewport()
    expect(phone.get_by_test_id("tenant-edit")).to_be_visible()
    # The page itself never scrolls sideways; the tab strip does, inside itself.
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    danger = phone.get_by_test_id("tab-danger")
    danger.scroll_into_view_if_needed()
    expect(danger).to_be_in_viewport()
    phone.screenshot(path=str(screenshot_dir / "tenant-detail-390.png"), full_page=True)
    danger.click()
    phone.get_by_test_id("panel-danger").wait_for()
    expect(phone.get_by_test_id("suspend")).to_be_visible()
    phone.goto(f"{signed_in}/tenants/")
    phone.screenshot(path=str(screenshot_dir / "tenants-list-390.png"), full_page=True)
    phone.goto(f"{signed_in}/")
    phone.screenshot(path=str(screenshot_dir / "overview-390.png"), full_page=True)
