"""Reach and explanation in a real browser: a flag whose scope lists no tenant
satisfies together shows a zero-reach badge in the list and says why in its panel;
the panel's "why on or off" form answers by a swap, keeps focus where the operator
was, and the page passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import versions
from flags.models import Flag
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reach_page(new_page, live_server):
    operator = User.objects.create_user(
        "reach-ops@northwind.example", None, name="Pat Rivera", platform_admin=True
    )
    nordic = PartnerFactory(slug="nordic-it", name="Nordic IT")
    TenantFactory(slug="acme", name="Acme Logistics", plan="business")
    TenantFactory(slug="globex", name="Globex Freight", plan="starter", partner=nordic)
    Flag.objects.create(
        key="partner_pilot",
        state="targeted",
        scope_plans=["business"],
        scope_partner_slugs=["nordic-it"],
    )
    versions.bump("flags")
    versions.bump("tenants")
    open_page = signed_in_opener(new_page, live_server, operator)
    return open_page(bypass_csp=True), live_server.url


def test_a_zero_reach_warning_and_an_explanation(reach_page, screenshot_dir) -> None:
    require_axe()
    page, base = reach_page
    page.goto(f"{base}/flags/")
    row = page.locator("#flag-row-partner_pilot")
    expect(row.get_by_test_id("zero-reach")).to_have_text("Reaches nobody in prod, staging, dev")

    row.locator("a.flag-key").click()
    panel = page.get_by_test_id("flag-panel-partner_pilot")
    expect(panel.get_by_test_id("zero-reach-alert").first).to_contain_text(
        "Scope lists combine with AND"
    )

    tenant = panel.get_by_test_id("explain-tenant")
    tenant.fill("acme")
    panel.get_by_test_id("explain-environment").select_option("prod")
    tenant.press("Enter")
    answer = panel.get_by_test_id("explain-answer")
    expect(answer).to_contain_text("it has no partner, and the partner list allows only nordic-it")
    # The answer is announced (a live region) and focus stays where the operator was.
    expect(tenant).to_be_focused()
    # Nothing was saved and the panel does not think anything is unsaved.
    expect(panel.get_by_test_id("save-flag")).to_be_disabled()

    page.screenshot(path=str(screenshot_dir / "flags-reach-explain.png"))
    assert serious_violations(page, "#flag-panel") == []
    assert serious_violations(page, "#flag-results") == []

    # An unknown tenant is named as the field's error.
    tenant.fill("nobody-here")
    panel.get_by_test_id("explain-submit").click()
    expect(panel.get_by_test_id("explain-errors")).to_contain_text(
        "Tenant: No live tenant has the slug nobody-here"
    )
    expect(panel.get_by_test_id("explain-submit")).to_be_focused()
