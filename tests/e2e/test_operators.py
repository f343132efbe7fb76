"""The operator team page in a real browser: both hand-offs of an invite (a temporary
password from the local directory, a recovery link from Authentik), copying the
credential, errors in the dialog, the retry and discarding an invite that cannot
finish, and the users page."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from operators.models import OperatorInvite, User
from tests.fakes.authentik import FakeAuthentik

pytestmark = pytest.mark.django_db(transaction=True)
NEW_EMAIL = "robin.example@dezky.example"


@pytest.fixture
def clipboard_page(new_page: Any) -> Any:
    """A page allowed to write and read the clipboard, as a user who said yes would."""
    return new_page(permissions=["clipboard-read", "clipboard-write"])


@pytest.fixture
def authentik(fake_authentik: FakeAuthentik, settings: Any) -> FakeAuthentik:
    """Authentik mode against the fake; the live server runs in this process, so it
    sees the same settings. A browser round trip gets more time than a unit test."""
    settings.AUTHENTIK_TIMEOUT_SECONDS = 2.0
    fake_authentik.timeout_seconds = 3.0
    return fake_authentik


@pytest.fixture
def team_page(clipboard_page: Any, live_server: Any) -> Any:
    """Signed in as an operator (by session cookie, which works in either identity
    mode), on the operator team page, with a marker a page reload would wipe."""
    operator = User.objects.create_user(
        "lead@dezky.example", None, name="Sample Lead", platform_admin=True
    )
    client = Client()
    client.force_login(operator)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page = clipboard_page
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/operator-team/")
    page.evaluate("window.__sameDocument = true")
    return page


def _still_same_document(page: Any) -> bool:
    return page.evaluate("window.__sameDocument === true")


def _open_and_submit(page: Any, *, name: str = "Robin Example", email: str = NEW_EMAIL) -> None:
    page.get_by_test_id("invite-operator").click()
    dialog = page.get_by_test_id("invite-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator(":focus")).to_have_id("invite-name")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_test_id("invite-submit").click()


def _copied(page: Any, button: str) -> str:
    page.get_by_test_id(button).click()
    page.locator(f'[data-testid="{button}"].is-copied').wait_for()
    return page.evaluate("navigator.clipboard.readText()")


def _close_and_see_the_new_operator(page: Any, email: str = NEW_EMAIL) -> None:
    page.get_by_test_id("invite-done").click()
    expect(page.get_by_test_id("invite-dialog")).to_be_hidden()
    row = page.locator(f'[data-testid="operator-row"][data-email="{email}"]')
    row.wait_for()
    expect(row).to_contain_text("Invited")
    assert _still_same_document(page), "the list was refreshed by a page reload"
    expect(page.locator(":focus")).to_have_attribute("data-testid", "invite-operator")


def test_local_directory_hands_over_a_temporary_password(team_page, screenshot_dir) -> None:
    page = team_page
    expect(page.get_by_test_id("manage-in-authentik")).to_have_count(0)
    expect(page.get_by_test_id("operator-row")).to_have_count(1)

    _open_and_submit(page)
    credential = page.get_by_test_id("invite-credential")
    credential.wait_for()
    assert credential.get_attribute("data-handoff") == "temp-password"
    expect(page.get_by_test_id("invite-once-note")).to_contain_text("Shown only this once")
    password = page.get_by_test_id("invite-password").input_value()
    assert len(password) == 16
    assert page.get_by_test_id("invite-username").input_value() == NEW_EMAIL
    page.screenshot(path=str(screenshot_dir / "operators-invite-temp-password.png"))

    assert _copied(page, "copy-username") == NEW_EMAIL
    assert _copied(page, "copy-password") == password
    # The list behind the dialog already has them.
    expect(page.locator(f'[data-testid="operator-row"][data-email="{NEW_EMAIL}"]')).to_have_count(1)

    _close_and_see_the_new_operator(page)
    assert User.objects.get(email=NEW_EMAIL).check_password(password)

    # Opening the dialog again starts over: the credential is gone from the page.
    page.get_by_test_id("invite-operator").click()
    page.get_by_test_id("invite-form").wait_for()
    assert page.get_by_label("Email").input_value() == ""
    assert password not in page.content()


def test_authentik_with_a_recovery_flow_hands_over_a_link(team_page, authentik) -> None:
    authentik.recovery_flow = True
    page = team_page
    page.reload()  # the page was first drawn before the fixture switched modes
    page.evaluate("window.__sameDocument = true")
    link = page.get_by_test_id("manage-in-authentik")
    assert link.get_attribute("href").startswith(authentik.url)

    _open_and_submit(page)
    credential = page.get_by_test_id("invite-credential")
    credential.wait_for()
    assert credential.get_attribute("data-handoff") == "link"
    recovery = page.get_by_test_id("invite-link").input_value()
    assert recovery.startswith(f"{authentik.url}/if/flow/default-recovery-flow/?flow_token=")
    expect(page.get_by_test_id("invite-password")).to_have_count(0)
    assert _copied(page, "copy-link") == recovery

    _close_and_see_the_new_operator(page)
    assert [u["email"] for u in authentik.users.values()] == [NEW_EMAIL]


def test_the_browser_refuses_a_bad_email_before_sending(team_page) -> None:
    page = team_page
    _open_and_submit(page, email="not-an-email")
    expect(page.locator("#invite-email:invalid")).to_have_count(1)
    expect(page.get_by_test_id("invite-form")).to_be_visible()
    assert not User.objects.filter(email="not-an-email").exists()


def test_escape_and_the_backdrop_close_the_dialog_and_focus_goes_back(team_page) -> None:
    page = team_page
    opener = page.get_by_test_id("invite-operator")
    dialog = page.get_by_test_id("invite-dialog")
    opener.click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_attribute("data-testid", "invite-operator")

    opener.click()
    expect(dialog).to_be_visible()
    page.mouse.click(8, 8)  # outside the dialog's box: the backdrop
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_attribute("data-testid", "invite-operator")


def test_an_authentik_failure_is_shown_and_the_retry_finishes(
    team_page, authentik, screenshot_dir
) -> None:
    page = team_page
    page.reload()
    authentik.inject("POST", r"/set_password/$", "500")

    _open_and_submit(page)
    error = page.get_by_test_id("invite-error")
    error.wait_for()
    assert error.get_attribute("data-status") == "502"
    expect(error).to_contain_text("Authentik answered 500")
    assert page.get_by_label("Email").input_value() == NEW_EMAIL  # nothing typed is lost
    page.screenshot(path=str(screenshot_dir / "operators-invite-upstream-error.png"))

    page.keyboard.press("Escape")
    stuck = page.locator(f'[data-testid="open-invite"][data-email="{NEW_EMAIL}"]')
    stuck.wait_for()
    expect(page.locator(f'[data-testid="operator-row"][data-email="{NEW_EMAIL}"]')).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "operators-team-open-invite.png"))

    stuck.get_by_test_id("retry-invite").click()
    page.get_by_role("button", name="Retry invite").wait_for()
    assert page.get_by_label("Email").input_value() == NEW_EMAIL
    page.get_by_test_id("invite-submit").click()
    page.get_by_test_id("invite-credential").wait_for()
    page.get_by_test_id("invite-done").click()
    page.locator(f'[data-testid="operator-row"][data-email="{NEW_EMAIL}"]').wait_for()
    expect(page.get_by_test_id("open-invite")).to_have_count(0)
    assert len(authentik.users) == 1, "the retry made a second account"

    # An email that belongs to someone else's Authentik account never finishes: discard it.
    page.evaluate("window.__sameDocument = true")  # the test began with a reload
    taken = "sam.sample@dezky.example"
    account = authentik.add_user(taken, name="Sam Sample")
    _open_and_submit(page, name="Sam Sample", email=taken)
    refusal = page.get_by_test_id("invite-email-errors").inner_text()
    assert "already belongs to an account" in refusal
    page.keyboard.press("Escape")
    refused = page.locator(f'[data-testid="open-invite"][data-email="{taken}"]')
    refused.wait_for()
    discard = refused.get_by_test_id("discard-invite")
    dialog = page.locator(f"dialog#discard-invite-{OperatorInvite.objects.get(email=taken).pk}")
    discard.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("account Authentik already made")
    page.keyboard.press("Escape")  # Escape and the backdrop cancel, focus goes back
    dialog.wait_for(state="hidden")
    expect(page.locator(":focus")).to_have_attribute("data-testid", "discard-invite")
    discard.click()
    page.mouse.click(8, 8)
    dialog.wait_for(state="hidden")
    expect(refused).to_have_count(1)

    discard.click()
    page.screenshot(path=str(screenshot_dir / "operators-discard-invite.png"))
    dialog.get_by_test_id("discard-dialog-confirm").click()
    notice = page.get_by_test_id("team-notice")
    notice.wait_for()
    expect(notice).to_contain_text(f"Discarded the invite of {taken}.")
    expect(page.get_by_test_id("open-invite")).to_have_count(0)
    expect(page.locator(":focus")).to_have_attribute("data-testid", "team-notice")
    assert _still_same_document(page), "the list was refreshed by a page reload"
    assert not OperatorInvite.objects.filter(email=taken).exists()
    assert authentik.users[account["pk"]]["email"] == taken  # Authentik was not touched
    assert authentik.calls_to("DELETE", "/core/users/") == []


def test_the_rate_limit_is_said_in_the_dialog(team_page, settings) -> None:
    settings.INVITES_PER_MINUTE = 0
    page = team_page
    _open_and_submit(page)
    error = page.get_by_test_id("invite-error")
    error.wait_for()
    assert error.get_attribute("data-status") == "429"
    expect(error).to_contain_text("invites a minute")


def test_users_page_views_search_and_pages_without_reload(
    team_page, live_server, screenshot_dir
) -> None:
    from operators.views.users import PAGE_SIZE

    for n in range(PAGE_SIZE + 3):
        User.objects.create_user(f"member{n:03}@tenant.example", None, name=f"Member {n:03}")
    User.objects.create_user("gone@tenant.example", None, name="Gone Person", is_active=False)
    page = team_page
    page.goto(f"{live_server.url}/users/")
    page.evaluate("window.__sameDocument = true")
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(PAGE_SIZE)
    page.screenshot(path=str(screenshot_dir / "operators-users.png"))

    page.get_by_test_id("users-next").click()
    page.wait_for_url("**/users/?page=2")
    expect(rows).to_have_count(5)  # 53 members, the gone one and the operator

    page.get_by_test_id("users-view-inactive").click()
    page.wait_for_url("**/users/?view=inactive")
    page.locator('[data-testid="users-view-inactive"][aria-current="page"]').wait_for()
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-email") == "gone@tenant.example"

    page.get_by_test_id("users-view-all").click()
    page.locator('[data-testid="users-view-all"][aria-current="page"]').wait_for()
    page.get_by_test_id("user-search").fill("member 007")
    page.locator('[data-testid="user-row"][data-email="member007@tenant.example"]').wait_for()
    expect(page.get_by_test_id("user-row")).to_have_count(1)
    assert _still_same_document(page)
