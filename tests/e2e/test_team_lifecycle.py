"""An operator's lifecycle on the team page and a tenant's members, in a real browser:
deactivating then reactivating an operator, resending an invite (the credential shown
once), inviting a tenant member and changing their role; each dialog scanned by axe,
and focus checked after every swap."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from operators.models import User
from tenants.models import Membership
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.tenants.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
MEMBER_EMAIL = "pat.rivera@northwind.example"


def _settled(page: Any) -> None:
    """No htmx request in flight and no swap still settling."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


@pytest.fixture
def lead(db: Any) -> User:
    from django.utils import timezone

    return User.objects.create_user(
        "lead@dezky.example", None, name="Sample Lead", platform_admin=True,
        last_login=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def open_as_lead(new_page: Any, live_server: Any, lead: User) -> Any:
    return signed_in_opener(new_page, live_server, lead)


def _axe(page: Any, selector: str) -> None:
    violations = serious_violations(page, selector)
    assert violations == [], violations


def test_deactivate_then_reactivate_an_operator(open_as_lead, live_server, screenshot_dir) -> None:
    require_axe()
    from django.utils import timezone

    other = User.objects.create_user(
        "robin.example@dezky.example", None, name="Robin Example", platform_admin=True,
        last_login=timezone.now(),
    )  # fmt: skip
    page = open_as_lead(bypass_csp=True)
    page.goto(f"{live_server.url}/operator-team/")
    mine = page.locator('[data-testid="operator-row"][data-email="lead@dezky.example"]')
    expect(mine.get_by_test_id("deactivate-operator-why")).to_have_text(
        "You cannot deactivate yourself."
    )
    row = page.locator(f'[data-testid="operator-row"][data-email="{other.email}"]')
    row.get_by_test_id("deactivate-operator").click()
    dialog = page.locator(f"dialog#deactivate-operator-{other.pk}")
    expect(dialog).to_be_visible()
    _axe(page, f"#deactivate-operator-{other.pk}")
    dialog.get_by_test_id("deactivate-dialog-confirm").click()
    _settled(page)
    notice = page.get_by_test_id("team-notice")
    expect(notice).to_contain_text(f"Deactivated {other.email}")
    expect(page.locator(":focus")).to_have_attribute("data-testid", "team-notice")
    expect(row).to_contain_text("Inactive")
    page.screenshot(path=str(screenshot_dir / "operators-team-deactivated.png"))
    other.refresh_from_db()
    assert not other.is_active

    row.get_by_test_id("reactivate-operator").click()
    dialog = page.locator(f"dialog#reactivate-operator-{other.pk}")
    expect(dialog).to_be_visible()
    _axe(page, f"#reactivate-operator-{other.pk}")
    dialog.get_by_test_id("reactivate-dialog-confirm").click()
    _settled(page)
    expect(page.get_by_test_id("team-notice")).to_contain_text(f"Reactivated {other.email}")
    expect(page.locator(":focus")).to_have_attribute("data-testid", "team-notice")
    other.refresh_from_db()
    assert other.is_active


def test_resend_an_invite_shows_the_credential_once(
    open_as_lead, live_server, screenshot_dir
) -> None:
    require_axe()
    fresh = User.objects.create_user(
        "sam.lee@dezky.example", "old-password-1", name="Sam Lee", platform_admin=True
    )
    page = open_as_lead(bypass_csp=True)
    page.goto(f"{live_server.url}/operator-team/")
    row = page.locator(f'[data-testid="operator-row"][data-email="{fresh.email}"]')
    row.get_by_test_id("resend-operator").click()
    dialog = page.locator(f"dialog#resend-operator-{fresh.pk}")
    expect(dialog).to_be_visible()
    _axe(page, f"#resend-operator-{fresh.pk}")
    # Escape cancels; focus goes back to the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_attribute("data-testid", "resend-operator")

    row.get_by_test_id("resend-operator").click()
    dialog.get_by_test_id("resend-dialog-confirm").click()
    _settled(page)
    credential = page.get_by_test_id("resent-credential")
    expect(credential).to_be_visible()
    assert credential.get_attribute("data-handoff") == "temp-password"
    password = page.get_by_test_id("resent-password").input_value()
    assert len(password) == 16
    expect(page.locator(":focus")).to_have_attribute("data-testid", "team-notice")
    _axe(page, "[data-testid='resent-credential']")
    page.screenshot(path=str(screenshot_dir / "operators-team-resent.png"))
    fresh.refresh_from_db()
    assert fresh.check_password(password)

    page.reload()
    expect(page.get_by_test_id("resent-credential")).to_have_count(0)
    assert password not in page.content()


def test_invite_a_tenant_member_and_change_their_role(
    open_as_lead, live_server, screenshot_dir
) -> None:
    require_axe()
    tenant = TenantFactory(slug="northwind", name="Northwind Traders")
    MembershipFactory(tenant=tenant, role="owner", user__email="owner@northwind.example")
    page = open_as_lead(bypass_csp=True)
    page.goto(f"{live_server.url}/tenants/northwind/?tab=users")
    page.evaluate("window.__sameDocument = true")

    page.get_by_test_id("invite-member").click()
    dialog = page.get_by_test_id("member-invite-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator(":focus")).to_have_id("member-name")
    _axe(page, "#member-invite-dialog")
    page.get_by_label("Name").fill("Pat Rivera")
    page.get_by_label("Email").fill(MEMBER_EMAIL)
    page.get_by_test_id("member-role-select").select_option("admin")
    page.get_by_test_id("member-invite-submit").click()
    result = page.get_by_test_id("member-invite-result")
    result.wait_for()
    assert result.get_attribute("data-handoff") == "temp-password"
    expect(page.locator(":focus")).to_have_attribute("data-testid", "copy-member-username")
    _axe(page, "#member-invite-dialog")
    page.screenshot(path=str(screenshot_dir / "tenant-member-invited.png"))
    password = page.get_by_test_id("member-password").input_value()
    assert User.objects.get(email=MEMBER_EMAIL).check_password(password)

    page.get_by_test_id("member-invite-done").click()
    expect(dialog).to_be_hidden()
    _settled(page)
    row = page.locator(f'[data-testid="member-row"][data-email="{MEMBER_EMAIL}"]')
    expect(row).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true"), "the list came by a page reload"
    expect(row.get_by_test_id("member-role")).to_have_value("admin")

    row.get_by_test_id("member-role").select_option("member")
    row.get_by_test_id("member-role-save").click()
    _settled(page)
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text(f"{MEMBER_EMAIL} is now a member.")
    expect(page.locator(":focus")).to_have_attribute("data-testid", "notice")
    assert Membership.objects.get(user__email=MEMBER_EMAIL).role == "member"
    # The last owner's Remove is disabled and says why.
    owner_row = page.locator('[data-testid="member-row"][data-email="owner@northwind.example"]')
    expect(owner_row.get_by_test_id("remove-member-why")).to_contain_text("last owner")
    page.screenshot(path=str(screenshot_dir / "tenant-members-role-changed.png"))
