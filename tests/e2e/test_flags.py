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
    # It turns tenants on in prod: the panel asks first (tests/e2e/test_flag_save_confirm.py).
    page.get_by_test_id("save-confirm-save").click()
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
    option = panel.get_by_role("option", name=re.compile("sample-co-07"))
    option.click()
    expect(panel.get_by_test_id("preview-on")).to_have_text("~1")
    panel.get_by_test_id("save-flag").click()
    panel.get_by_test_id("save-confirm-save").click()  # it turns sample-co-07 on in prod
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 2")
    assert Flag.objects.get(key="passkey_login").scope_tenant_slugs == ["sample-co-07"]


def test_rollout_150_names_the_field_as_typed_and_a_refused_save_focuses_it(
    flags_page, screenshot_dir
) -> None:
    page = flags_page
    panel = open_flag(page, "gdpr_export_v2")
    panel.locator(".segment-rollout").click()
    pct = panel.get_by_test_id("pct-input")
    pct.fill("150")
    # Client side, as typed: the field says what is wrong and points at the message.
    expect(pct).to_have_attribute("aria-invalid", "true")
    expect(pct).to_have_attribute("aria-describedby", "f-pct-errors")
    expect(page.locator("#f-pct-errors")).to_have_text("Rollout %: must be between 0 and 100")
    # The preview names the field and its error, never "the highlighted fields".
    preview = panel.get_by_test_id("flag-preview")
    expect(preview).to_contain_text("Rollout %: must be between 0 and 100")
    expect(preview).not_to_contain_text("highlighted")
    page.screenshot(path=str(screenshot_dir / "flags-pct-150.png"))

    # Server side: the save answers 400, htmx swaps it, focus lands on the field.
    panel.get_by_test_id("save-flag").click()
    expect(page.locator("#f-pct")).to_be_focused()
    expect(page.locator("#f-pct")).to_have_attribute("aria-describedby", "f-pct-errors")
    expect(page.locator("#f-pct-errors")).to_contain_text("Rollout %: must be between 0 and 100")
    assert Flag.objects.get(key="gdpr_export_v2").version == 1

    page.locator("#f-pct").fill("30")
    expect(page.locator("#f-pct")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-pct-errors")).to_have_count(0)
    expect(page.get_by_test_id("preview-total")).to_have_text("40")


def test_the_tenant_picker_is_a_combobox_that_escape_closes(flags_page, screenshot_dir) -> None:
    page = flags_page
    panel = open_flag(page, "passkey_login")
    panel.locator(".segment-targeted").click()
    find = panel.get_by_role("combobox", name="Tenants")
    expect(find).to_have_attribute("aria-expanded", "false")
    expect(find).to_have_attribute("aria-controls", "chip-listbox-tenant_slugs")

    find.fill("Company 0")
    listbox = panel.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(find).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(8)

    # Arrow keys move the active option; focus stays in the box.
    find.press("ArrowDown")
    expect(find).to_have_attribute("aria-activedescendant", "chip-option-tenant_slugs-sample-co-00")
    find.press("ArrowDown")
    expect(find).to_have_attribute("aria-activedescendant", "chip-option-tenant_slugs-sample-co-01")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(find).to_be_focused()
    page.screenshot(path=str(screenshot_dir / "flags-picker.png"))
    # Enter adds the active one and closes the options.
    find.press("Enter")
    expect(panel.get_by_test_id("picker-tenant_slugs").locator("[data-chip-value]")).to_have_text(
        ["sample-co-01"]
    )
    expect(find).to_have_attribute("aria-expanded", "false")
    expect(find).to_have_value("")

    # Escape closes the options, also when they only say "no match", and leaves the
    # panel open.
    find.fill("zzz")
    empty = panel.get_by_test_id("chip-options-empty")
    expect(empty).to_contain_text("No live tenant matches")
    expect(find).to_have_attribute("aria-expanded", "true")
    find.press("Escape")
    expect(empty).to_have_count(0)
    expect(find).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_visible()

    # Focusing the box again does not reopen it; typing does.
    panel.locator("#f-description").focus()
    find.focus()
    page.wait_for_timeout(600)
    expect(panel.get_by_role("listbox")).to_have_count(0)
    expect(empty).to_have_count(0)
    find.fill("Company 1")
    expect(panel.get_by_role("option", name=re.compile("sample-co-10"))).to_be_visible()
    find.press("Escape")
    expect(panel.get_by_role("listbox")).to_have_count(0)
    # ArrowDown asks for the options without typing.
    find.press("ArrowDown")
    expect(panel.get_by_role("listbox")).to_be_visible()


def test_new_1_opens_the_new_flag_dialog_on_load(flags_page, live_server) -> None:
    page = flags_page
    page.goto(f"{live_server.url}/flags/?new=1")
    dialog = page.get_by_test_id("new-flag-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#new-flag-key")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Closed, the URL is the list's again, so a reload does not reopen it.
    expect(page).to_have_url(f"{live_server.url}/flags/")


def test_every_pushed_url_is_a_whole_page_on_back_forward_and_reload(
    flags_page, live_server
) -> None:
    page = flags_page
    base = live_server.url

    def mark() -> None:
        page.evaluate("window.__samePage = true")

    def reloaded() -> bool:
        return page.evaluate("window.__samePage === undefined")

    search = page.get_by_test_id("flag-search")
    search.fill("v2")
    expect(page).to_have_url(f"{base}/flags/?q=v2")
    expect(page.get_by_test_id("result-count")).to_have_text("3 flags")
    # Searching keeps focus in the box.
    expect(search).to_be_focused()

    page.locator("#sort-key").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/flags/?q=v2&sort=-key")
    # Sorting keeps focus on the header that was used.
    expect(page.locator("#sort-key")).to_be_focused()
    expect(page.locator("tr.flag-row").first).to_have_id("flag-row-stalwart_spam_v2")

    open_flag(page, "jmap_native_v2")
    expect(page).to_have_url(f"{base}/flags/jmap_native_v2/?q=v2&sort=-key")
    expect(page.locator("#flag-panel-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{base}/flags/?q=v2&sort=-key")
    expect(page.locator("#flag-link-jmap_native_v2")).to_be_focused()

    # Back: the flag's URL, loaded whole, the panel open and the list as it was.
    mark()
    page.go_back()
    expect(page.get_by_test_id("flag-panel-jmap_native_v2")).to_be_visible()
    assert reloaded()
    expect(page).to_have_url(f"{base}/flags/jmap_native_v2/?q=v2&sort=-key")
    expect(page.get_by_test_id("sidebar")).to_be_visible()
    expect(page.get_by_test_id("flag-search")).to_have_value("v2")
    expect(page.locator("tr.flag-row")).to_have_count(3)
    expect(page.locator("#flag-row-jmap_native_v2")).to_have_attribute("aria-selected", "true")

    mark()
    page.go_back()
    expect(page).to_have_url(f"{base}/flags/?q=v2&sort=-key")
    expect(page.get_by_test_id("flag-panel")).to_be_empty()
    assert reloaded()
    expect(page.locator("tr.flag-row").first).to_have_id("flag-row-stalwart_spam_v2")

    mark()
    page.go_back()
    expect(page).to_have_url(f"{base}/flags/?q=v2")
    expect(page.locator("tr.flag-row").first).to_have_id("flag-row-gdpr_export_v2")
    assert reloaded()

    mark()
    page.go_forward()
    expect(page).to_have_url(f"{base}/flags/?q=v2&sort=-key")
    expect(page.locator("tr.flag-row").first).to_have_id("flag-row-stalwart_spam_v2")
    page.go_forward()
    expect(page.get_by_test_id("flag-panel-jmap_native_v2")).to_be_visible()

    # Reload of the panel's URL: the same whole page.
    mark()
    page.reload()
    assert reloaded()
    expect(page.get_by_test_id("flag-panel-jmap_native_v2")).to_be_visible()
    expect(page.get_by_test_id("flag-search")).to_have_value("v2")

    # After a delete the list's URL is pushed; Back gives the (now gone) flag's URL,
    # a 404 page, and Forward the list.
    page.goto(f"{base}/flags/audit_export/?q=audit")
    page.get_by_test_id("delete-flag").click()
    page.get_by_test_id("delete-dialog-confirm").click()
    expect(page).to_have_url(f"{base}/flags/?q=audit")
    expect(page.get_by_test_id("result-count")).to_have_text("0 flags")
    mark()
    page.reload()
    assert reloaded()
    expect(page.get_by_test_id("flag-search")).to_have_value("audit")
    expect(page.get_by_test_id("empty")).to_contain_text("No flag matches")


def test_back_with_unsaved_edits_asks_in_the_page_first(flags_page, live_server) -> None:
    page = flags_page
    base = live_server.url
    open_flag(page, "saml_sso")
    page.get_by_test_id("flag-panel-saml_sso").locator(".segment-on").click()
    page.go_back(wait_until="commit")
    dialog = page.get_by_test_id("discard-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep editing").click()
    # Kept: still the flag's URL and the edit.
    expect(page).to_have_url(f"{base}/flags/saml_sso/")
    expect(page.get_by_test_id("save-flag")).to_be_enabled()

    page.go_back(wait_until="commit")
    page.get_by_test_id("discard-confirm").click()
    expect(page.get_by_test_id("flag-panel")).to_be_empty()
    expect(page).to_have_url(f"{base}/flags/")
    assert Flag.objects.get(key="saml_sso").state == FlagState.OFF


def test_a_saves_toast_floats_over_the_panel(flags_page) -> None:
    page = flags_page
    panel = open_flag(page, "dmarc_reports")
    panel.locator("#f-description").fill("Aggregate DMARC reports")
    panel.get_by_test_id("save-flag").click()
    toast = page.locator("#toasts").get_by_test_id("toast")
    expect(toast).to_contain_text("Saved dmarc_reports (version 2)")
    # One region, fixed over the page: not in the panel, not under it.
    expect(page.get_by_test_id("flag-panel").get_by_test_id("toast")).to_have_count(0)
    assert page.evaluate("getComputedStyle(document.getElementById('toasts')).position") == "fixed"
    on_top = page.evaluate(
        """() => {
            const toast = document.querySelector('#toasts [data-testid=toast]');
            const box = toast.getBoundingClientRect();
            const x = box.left + box.width / 2;
            const hit = document.elementFromPoint(x, box.top + box.height / 2);
            return Boolean(hit && hit.closest('#toasts'));
        }"""
    )
    assert on_top


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_list_and_panel_at_desktop_and_phone_widths(
    page, live_server, screenshot_dir, width: int, height: int
) -> None:
    User.objects.create_user(EMAIL, PASSWORD, name="Sample Flag Operator", platform_admin=True)
    TenantFactory(slug="sample-co-00", name="Sample Company 00")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/login/?next=/flags/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/flags/")
    page.screenshot(path=str(screenshot_dir / f"flags-list-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/flags/saml_sso/")
    panel = page.get_by_test_id("flag-panel-saml_sso")
    expect(panel).to_be_visible()
    # The panel slides in; measure where it comes to rest.
    page.evaluate(
        "Promise.all(document.getElementById('flag-panel').getAnimations().map((a) => a.finished))"
    )
    page.screenshot(path=str(screenshot_dir / f"flags-panel-{width}.png"))
    box = page.get_by_test_id("flag-panel").bounding_box()
    assert box is not None
    if width < 760:
        # On a phone the panel is the whole width, its controls within reach.
        assert box["x"] == 0 and box["width"] == width
    save = panel.get_by_test_id("save-flag").bounding_box()
    assert save is not None and save["x"] + save["width"] <= width
    assert save["y"] + save["height"] <= height


def test_without_javascript_the_kill_switch_confirms_on_a_page(new_page, live_server) -> None:
    User.objects.create_user(EMAIL, PASSWORD, name="Sample Flag Operator", platform_admin=True)
    services.flag_update(key="saml_sso", actor=None, state=FlagState.ON)
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server.url}/login/?next=/flags/saml_sso/%3Fq%3Dsso")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/flags/saml_sso/?q=sso")
    page.get_by_test_id("kill-switch").click()
    expect(page.get_by_test_id("confirm-page")).to_contain_text("Kill saml_sso?")
    page.get_by_test_id("kill-dialog-confirm").click()
    page.wait_for_url(f"{live_server.url}/flags/saml_sso/?q=sso")
    expect(page.get_by_test_id("toasts")).to_contain_text("Killed saml_sso")
    expect(page.get_by_test_id("flag-search")).to_have_value("sso")
    assert Flag.objects.get(key="saml_sso").state == FlagState.OFF
