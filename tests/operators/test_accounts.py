"""An operator's own account: temporary passwords, changing the password, sessions
(tracking, lifetime, ending them) and what a forced change holds back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError, RateLimited
from operators import accounts, sessions
from operators.directory.local import LocalDirectory
from operators.middleware import change_first_message
from operators.models import UserSession
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
NEW_PASSWORD = "lantern orchard gravel 42"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


@contextmanager
def later(**delta: float) -> Iterator[None]:
    """Every clock the sessions read (timezone.now) moved forward by `delta`."""
    moved = timezone.now() + timedelta(**delta)
    with mock.patch("django.utils.timezone.now", return_value=moved):
        yield


def signed_in(user, **headers: str) -> Client:
    """A browser with its own session of `user`, signed in through the login form."""
    browser = Client(**headers)
    signed = browser.post(reverse("operators:login"), {"email": user.email, "password": PASSWORD})
    assert signed.status_code == 302
    held = user.password_change_required  # then only the change page answers
    page = reverse("operators:password_change" if held else "console:settings")
    assert browser.get(page).status_code == 200
    return browser


def _key(browser: Client) -> str:
    return browser.cookies["sessionid"].value


# --------------------------------------------------------- temporary passwords --


class TestTemporaryPassword:
    def test_the_local_directory_marks_a_password_it_sets_as_temporary(self, settings) -> None:
        settings.TEMP_PASSWORD_HOURS = 5
        user = OperatorFactory()
        before = timezone.now()
        LocalDirectory().set_password(user.pk, "Temp-sample-7781")
        user.refresh_from_db()
        assert user.check_password("Temp-sample-7781")
        assert user.password_change_required is True
        expected = before + timedelta(hours=5)
        assert expected <= user.password_expires_at <= expected + timedelta(seconds=5)


# ------------------------------------------------------------ password change --


class TestPasswordChange:
    def test_a_wrong_current_password_names_the_field_and_changes_nothing(self) -> None:
        user = OperatorFactory()
        with watch_audit() as log, pytest.raises(ValidationError) as refused:
            accounts.user_password_change(
                user=user, current_password="not it", new_password=NEW_PASSWORD,
                keep_session_key=None, ip=None,
            )  # fmt: skip
        assert list(refused.value.message_dict) == ["current_password"]
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        log.none()

    def test_the_new_password_must_differ_from_the_current_one(self) -> None:
        user = OperatorFactory()
        with pytest.raises(ValidationError) as refused:
            accounts.user_password_change(
                user=user, current_password=PASSWORD, new_password=PASSWORD,
                keep_session_key=None, ip=None,
            )  # fmt: skip
        assert refused.value.message_dict == {
            "new_password": ["Choose a new password, different from the current one."]
        }

    def test_the_password_validators_name_the_new_password(self) -> None:
        user = OperatorFactory()
        with watch_audit() as log, pytest.raises(ValidationError) as refused:
            accounts.user_password_change(
                user=user, current_password=PASSWORD, new_password="1234",
                keep_session_key=None, ip=None,
            )  # fmt: skip
        messages = refused.value.message_dict["new_password"]
        assert any("too short" in m for m in messages)
        assert any("entirely numeric" in m for m in messages)
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        log.none()

    def test_a_change_clears_the_temporary_flags_ends_other_sessions_and_is_audited(
        self,
    ) -> None:
        user = OperatorFactory(
            password_change_required=True,
            password_expires_at=timezone.now() + timedelta(hours=1),
        )
        mine, other = signed_in(user), signed_in(user)
        with watch_audit() as log:
            changed = accounts.user_password_change(
                user=user, current_password=PASSWORD, new_password=NEW_PASSWORD,
                keep_session_key=_key(mine), ip="203.0.113.9",
            )  # fmt: skip
        assert changed.was_temporary and changed.other_sessions_ended == 1
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert user.password_change_required is False and user.password_expires_at is None
        event = log.one("user.password_changed", actor=user)
        assert event.target_id == str(user.pk) and event.actor_ip == "203.0.113.9"
        assert event.metadata == {"temporary": True, "other_sessions_ended": 1}
        assert not Session.objects.filter(session_key=_key(other)).exists()
        assert list(UserSession.objects.values_list("session_key", flat=True)) == [_key(mine)]

    def test_too_many_wrong_current_passwords_are_refused_before_checking(self) -> None:
        user = OperatorFactory()
        for _ in range(accounts.CURRENT_PASSWORD_FAILURES):
            with pytest.raises(ValidationError):
                accounts.user_password_change(
                    user=user, current_password="guess", new_password=NEW_PASSWORD,
                    keep_session_key=None, ip=None,
                )  # fmt: skip
        with pytest.raises(RateLimited) as refused:
            accounts.user_password_change(
                user=user, current_password=PASSWORD, new_password=NEW_PASSWORD,
                keep_session_key=None, ip=None,
            )  # fmt: skip
        assert refused.value.field == "current_password"
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_authentik_mode_changes_no_password_here(self, settings) -> None:
        settings.IDENTITY_MODE = "authentik"
        user = OperatorFactory()
        with pytest.raises(ApplicationError):
            accounts.user_password_change(
                user=user, current_password=PASSWORD, new_password=NEW_PASSWORD,
                keep_session_key=None, ip=None,
            )  # fmt: skip
        user.refresh_from_db()
        assert user.check_password(PASSWORD)


# ------------------------------------------------------------- ending sessions --


class TestEndingSessions:
    def test_end_user_sessions_ends_all_but_the_kept_one_and_records_nothing(self) -> None:
        user, someone_else = OperatorFactory(), OperatorFactory()
        kept, first, second = signed_in(user), signed_in(user), signed_in(user)
        bystander = signed_in(someone_else)
        with watch_audit() as log:
            ended = sessions.end_user_sessions(user, keep_session_key=_key(kept))
        assert ended == 2
        log.none()
        for browser in (first, second):
            response = browser.get(reverse("console:overview"))
            assert response.status_code == 302 and response.url.startswith(
                reverse("operators:login")
            )
        assert kept.get(reverse("console:overview")).status_code == 200
        assert bystander.get(reverse("console:overview")).status_code == 200
        assert UserSession.objects.filter(user=user).count() == 1

    def test_end_user_sessions_without_a_kept_one_ends_every_session(self) -> None:
        user = OperatorFactory()
        browsers = [signed_in(user), signed_in(user)]
        assert sessions.end_user_sessions(user) == 2
        assert not UserSession.objects.filter(user=user).exists()
        assert all(b.get(reverse("console:overview")).status_code == 302 for b in browsers)

    def test_signing_out_the_others_is_one_audit_event(self) -> None:
        user = OperatorFactory()
        mine, _other, _third = signed_in(user), signed_in(user), signed_in(user)
        with watch_audit() as log:
            ended = accounts.user_sessions_end_others(
                user=user, current_session_key=_key(mine), ip="198.51.100.4"
            )
        assert ended == 2
        event = log.one("user.sessions_ended", actor=user)
        assert event.metadata == {"count": 2} and event.actor_ip == "198.51.100.4"

    def test_with_no_other_session_nothing_is_recorded(self) -> None:
        user = OperatorFactory()
        mine = signed_in(user)
        with watch_audit() as log:
            assert (
                accounts.user_sessions_end_others(
                    user=user, current_session_key=_key(mine), ip=None
                )
                == 0
            )
        log.none()

    def test_a_deactivated_users_session_is_refused_on_its_next_request(self) -> None:
        user = OperatorFactory()
        browser = signed_in(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        response = browser.get(reverse("console:overview"))
        assert response.status_code == 302 and response.url.startswith(reverse("operators:login"))

    def test_the_oidc_backend_refuses_an_inactive_user(self) -> None:
        from operators.oidc.backend import OperatorOIDCBackend

        user = OperatorFactory(is_active=False)
        assert OperatorOIDCBackend().get_user(user.pk) is None


# ------------------------------------------------------------- session tracking --


class TestTracking:
    def test_signing_in_records_the_session_with_its_device(self) -> None:
        user = OperatorFactory()
        browser = Client(HTTP_USER_AGENT=FIREFOX_WINDOWS)
        browser.post(reverse("operators:login"), {"email": user.email, "password": PASSWORD})
        row = UserSession.objects.get()
        assert row.session_key == _key(browser) and row.user == user
        assert row.ip == "127.0.0.1" and row.user_agent == FIREFOX_WINDOWS
        assert sessions.describe_device(row.user_agent) == "Firefox on Windows"
        # The first page after it writes nothing more.
        with mock.patch.object(UserSession.objects, "update_or_create") as write:
            assert browser.get(reverse("console:overview")).status_code == 200
        write.assert_not_called()

    def test_signing_in_drops_the_rows_of_sessions_that_ended_unnoticed(self) -> None:
        user = OperatorFactory()
        UserSession.objects.create(session_key="gone" * 8, user=user)  # no such session
        Client().post(reverse("operators:login"), {"email": user.email, "password": PASSWORD})
        assert not UserSession.objects.filter(session_key="gone" * 8).exists()
        assert UserSession.objects.filter(user=user).count() == 1

    def test_a_session_from_before_tracking_is_recorded_on_its_next_request(self) -> None:
        user = OperatorFactory()
        browser = Client(HTTP_USER_AGENT=FIREFOX_WINDOWS)
        browser.force_login(user)
        UserSession.objects.all().delete()
        session = browser.session
        for key in (sessions.SIGNED_IN_AT, sessions.SEEN_AT):
            session.pop(key, None)
        session.save()
        assert browser.get(reverse("console:overview")).status_code == 200
        row = UserSession.objects.get()
        assert row.session_key == _key(browser) and row.user_agent == FIREFOX_WINDOWS
        assert sessions.SIGNED_IN_AT in browser.session

    def test_last_seen_is_written_at_most_once_a_minute(self) -> None:
        user = OperatorFactory()
        browser = signed_in(user)
        first_seen = UserSession.objects.get().last_seen_at
        with later(seconds=30):
            browser.get(reverse("console:overview"))
        assert UserSession.objects.get().last_seen_at == first_seen
        with later(seconds=90):
            browser.get(reverse("console:overview"))
        assert UserSession.objects.get().last_seen_at > first_seen

    def test_a_page_within_the_minute_writes_nothing(self) -> None:
        user = OperatorFactory()
        browser = signed_in(user)
        with mock.patch.object(UserSession.objects, "update_or_create") as write:
            browser.get(reverse("console:settings"))
        write.assert_not_called()

    def test_signing_out_removes_the_row(self) -> None:
        user = OperatorFactory()
        browser = signed_in(user)
        assert browser.post(reverse("operators:logout")).status_code == 302
        assert not UserSession.objects.exists()

    def test_rows_whose_session_is_gone_are_pruned_from_the_list(self) -> None:
        user = OperatorFactory()
        mine, gone = signed_in(user), signed_in(user)
        Session.objects.filter(session_key=_key(gone)).delete()  # e.g. clearsessions
        assert [r.session_key for r in sessions.live_sessions(user)] == [_key(mine)]
        assert UserSession.objects.count() == 1

    def test_rows_past_the_idle_limit_are_ended_when_listed(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        user = OperatorFactory()
        idle = signed_in(user)
        with later(minutes=45):
            assert list(sessions.live_sessions(user)) == []
        assert not Session.objects.filter(session_key=_key(idle)).exists()

    @pytest.mark.parametrize(
        ("agent", "device"),
        [
            (FIREFOX_WINDOWS, "Firefox on Windows"),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "Unknown browser"),
            ("", "Unknown browser"),
        ],
    )
    def test_devices_are_named_in_plain_words(self, agent: str, device: str) -> None:
        assert sessions.describe_device(agent) == device


# -------------------------------------------------------------- session lifetime --


class TestLifetime:
    def test_an_idle_session_ends_and_the_page_goes_to_login_saying_why(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        user = OperatorFactory()
        browser = signed_in(user)
        key = _key(browser)
        with later(minutes=31):
            response = browser.get(reverse("tenants:list"))
        assert response.status_code == 302
        assert response.url == reverse("operators:login") + "?next=" + reverse("tenants:list")
        assert not Session.objects.filter(session_key=key).exists()
        assert not UserSession.objects.exists()
        login = browser.get(response.url)
        assert login.status_code == 200
        assert "Your session expired after 30 minutes without activity. Sign in again." in (
            login.text
        )

    def test_activity_keeps_a_session_alive_past_the_idle_limit(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        browser = signed_in(OperatorFactory())
        for minutes in (20, 40, 60):
            with later(minutes=minutes):
                assert browser.get(reverse("console:overview")).status_code == 200

    def test_a_tabs_own_polling_is_not_activity(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        browser = signed_in(OperatorFactory())
        poll = reverse("notifications:count")
        for minutes in (10, 20, 29):
            with later(minutes=minutes):
                assert browser.get(poll, HTTP_HX_REQUEST="true").status_code == 200
        with later(minutes=31):
            response = browser.get(poll, HTTP_HX_REQUEST="true")
        assert response.status_code == 401
        assert response["HX-Redirect"] == reverse("operators:login")  # no page to go back to

    def test_a_session_ends_at_its_absolute_limit_however_active(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 60
        settings.SESSION_MAX_HOURS = 2
        browser = signed_in(OperatorFactory())
        for minutes in (50, 100):
            with later(minutes=minutes):
                assert browser.get(reverse("console:overview")).status_code == 200
        with later(minutes=121):
            response = browser.get(reverse("console:overview"))
        assert response.status_code == 302
        stored = [str(m) for m in response.wsgi_request._messages]
        assert stored == ["Your session reached its limit of 2 hours. Sign in again."]

    def test_an_idle_session_is_ended_not_renewed_through_the_provider(
        self, oidc_provider, settings
    ) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        browser = Client()
        browser.force_login(OperatorFactory())
        session = browser.session
        session["oidc_id_token_expiration"] = time.time() + 3600
        session.save()
        assert browser.get(reverse("console:settings")).status_code == 200
        session = browser.session
        session["oidc_id_token_expiration"] = time.time() - 1  # due for a silent renewal
        session.save()
        with later(minutes=31):
            response = browser.get(reverse("tenants:list"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("operators:login"))

    def test_an_expired_session_gets_401_json_from_the_api(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        browser = signed_in(OperatorFactory())
        with later(minutes=31):
            response = browser.get(reverse("api:flag-list"))
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
        assert response["Cache-Control"] == "private, no-store"

    def test_an_expired_htmx_request_is_told_where_to_sign_in(self, settings) -> None:
        settings.SESSION_IDLE_MINUTES = 30
        browser = signed_in(OperatorFactory())
        with later(minutes=31):
            response = browser.get(
                reverse("tenants:list") + "?q=zephyr",
                HTTP_HX_REQUEST="true",
                HTTP_HX_CURRENT_URL="http://testserver/tenants/?q=zeph",
            )
        assert response.status_code == 401
        # Back to the page the swap was made on, not to the fragment's URL.
        assert response["HX-Redirect"] == "/login/?next=/tenants/%3Fq%3Dzeph"


# ------------------------------------------------------------ forced change --


class TestForcedChange:
    @pytest.fixture
    def held(self) -> Client:
        user = OperatorFactory(password_change_required=True)
        browser = Client()
        browser.force_login(user)
        browser.user = user
        return browser

    def test_every_page_leads_to_the_change_page_and_back(self, held) -> None:
        for url in (reverse("tenants:list"), reverse("console:overview"), "/flags/?q=sso"):
            response = held.get(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("operators:password_change") + "?next=")

    def test_the_change_page_logout_and_health_stay_reachable(self, held) -> None:
        assert held.get(reverse("operators:password_change")).status_code == 200
        assert held.get(reverse("healthz")).status_code == 200
        assert held.get(reverse("operators:logout")).status_code == 200

    def test_the_api_answers_403_json_saying_why(self, held) -> None:
        for method, url in (
            ("get", reverse("api:flag-list")),
            ("post", reverse("api:operator-invite")),
        ):
            response = getattr(held, method)(url)
            assert response.status_code == 403, url
            assert response.json() == {"detail": change_first_message()}
            assert "/settings/password/" in response.json()["detail"]

    def test_a_swap_is_told_to_go_to_the_change_page(self, held) -> None:
        response = held.get(reverse("tenants:list"), HTTP_HX_REQUEST="true")
        assert response.status_code == 403
        assert response["HX-Redirect"] == reverse("operators:password_change")

    def test_changing_it_opens_the_console_and_goes_where_they_wanted(self, held) -> None:
        response = held.post(
            reverse("operators:password_change"),
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
                "next": reverse("tenants:list"),
            },
        )
        assert response.status_code == 303 and response.url == reverse("tenants:list")
        assert held.get(reverse("tenants:list")).status_code == 200

    def test_authentik_mode_does_not_hold_anyone(self, held, settings) -> None:
        settings.IDENTITY_MODE = "local"
        assert held.get(reverse("console:overview")).status_code == 302
        settings.IDENTITY_MODE = "authentik"
        from operators.middleware import password_change_enforced

        assert password_change_enforced(held.user) is False
        assert password_change_enforced(AnonymousUser()) is False


# ----------------------------------------------------------------- caching --


class TestCacheHeaders:
    def test_signed_in_pages_and_api_answers_are_private_and_not_stored(
        self, operator_client
    ) -> None:
        for url in (reverse("console:overview"), reverse("console:settings")):
            assert operator_client.get(url)["Cache-Control"] == "private, no-store", url
        api = operator_client.get(reverse("api:flag-list"))
        assert api.status_code == 200
        assert api["Cache-Control"] == "private, no-store"

    def test_api_answers_to_a_service_token_are_private_and_not_stored(self, client) -> None:
        from tests.operators.factories_tokens import make_token

        token = make_token("flags:read")
        api = client.get(reverse("api:flag-list"), HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.status_code == 200
        assert api["Cache-Control"] == "private, no-store"
        refused = client.get(reverse("api:flag-list"), HTTP_AUTHORIZATION="Bearer dzk_nope")
        assert refused.status_code == 401
        assert refused["Cache-Control"] == "private, no-store"

    def test_a_deliberate_cache_control_is_left_alone(self, operator_client) -> None:
        # The invite page says never_cache itself; the middleware does not overwrite it.
        response = operator_client.get(reverse("operators:invite"))
        assert "max-age=0" in response["Cache-Control"]
        assert "no-store" in response["Cache-Control"]
