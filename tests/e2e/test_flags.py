"""The feature flags page in a real browser: the panel, rollout preview, save and
history, the kill switch, creating and deleting, and a save that lost a race."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from flags import services
from flags.models import Flag, FlagState
from operators.models import User
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"
EMAIL = "flags-ops@dezky.example"


@pytest.fixture
def flags_page(live_server, page):
    User.objects.create_user(EMAIL, PASSWORD, name="Sample Flag Operator", platform_admin=True)
    for n in range(40):
        TenantFactory(slug=f"sample-co-{n:02d}", name=f"Sample Company {n:02d}")
    page.goto(f"{live_server.url}/login/?next=/flags/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/flags/")
    return page


def open_flag(page, key: str):
    page.locator(f"#flag-row-{key} a").click()
    panel = page.get_by_test_id(f"flag-panel-{key}")
    expect(panel).to_be_visible()
    return panel


def test_rollout_25_with_a_live_preview_is_saved_and_shows_in_the_history(
    flags_page, live_server, screenshot_dir
) -> None:
    page = flags_page
    panel = open_flag(page, "jmap_native_v2")
    assert page.url.endswith("/flags/jmap_native_v2/")
    save = panel.get_by_test_id("save-flag")
    expect(save).to_be_disabled()

    panel.locator(".segment-rollout").click()
    panel.get_by_test_id("pct-input").fill("25")
    # The preview is the engine's answer over the 40 live tenants, not an estimate.
    expect(panel.get_by_test_id("preview-total")).to_have_text("40")
    preview = services_preview_count("jmap_native_v2", pct=25)
    expect(panel.get_by_test_id("preview-on")).to_have_text(f"~{preview}")
    expect(panel.get_by_test_id("preview-turned-on")).to_contain_text(f"{preview} turn on")
    expect(save).to_be_enabled()
    page.screenshot(path=str(screenshot_dir / "flags-rollout-preview.png"))

    save.click()
    panel = page.get_by_test_id("flag-panel-jmap_native_v2")
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 2")
    history = panel.get_by_test_id("flag-history").locator("li.history-entry").first
    expect(history).to_contain_text(EMAIL)
    expect(history).to_contain_text("Rollout %")
    expect(history).to_contain_text("25 %")
    expect(page.locator("#flag-row-jmap_native_v2")).to_contain_text("25 %")

    flag = Flag.objects.get(key="jmap_native_v2")
    assert (flag.state, flag.pct, flag.version) == (FlagState.ROLLOUT, 25, 2)


def services_preview_count(key: str, *, pct: int) -> int:
    from flags import selectors

    return selectors.flag_preview(
        key=key, state=FlagState.ROLLOUT, pct=pct, scope={}, environment=None
    ).on


def test_the_kill_switch_turns_a_flag_off_after_confirmation(flags_page) -> None:
    page = flags_page
    services.flag_update(
        key="saml_sso", expected_version=1, actor=None, state=FlagState.ON, pct=100
    )
    page.reload()
    panel = open_flag(page, "saml_sso")
    panel.get_by_test_id("kill-switch").click()
    dialog = page.get_by_test_id("kill-dialog")
    expect(dialog).to_be_visible()
    # Escape cancels without killing anything.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert Flag.objects.get(key="saml_sso").state == FlagState.ON

    panel.get_by_test_id("kill-switch").click()
    page.get_by_test_id("kill-dialog-confirm").click()
    panel = page.get_by_test_id("flag-panel-saml_sso")
    expect(panel.get_by_test_id("kill-switch")).to_be_disabled()
    expect(page.locator("#flag-row-saml_sso")).to_contain_text("Off")
    flag = Flag.objects.get(key="saml_sso")
    assert (flag.state, flag.pct) == (FlagState.OFF, 0)


def test_create_a_flag_with_live_key_checks_then_delete_it(flags_page, live_server) -> None:
    page = flags_page
    page.get_by_test_id("new-flag").click()
    key = page.locator("#new-flag-key")
    key.fill("Bad-Key")
    expect(page.locator("#new-flag-dialog")).to_contain_text(re.compile("letter", re.I))
    key.fill("jmap_native_v2")
    expect(page.locator("#new-flag-dialog")).to_contain_text("already exists")
    key.fill("sample_quota_alerts")
    page.locator("#new-flag-description").fill("Warn tenants before their mailbox is full")
    page.locator("#new-flag-dialog").get_by_role("button", name=re.compile("Create")).click()

    panel = page.get_by_test_id("flag-panel-sample_quota_alerts")
    expect(panel).to_be_visible()
    expect(page.locator("#flag-row-sample_quota_alerts")).to_be_visible()
    assert page.url.endswith("/flags/sample_quota_alerts/")
    assert Flag.objects.filter(key="sample_quota_alerts").exists()

    panel.get_by_test_id("delete-flag").click()
    page.get_by_test_id("delete-dialog-confirm").click()
    expect(page.locator("#flag-row-sample_quota_alerts")).to_have_count(0)
    assert not Flag.objects.filter(key="sample_quota_alerts").exists()


def test_a_stale_save_shows_the_conflict_and_reload_takes_the_new_version(
    flags_page, screenshot_dir
) -> None:
    page = flags_page
    panel = open_flag(page, "dmarc_reports")
    panel.locator(".segment-on").click()

    # Another operator saves first.
    services.flag_update(
        key="dmarc_reports", expected_version=1, actor=None, description="Changed elsewhere"
    )
    panel.get_by_test_id("save-flag").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("version 1")
    expect(conflict).to_contain_text("Changed elsewhere")
    page.screenshot(path=str(screenshot_dir / "flags-conflict.png"))
    assert Flag.objects.get(key="dmarc_reports").state == FlagState.OFF

    page.get_by_test_id("conflict-reload").click()
    panel = page.get_by_test_id("flag-panel-dmarc_reports")
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 2")
    expect(page.get_by_test_id("conflict")).to_have_count(0)
    expect(panel.locator("#f-description")).to_have_value("Changed elsewhere")


def test_search_filters_the_list_and_escape_closes_the_panel(flags_page) -> None:
    page = flags_page
    page.get_by_test_id("flag-search").fill("billing")
    expect(page.locator("tr.flag-row")).to_have_count(1)
    expect(page.locator("#flag-row-new_billing_engine")).to_be_visible()

    open_flag(page, "new_billing_engine")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("flag-panel-new_billing_engine")).to_have_count(0)


def test_leaving_a_panel_with_unsaved_changes_asks_first(flags_page) -> None:
    page = flags_page
    panel = open_flag(page, "saml_sso")
    panel.locator(".segment-on").click()
    page.locator("#flag-row-audit_export a").click()
    dialog = page.get_by_test_id("discard-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep editing").click()
    expect(page.get_by_test_id("flag-panel-saml_sso")).to_be_visible()

    page.locator("#flag-row-audit_export a").click()
    page.get_by_test_id("discard-confirm").click()
    expect(page.get_by_test_id("flag-panel-audit_export")).to_be_visible()
    assert Flag.objects.get(key="saml_sso").state == FlagState.OFF


def test_a_tenant_is_added_to_the_scope_from_a_search_of_real_tenants(flags_page) -> None:
    page = flags_page
    panel = open_flag(page, "passkey_login")
    panel.locator(".segment-targeted").click()
    search = panel.get_by_placeholder("Add a tenant: slug or name")
    search.fill("Company 07")
    option = panel.get_by_role("button", name=re.compile("sample-co-07"))
    option.click()
    expect(panel.get_by_test_id("preview-on")).to_have_text("~1")
    panel.get_by_test_id("save-flag").click()
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 2")
    assert Flag.objects.get(key="passkey_login").scope_tenant_slugs == ["sample-co-07"]
