"""An operator's own account in a real browser: the forced change of a temporary
password, and the settings page (cards, appearance, signing out other sessions,
accessibility in both themes, a phone's width)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from operators.directory.local import LocalDirectory
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)

TEMPORARY = "Temp-sample-4417-otter"
CHOSEN = "lantern orchard gravel 42"


@pytest.fixture
def operator(db: Any) -> User:
    return User.objects.create_user(
        "pat@northwind.example", None, name="Pat Rivera", platform_admin=True
    )


def test_a_temporary_password_holds_the_operator_until_it_is_changed(
    new_page: Any, live_server: Any, operator: User
) -> None:
    LocalDirectory().set_password(operator.pk, TEMPORARY)  # as an invite does
    page = new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_test_id("login-form").get_by_label("Email").fill(operator.email)
    page.get_by_test_id("login-form").get_by_label("Password").fill(TEMPORARY)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/settings/password/**")
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    expect(page.locator("aside.sidebar")).to_have_count(0)

    # Anything else brings them back here, remembering where they were going.
    page.goto(f"{live_server.url}/tenants/")
    page.wait_for_url("**/settings/password/?next=%2Ftenants%2F")

    # The temporary password again is refused, naming the field.
    page.get_by_test_id("current-password").fill(TEMPORARY)
    page.get_by_test_id("new-password").fill(TEMPORARY)
    page.get_by_test_id("new-password-again").fill(TEMPORARY)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("id_new_password-errors")).to_contain_text(
        "New password: Choose a new password, different from the current one."
    )
    expect(page.get_by_test_id("new-password")).to_have_attribute("aria-invalid", "true")

    page.get_by_test_id("current-password").fill(TEMPORARY)
    page.get_by_test_id("new-password").fill(CHOSEN)
    page.get_by_test_id("new-password-again").fill(CHOSEN)
    page.get_by_test_id("password-submit").click()
    page.wait_for_url(f"{live_server.url}/tenants/")
    expect(page.locator("aside.sidebar")).to_have_count(1)
    expect(page.get_by_test_id("toast")).to_contain_text("Your password is changed.")
    operator.refresh_from_db()
    assert operator.password_change_required is False and operator.check_password(CHOSEN)


def _second_browser(new_page: Any, live_server: Any, user: User) -> Any:
    """Another browser (its own context and session) signed in as `user`."""
    client = Client()
    client.force_login(user)
    page = new_page()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_the_settings_page_applies_appearance_and_signs_out_other_sessions(
    new_page: Any, live_server: Any, operator: User
) -> None:
    elsewhere = _second_browser(new_page, live_server, operator)
    elsewhere.goto(f"{live_server.url}/tenants/")
    expect(elsewhere.locator("aside.sidebar")).to_have_count(1)

    page = signed_in_opener(new_page, live_server, operator)()
    page.goto(f"{live_server.url}/settings/")
    for card in ("profile-card", "appearance-card", "password-card", "sessions-card"):
        expect(page.get_by_test_id(card)).to_be_visible()
    expect(page.get_by_test_id("profile-email")).to_have_text(operator.email)
    expect(page.get_by_test_id("appearance-card")).to_contain_text("Saved in this browser")

    # Appearance applies at once and is kept in this browser.
    root = page.locator("html")
    page.get_by_test_id("theme-light").check()
    expect(root).to_have_attribute("data-theme", "light")
    page.get_by_test_id("density-compact").check()
    expect(root).to_have_attribute("data-density", "compact")
    assert page.evaluate("localStorage.getItem('dezky.theme')") == "light"
    page.reload()
    expect(root).to_have_attribute("data-theme", "light")
    expect(root).to_have_attribute("data-density", "compact")
    expect(page.get_by_test_id("theme-light")).to_be_checked()
    expect(page.get_by_test_id("density-compact")).to_be_checked()
    page.get_by_test_id("theme-system").check()
    assert page.evaluate("localStorage.getItem('dezky.theme')") is None
    page.get_by_test_id("density-comfy").check()
    expect(root).to_have_attribute("data-density", "comfy")

    # Two sessions: this one marked; sign out the other behind the confirm dialog.
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("this-session")).to_have_count(1)
    page.get_by_test_id("end-other-sessions").click()
    dialog = page.get_by_test_id("end-others-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("end-others-dialog-confirm").click()
    expect(page.get_by_test_id("sessions-notice")).to_contain_text("Signed out 1 other session.")
    expect(rows).to_have_count(1)

    # The other browser's next page load goes to the sign-in page.
    elsewhere.goto(f"{live_server.url}/tenants/")
    elsewhere.wait_for_url("**/login/?next=/tenants/")
    # ...and this one carries on.
    page.goto(f"{live_server.url}/tenants/")
    expect(page.locator("aside.sidebar")).to_have_count(1)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_account_pages_have_no_serious_accessibility_violation(
    new_page: Any, live_server: Any, operator: User, theme: str
) -> None:
    require_axe()
    held = User.objects.create_user(
        "sam@northwind.example", None, name="Sam Okafor", platform_admin=True
    )
    LocalDirectory().set_password(held.pk, TEMPORARY)
    found: dict[str, list[str]] = {}
    for user, path in ((operator, "/settings/"), (held, "/settings/password/")):
        page = signed_in_opener(new_page, live_server, user)(bypass_csp=True)
        page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        violations = serious_violations(page)
        if violations:
            found[path] = violations
        if path == "/settings/":
            # The card's errors are part of the page too.
            page.get_by_test_id("password-submit").click()
            expect(page.get_by_test_id("id_current_password-errors")).to_be_visible()
            violations = serious_violations(page, "[data-testid='password-card']")
            if violations:
                found[f"{path} (errors)"] = violations
    assert found == {}, found


@pytest.mark.parametrize("width", [1360, 390])
def test_the_account_pages_fit_the_screen(
    new_page: Any, live_server: Any, operator: User, screenshot_dir: Any, width: int
) -> None:
    options: dict[str, Any] = {"viewport": {"width": width, "height": 844}}
    if width < 760:
        options.update(is_mobile=True, has_touch=True)
    page = signed_in_opener(new_page, live_server, operator)(**options)
    for path in ("/settings/", "/settings/password/", "/settings/sessions/end-others/"):
        page.goto(f"{live_server.url}{path}")
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(screenshot_dir / f"{width}-{name}.png"), full_page=True)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} is {scroll_width}px wide on a {width}px screen"
