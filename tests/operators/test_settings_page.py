"""The settings page (/settings/), the password change page and signing out the
other sessions, through their views."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from operators.models import UserSession
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, StaffFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
NEW_PASSWORD = "lantern orchard gravel 42"
HTMX = {"HTTP_HX_REQUEST": "true"}
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def browser_of(user, **headers: str) -> Client:
    browser = Client(**headers)
    signed = browser.post(reverse("operators:login"), {"email": user.email, "password": PASSWORD})
    assert signed.status_code == 302
    return browser


def _change(client: Client, *, current: str = PASSWORD, new: str = NEW_PASSWORD,
            again: str | None = None, **extra: str):  # fmt: skip
    data = {
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return client.post(reverse("operators:password_change"), data, **extra)


class TestSettingsPage:
    def test_the_four_cards_render_with_the_profile(self, client) -> None:
        user = StaffFactory(name="Pat Rivera", email="pat@northwind.example", platform_admin=True)
        client.force_login(user)
        response = client.get(reverse("console:settings"))
        assert response.status_code == 200
        html = response.text
        for card in ("profile-card", "appearance-card", "password-card", "sessions-card"):
            assert f'data-testid="{card}"' in html, card
        assert "Pat Rivera" in html and "pat@northwind.example" in html
        role = re.search(r'data-testid="profile-role">(.*?)</dd>', html, re.S).group(1)
        assert "Operator" in role and "Staff (Django admin)" in role and "Superuser" in role
        assert "Local: accounts and passwords live in this console" in html
        assert re.search(r'data-testid="profile-sign-in">Password<', html)
        assert "Saved in this browser" in html
        assert 'data-testid="password-form"' in html
        assert response["Cache-Control"] == "private, no-store"

    def test_the_environment_says_it_comes_from_the_host_name(self, client, settings) -> None:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "dezky-staging.example"]
        client.force_login(OperatorFactory())
        html = client.get(reverse("console:settings"), HTTP_HOST="dezky-staging.example").text
        environment = re.search(r'data-testid="profile-environment">(.*?)</dd>', html, re.S)
        assert 'data-env="staging"' in environment.group(1)
        assert "from the host name" in environment.group(1)
        assert "dezky-staging.example" in environment.group(1)
        # The server's own setting (dev) differs from what the host says: both are shown.
        assert "DEZKY_ENVIRONMENT" in environment.group(1)

    def test_authentik_mode_links_to_authentiks_user_settings(self, client, settings) -> None:
        settings.IDENTITY_MODE = "authentik"
        settings.AUTHENTIK_URL = "https://auth.northwind.example/"
        client.force_login(OperatorFactory())
        session = client.session
        session["oidc_id_token_expiration"] = time.time() + 3600  # no renewal now
        session.save()
        html = client.get(reverse("console:settings")).text
        assert 'href="https://auth.northwind.example/if/user/#/settings"' in html
        assert "Your password is managed in Authentik" in html
        assert 'data-testid="password-form"' not in html
        assert "Password (break-glass sign-in)" in html  # force_login used the password backend

    def test_sessions_are_listed_with_this_one_marked(self) -> None:
        user = OperatorFactory()
        other = browser_of(user, HTTP_USER_AGENT=CHROME_MAC, REMOTE_ADDR="198.51.100.7")
        mine = browser_of(user)
        html = mine.get(reverse("console:settings")).text
        rows = re.findall(r'<tr data-testid="session-row"(.*?)</tr>', html, re.S)
        assert len(rows) == 2
        current = [r for r in rows if 'data-current="true"' in r]
        assert len(current) == 1 and "This session" in current[0]
        other_row = next(r for r in rows if 'data-current="true"' not in r)
        assert "Chrome on macOS" in other_row and "198.51.100.7" in other_row
        assert 'data-testid="end-other-sessions"' in html and "end-others-dialog" in html
        assert other  # kept signed in for the listing

    def test_alone_the_sign_out_button_says_why_it_is_off(self, operator_client) -> None:
        html = operator_client.get(reverse("console:settings")).text
        assert re.search(
            r'<button type="button"[^>]*disabled[^>]*data-testid="end-other-sessions"', html
        )
        assert "No other session is signed in." in html


class TestPasswordChangeViews:
    def test_errors_come_back_in_the_card_naming_each_field(self, operator_client) -> None:
        response = _change(operator_client, current="not it", **HTMX)
        assert response.status_code == 400
        assert "<html" not in response.text and 'data-testid="password-form"' in response.text
        assert "Current password: That is not your current password." in response.text
        assert 'aria-invalid="true"' in response.text

        response = _change(operator_client, again="something else", **HTMX)
        assert response.status_code == 400
        assert "New password again: It differs from the new password." in response.text

        response = _change(operator_client, new="12345678", **HTMX)
        assert response.status_code == 400
        assert "New password: This password is too common." in response.text

    def test_a_missing_field_is_named(self, operator_client) -> None:
        response = operator_client.post(
            reverse("operators:password_change"), {"current_password": PASSWORD}
        )
        assert response.status_code == 400
        assert "New password: This field is required." in response.text
        assert "New password again: This field is required." in response.text

    def test_a_change_in_the_card_keeps_this_session_and_ends_the_others(self) -> None:
        user = OperatorFactory()
        other = browser_of(user)
        mine = browser_of(user)
        with watch_audit() as log:
            response = _change(mine, **HTMX)
        assert response.status_code == 200
        assert 'data-testid="password-notice"' in response.text
        assert "Your password is changed. 1 other session signed out." in response.text
        log.one("user.password_changed", actor=user)
        assert mine.get(reverse("console:settings")).status_code == 200
        assert other.get(reverse("console:settings")).status_code == 302
        # The session's new key (Django cycles it) keeps its row.
        assert list(UserSession.objects.values_list("session_key", flat=True)) == [
            mine.cookies["sessionid"].value
        ]

    def test_without_javascript_a_change_goes_back_to_settings(self, operator_client) -> None:
        response = _change(operator_client)
        assert response.status_code == 303 and response.url == reverse("console:settings")

    def test_too_many_wrong_current_passwords_answer_429(self, operator_client) -> None:
        for _ in range(5):
            assert _change(operator_client, current="guess", **HTMX).status_code == 400
        response = _change(operator_client, **HTMX)
        assert response.status_code == 429
        assert "Current password: Too many wrong current passwords." in response.text

    def test_the_forced_page_is_minimal_and_keeps_the_destination(self, client) -> None:
        user = OperatorFactory(password_change_required=True)
        client.force_login(user)
        page = client.get(reverse("operators:password_change") + "?next=/tenants/")
        assert page.status_code == 200
        assert "Choose your own password" in page.text
        assert '<aside class="sidebar"' not in page.text  # nothing else is reachable yet
        assert 'name="next" value="/tenants/"' in page.text
        assert 'data-testid="password-change-logout"' in page.text

    def test_a_foreign_next_url_is_ignored(self, client) -> None:
        user = OperatorFactory(password_change_required=True)
        client.force_login(user)
        response = client.post(
            reverse("operators:password_change"),
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
                "next": "https://evil.example/",
            },
        )
        assert response.status_code == 303 and response.url == reverse("console:overview")

    def test_authentik_mode_refuses_a_posted_change(self, operator_client, settings) -> None:
        settings.IDENTITY_MODE = "authentik"
        session = operator_client.session
        session["oidc_id_token_expiration"] = time.time() + 3600
        session.save()
        with watch_audit() as log:
            response = _change(operator_client)
        assert response.status_code == 403
        assert "Your password is managed in Authentik" in response.text
        log.none()


class TestSignOutOthers:
    def test_the_get_is_the_confirmation_as_a_page(self, operator_client) -> None:
        response = operator_client.get(reverse("operators:sessions_end_others"))
        assert response.status_code == 200
        assert "Sign out your other sessions?" in response.text
        assert f'href="{reverse("console:settings")}"' in response.text  # Cancel

    def test_the_swap_refreshes_the_card_and_the_other_browser_is_signed_out(self) -> None:
        user = OperatorFactory()
        other = browser_of(user)
        other_key = other.cookies["sessionid"].value
        mine = browser_of(user)
        with watch_audit() as log:
            response = mine.post(reverse("operators:sessions_end_others"), **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert "Signed out 1 other session." in response.text
        assert len(re.findall(r'data-testid="session-row"', response.text)) == 1
        assert log.one("user.sessions_ended", actor=user).metadata == {"count": 1}
        assert not Session.objects.filter(session_key=other_key).exists()
        signed_out = other.get(reverse("tenants:list"))
        assert signed_out.status_code == 302
        assert signed_out.url.startswith(reverse("operators:login"))
        assert mine.get(reverse("tenants:list")).status_code == 200

    def test_without_javascript_it_redirects_with_a_message(self, operator_client) -> None:
        with watch_audit() as log:
            response = operator_client.post(reverse("operators:sessions_end_others"))
        assert response.status_code == 303 and response.url == reverse("console:settings")
        log.none()  # nothing else was signed in
        page = operator_client.get(response.url)
        assert "No other session was signed in; nothing changed." in page.text
