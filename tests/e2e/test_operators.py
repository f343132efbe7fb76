"""The operator team page in a real browser: both hand-offs of an invite (a temporary
password from the local directory, a recovery link from Authentik), copying the
credential, errors in the dialog (400, 409, 429, 502 swapped in by the console's own
policy, with focus on the invalid field), the retry and discarding an invite that
cannot finish; and the users page: views, search, sort and pages without a reload,
focus kept on the control used, and Back giving the whole page."""

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


def _settled(page: Any) -> None:
    """No htmx request in flight and no swap still settling."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


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

    assert _copied(page, "copy-invite-username") == NEW_EMAIL
    assert _copied(page, "copy-invite-password") == password
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
    expect(page.locator(":focus")).to_have_attribute("data-testid", "copy-invite-link")
    expect(page.get_by_test_id("invite-link-expiry")).to_contain_text(
        "expires in 30 minutes (Authentik's setting)"
    )
    assert _copied(page, "copy-invite-link") == recovery

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

    # Closed without retrying, the list reloads and focus is back on that row's Retry.
    retry_id = f"retry-invite-{OperatorInvite.objects.get(email=NEW_EMAIL).pk}"
    stuck.get_by_test_id("retry-invite").click()
    page.get_by_role("button", name="Retry invite").wait_for()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("invite-dialog")).to_be_hidden()
    expect(page.locator(":focus")).to_have_id(retry_id)

    stuck.get_by_test_id("retry-invite").click()
    page.get_by_role("button", name="Retry invite").wait_for()
    assert page.get_by_label("Email").input_value() == NEW_EMAIL
    page.get_by_test_id("invite-submit").click()
    page.get_by_test_id("invite-credential").wait_for()
    page.get_by_test_id("invite-done").click()
    page.locator(f'[data-testid="operator-row"][data-email="{NEW_EMAIL}"]').wait_for()
    expect(page.get_by_test_id("open-invite")).to_have_count(0)
    # The Retry that opened the dialog is gone with its row: focus goes to Invite operator.
    expect(page.locator(":focus")).to_have_attribute("data-testid", "invite-operator")
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
    expect(page.locator('[data-testid="invite-error"] .alert')).to_be_focused()


def _people() -> None:
    from operators.views.users import PAGE_SIZE

    for n in range(PAGE_SIZE + 3):
        User.objects.create_user(f"member{n:03}@tenant.example", None, name=f"Member {n:03}")
    User.objects.create_user("gone@tenant.example", None, name="Gone Person", is_active=False)


def test_users_page_views_search_sort_and_pages_without_reload(
    team_page, live_server, screenshot_dir
) -> None:
    from operators.views.users import PAGE_SIZE

    _people()
    page = team_page
    page.goto(f"{live_server.url}/users/")
    page.evaluate("window.__sameDocument = true")
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(page.get_by_test_id("result-count")).to_contain_text("55 users")
    page.screenshot(path=str(screenshot_dir / "operators-users.png"))

    # A page link, used from the keyboard: the list swaps, focus stays on the link.
    page.get_by_test_id("next-page").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/users/?page=2")
    expect(rows).to_have_count(5)  # 53 members, the gone one and the operator
    # The last page has no Next link: focus stays on the (now disabled) Next.
    expect(page.locator(":focus")).to_have_id("users-pager-next")

    # A chip: the view swaps, the URL says it, focus stays on the chip.
    page.get_by_test_id("chip-inactive").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/users/?view=inactive")
    page.locator('[data-testid="chip-inactive"][aria-current="true"]').wait_for()
    expect(page.locator(":focus")).to_have_id("user-views-inactive")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-email") == "gone@tenant.example"

    page.get_by_test_id("chip-all").click()
    page.locator('[data-testid="chip-all"][aria-current="true"]').wait_for()
    page.get_by_test_id("user-search").fill("member 00")
    # The search's own swap first (its URL is pushed when it lands), so a later swap
    # never races it.
    page.wait_for_url("**/users/?q=member%2000")
    page.locator('[data-testid="user-row"][data-email="member009@tenant.example"]').wait_for()
    expect(page.get_by_test_id("user-row")).to_have_count(10)
    expect(page.locator(":focus")).to_have_id("user-search")  # typing is never interrupted

    # A sort header: the order changes, the URL keeps the search, focus stays on it.
    # Each key press waits for the swap before it to settle, as a person would see it.
    _settled(page)
    page.get_by_test_id("sort-email").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/users/?q=member+00&sort=email")
    _settled(page)
    expect(page.locator(":focus")).to_have_id("sort-email")
    page.keyboard.press("Enter")
    page.wait_for_url("**/users/?q=member+00&sort=-email")
    _settled(page)
    expect(rows.first).to_have_attribute("data-email", "member009@tenant.example")
    expect(page.locator(":focus")).to_have_id("sort-email")
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Email")
    assert _still_same_document(page)

    # From the last header, Tab reaches the first row's email, with a visible focus ring.
    page.get_by_test_id("sort-last_seen").focus()
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("href", "mailto:member009@tenant.example")
    ring = focused.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.boxShadow]; }"
    )
    assert ring != ["none", "none"], ring

    # Reload of a pushed URL: the whole page, inputs filled from the URL.
    page.reload()
    expect(page.get_by_test_id("sidebar")).to_be_visible()
    expect(page.get_by_test_id("user-search")).to_have_value("member 00")
    expect(rows.first).to_have_attribute("data-email", "member009@tenant.example")


def test_back_from_another_page_gives_the_whole_users_page(team_page, live_server) -> None:
    """The known defect: /users/?view=admins, then Partners, then Back showed the bare
    fragment the chip had fetched. Back now loads the URL as a whole page."""
    _people()
    User.objects.create_user("owner@tenant.example", None, name="Member Owner", platform_admin=True)
    page = team_page
    page.goto(f"{live_server.url}/users/")
    page.get_by_test_id("chip-admins").click()
    page.wait_for_url("**/users/?view=admins")
    page.get_by_test_id("user-search").fill("member")
    page.wait_for_url("**/users/?q=member&view=admins")
    expect(page.get_by_test_id("user-row")).to_have_count(1)

    page.get_by_test_id("sidebar").get_by_role("link", name="Partners").click()
    page.wait_for_url("**/partners/")
    page.go_back()
    page.wait_for_url("**/users/?q=member&view=admins")
    expect(page.get_by_test_id("sidebar")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Users")
    expect(page.locator('[data-testid="chip-admins"][aria-current="true"]')).to_have_count(1)
    expect(page.get_by_test_id("user-search")).to_have_value("member")
    expect(page.get_by_test_id("user-row")).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('main#main').length") == 1

    page.go_forward()
    page.wait_for_url("**/partners/")
    expect(page.get_by_test_id("sidebar")).to_be_visible()


def test_invite_errors_swap_into_the_dialog_by_the_console_policy(team_page) -> None:
    """400, 409, 429 and 502 answers land in the dialog with operators.js blocked: the
    console's status policy (4xx swap; a rendered 5xx marked to swap) does it alone."""
    page = team_page
    page.route("**/operators.js", lambda route: route.abort())
    page.reload()

    # 400: the browser lets a blank-looking name through, the server refuses it.
    _open_and_submit(page, name="   ")
    name = page.locator('#invite-name[aria-invalid="true"]')
    name.wait_for()
    expect(page.locator(":focus")).to_have_id("invite-name")
    expect(name).to_have_attribute("aria-describedby", "invite-name-errors")
    expect(page.locator("#invite-name-errors")).to_contain_text("Give the operator's name.")

    # 409: the email is taken; focus goes to the email field, which says why.
    User.objects.create_user("taken@dezky.example", None, name="Taken")
    page.get_by_label("Name").fill("Robin Example")
    page.get_by_label("Email").fill("taken@dezky.example")
    page.get_by_test_id("invite-submit").click()
    page.locator('#invite-email[aria-invalid="true"]').wait_for()
    expect(page.locator(":focus")).to_have_id("invite-email")
    expect(page.get_by_test_id("invite-email-errors")).to_contain_text("already has an account")
    expect(page.get_by_test_id("toast")).to_have_count(0)  # nothing said twice


def test_an_authentik_failure_swaps_in_without_the_page_script(team_page, authentik) -> None:
    page = team_page
    page.route("**/operators.js", lambda route: route.abort())
    page.reload()
    authentik.inject("POST", r"/set_password/$", "500")
    _open_and_submit(page)
    error = page.get_by_test_id("invite-error")
    error.wait_for()
    assert error.get_attribute("data-status") == "502"
    expect(error).to_contain_text("Authentik answered 500")
    expect(page.get_by_test_id("toast")).to_have_count(0)
    # No field is at fault: focus goes to the refusal, which a screen reader then reads.
    expect(page.locator('[data-testid="invite-error"] .alert')).to_be_focused()
    assert page.get_by_label("Email").input_value() == NEW_EMAIL


def test_a_crash_is_a_toast_not_a_swap(team_page, settings) -> None:
    """A 5xx that is not a rendered answer (a crash, a proxy's page) never lands in the
    dialog: the shell says so in a toast and the form keeps what was typed."""
    page = team_page
    page.route(
        "**/operator-team/invite/",
        lambda route: (
            route.fulfill(status=502, body="<h1>Bad gateway</h1>", content_type="text/html")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    _open_and_submit(page)
    expect(page.get_by_test_id("toast")).to_contain_text("answered 502")
    expect(page.get_by_test_id("invite-form")).to_be_visible()
    assert "Bad gateway" not in page.content()
    assert page.get_by_label("Email").input_value() == NEW_EMAIL


def test_without_javascript_discard_goes_through_its_confirm_page(new_page, live_server) -> None:
    operator = User.objects.create_user(
        "lead@dezky.example", None, name="Sample Lead", platform_admin=True
    )
    stuck = OperatorInvite.objects.create(
        email="stuck@dezky.example", name="Stuck Ops", directory="authentik",
        state="failed", last_error="stuck@dezky.example already belongs to an account.",
    )  # fmt: skip
    client = Client()
    client.force_login(operator)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page = new_page(java_script_enabled=False)
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/operator-team/")
    page.get_by_test_id("discard-invite").click()
    page.wait_for_url(f"**/operator-team/invites/{stuck.pk}/discard/")
    confirm = page.get_by_test_id("confirm-page")
    expect(confirm).to_contain_text("Discard the invite of stuck@dezky.example?")
    expect(confirm).to_contain_text("Authentik is not touched")
    confirm.get_by_test_id(f"discard-invite-{stuck.pk}-confirm").click()
    page.wait_for_url("**/operator-team/")
    expect(page.get_by_test_id("toast")).to_contain_text(
        "Discarded the invite of stuck@dezky.example."
    )
    expect(page.get_by_test_id("open-invite")).to_have_count(0)
    assert not OperatorInvite.objects.filter(pk=stuck.pk).exists()

    # "Invite operator" without JavaScript is the invite page.
    page.get_by_test_id("invite-operator").click()
    page.wait_for_url("**/operator-team/invite/")
    expect(page.get_by_test_id("invite-form")).to_be_visible()


@pytest.mark.parametrize("width", [1440, 390])
def test_screenshots(new_page, live_server, screenshot_dir, width) -> None:
    """The users and operator team pages at a desktop and a phone width, for a look."""
    operator = User.objects.create_user(
        "lead@dezky.example", None, name="Sample Lead", platform_admin=True
    )
    _people()
    OperatorInvite.objects.create(
        email="stuck@dezky.example", name="Stuck Ops", directory="authentik",
        state="failed", last_error="stuck@dezky.example already belongs to an account.",
    )  # fmt: skip
    client = Client()
    client.force_login(operator)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/users/?view=admins&q=&sort=-email")
    page.screenshot(path=str(screenshot_dir / f"operators-users-{width}.png"), full_page=True)
    page.goto(f"{live_server.url}/operator-team/")
    page.screenshot(path=str(screenshot_dir / f"operators-team-{width}.png"), full_page=True)
    page.get_by_test_id("invite-operator").click()
    page.get_by_label("Name").fill("   ")
    page.get_by_label("Email").fill(NEW_EMAIL)
    page.get_by_test_id("invite-submit").click()
    page.locator('#invite-name[aria-invalid="true"]').wait_for()
    page.screenshot(path=str(screenshot_dir / f"operators-invite-400-{width}.png"))
