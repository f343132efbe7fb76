"""Deactivating, reactivating and resending the invite of an operator: the services
in both identity modes (Authentik against the fake, over HTTP, failing midway too)
and the team page's buttons, dialogs and answers."""

from __future__ import annotations

import html as html_lib
import re
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict, RateLimited, UpstreamError
from operators.invites import operator_invite
from operators.lifecycle import operator_deactivate, operator_reactivate, operator_resend_invite
from operators.models import User, UserSession
from operators.sessions import session_store
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
TEAM = reverse("operators:team")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "operator-team"}
ADMINS = "dezky-platform-admins"


def _url(action: str, user: User) -> str:
    return reverse(f"operators:{action}", kwargs={"user_id": user.pk})


@pytest.fixture
def actor():
    return OperatorFactory(email="lead@dezky.example", last_login=timezone.now())


@pytest.fixture
def other():
    return OperatorFactory(email="pat.rivera@dezky.example", last_login=timezone.now())


def _signed_in_session(user: User) -> str:
    """A real session of `user` in the store, tracked as the console tracks it."""
    store = session_store()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    UserSession.objects.create(session_key=store.session_key, user=user)
    return store.session_key


def _group(fake, name=ADMINS):
    return next(g for g in fake.groups.values() if g["name"] == name)


def _invited_in_authentik(actor, email="sam.lee@dezky.example") -> User:
    result = operator_invite(name="Sam Lee", email=email, actor=actor)
    return User.objects.get(pk=result.user_id)


class TestDeactivateLocal:
    def test_deactivates_ends_sessions_and_records_one_event(self, actor, other) -> None:
        key = _signed_in_session(other)
        with watch_audit() as log:
            operator_deactivate(user=other, actor=actor, ip="192.0.2.10")
        other.refresh_from_db()
        assert not other.is_active
        event = log.one("platform.operator_deactivated", actor=actor)
        assert event.target_id == str(other.pk) and event.actor_ip == "192.0.2.10"
        assert event.metadata["directory"] == "local"
        assert not session_store(key).exists(key)
        assert not UserSession.objects.filter(user=other).exists()

    def test_never_yourself(self, actor, other) -> None:
        with watch_audit() as log, pytest.raises(Conflict, match="yourself"):
            operator_deactivate(user=actor, actor=actor)
        log.none()
        actor.refresh_from_db()
        assert actor.is_active

    def test_never_the_last_active_operator(self, actor) -> None:
        # The actor is inactive (say, deactivated in another tab): the target is the last.
        last = OperatorFactory(email="last@dezky.example")
        User.objects.filter(pk=actor.pk).update(is_active=False)
        with watch_audit() as log, pytest.raises(Conflict, match="last active operator"):
            operator_deactivate(user=last, actor=actor)
        log.none()
        last.refresh_from_db()
        assert last.is_active

    def test_an_inactive_one_is_refused(self, actor) -> None:
        away = OperatorFactory(is_active=False)
        with pytest.raises(Conflict, match="inactive already"):
            operator_deactivate(user=away, actor=actor)

    def test_a_tenant_user_is_not_an_operator(self, actor) -> None:
        from core.errors import NotFound

        member = UserFactory()
        with pytest.raises(NotFound):
            operator_deactivate(user=member, actor=actor)


class TestReactivateLocal:
    def test_reactivates_with_one_event(self, actor) -> None:
        away = OperatorFactory(email="away@dezky.example", is_active=False)
        with watch_audit() as log:
            operator_reactivate(user=away, actor=actor)
        away.refresh_from_db()
        assert away.is_active
        log.one("platform.operator_reactivated", actor=actor)

    def test_an_active_one_is_refused(self, actor, other) -> None:
        with watch_audit() as log, pytest.raises(Conflict, match="active already"):
            operator_reactivate(user=other, actor=actor)
        log.none()


class TestResendLocal:
    def test_a_new_temporary_password_never_stored_or_audited(self, actor, client) -> None:
        fresh = OperatorFactory(email="new@dezky.example")
        with watch_audit() as log:
            result = operator_resend_invite(user=fresh, actor=actor)
        assert result.temp_password and result.link is None
        event = log.one("platform.invite_resent", actor=actor)
        assert event.metadata["handoff"] == "temp-password"
        assert result.temp_password not in str(event.metadata)
        fresh.refresh_from_db()
        assert fresh.check_password(result.temp_password)
        assert not fresh.check_password("correct horse battery")  # the old one is gone

    def test_only_before_the_first_sign_in(self, actor, other) -> None:
        with watch_audit() as log, pytest.raises(Conflict, match="signed in already"):
            operator_resend_invite(user=other, actor=actor)
        log.none()
        other.refresh_from_db()
        assert other.check_password("correct horse battery")

    def test_not_for_an_inactive_operator(self, actor) -> None:
        away = OperatorFactory(is_active=False)
        with pytest.raises(Conflict, match="inactive"):
            operator_resend_invite(user=away, actor=actor)

    def test_the_per_minute_limit_applies(self, actor, settings) -> None:
        settings.INVITES_PER_MINUTE = 1
        fresh = OperatorFactory()
        operator_resend_invite(user=fresh, actor=actor)
        with pytest.raises(RateLimited):
            operator_resend_invite(user=fresh, actor=actor)


class TestAuthentik:
    def test_deactivate_turns_the_account_off_and_out_of_the_group(
        self, actor, fake_authentik
    ) -> None:
        sam = _invited_in_authentik(actor)
        key = _signed_in_session(sam)
        with watch_audit() as log:
            operator_deactivate(user=sam, actor=actor)
        account = fake_authentik.users[sam.authentik_pk]
        assert account["is_active"] is False
        assert sam.authentik_pk not in _group(fake_authentik)["users"]
        sam.refresh_from_db()
        assert not sam.is_active
        event = log.one("platform.operator_deactivated", actor=actor)
        assert event.metadata["directory_user_pk"] == sam.authentik_pk
        assert not session_store(key).exists(key)

    def test_reactivate_is_the_reverse(self, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        operator_deactivate(user=sam, actor=actor)
        with watch_audit() as log:
            operator_reactivate(user=sam, actor=actor)
        assert fake_authentik.users[sam.authentik_pk]["is_active"] is True
        assert sam.authentik_pk in _group(fake_authentik)["users"]
        sam.refresh_from_db()
        assert sam.is_active
        log.one("platform.operator_reactivated", actor=actor)

    def test_authentik_failing_first_changes_nothing(self, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        fake_authentik.inject("PATCH", r"/core/users/\d+/$", "500")
        with watch_audit() as log, pytest.raises(UpstreamError) as exc:
            operator_deactivate(user=sam, actor=actor)
        assert "Nothing was changed" in exc.value.message
        assert "still lists them as active" in exc.value.message
        log.none()
        sam.refresh_from_db()
        assert sam.is_active

    def test_authentik_failing_midway_says_what_was_done(self, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        fake_authentik.inject("POST", r"/remove_user/$", "502")
        with watch_audit() as log, pytest.raises(UpstreamError) as exc:
            operator_deactivate(user=sam, actor=actor)
        message = exc.value.message
        assert message.startswith(
            "Authentik deactivated the account but removing it from the operators' group failed"
        )
        assert "still lists them as active; retry" in message
        # Authentik changed (the account is off), so that is recorded; nothing here changed.
        partial = log.one("platform.operator_change_partial", actor=actor)
        assert partial.metadata["change"] == "deactivate"
        assert "removing it from the operators' group failed" in partial.metadata["error"]
        sam.refresh_from_db()
        assert sam.is_active
        # The retry finishes it: both calls are idempotent.
        operator_deactivate(user=sam, actor=actor)
        assert sam.authentik_pk not in _group(fake_authentik)["users"]
        assert fake_authentik.users[sam.authentik_pk]["is_active"] is False

    def test_resend_without_a_recovery_flow_sets_a_new_password(
        self, actor, fake_authentik
    ) -> None:
        sam = _invited_in_authentik(actor)
        first = fake_authentik.passwords[sam.authentik_pk]
        with watch_audit() as log:
            result = operator_resend_invite(user=sam, actor=actor)
        assert result.temp_password and result.temp_password != first
        assert fake_authentik.passwords[sam.authentik_pk] == result.temp_password
        assert log.one("platform.invite_resent", actor=actor).metadata["handoff"] == (
            "temp-password"
        )

    def test_resend_with_a_recovery_flow_hands_a_link(self, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        fake_authentik.recovery_flow = True
        with watch_audit() as log:
            result = operator_resend_invite(user=sam, actor=actor)
        assert result.link and "flow_token=" in result.link and result.temp_password is None
        event = log.one("platform.invite_resent", actor=actor)
        assert event.metadata["handoff"] == "link" and result.link not in str(event.metadata)

    def test_resend_failing_writes_nothing(self, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        fake_authentik.inject("POST", r"/set_password/$", "500")
        with watch_audit() as log, pytest.raises(UpstreamError, match="No new credential"):
            operator_resend_invite(user=sam, actor=actor)
        log.none()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deactivations_cannot_remove_the_last_two() -> None:
    """Two operators deactivating each other at once: one wins, the other is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    one = OperatorFactory(email="one@dezky.example")
    two = OperatorFactory(email="two@dezky.example")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(actor: User, target: User) -> None:
        from django.db import connections

        barrier.wait()
        try:
            operator_deactivate(user=target, actor=actor)
            outcomes.append("done")
        except Conflict as err:
            outcomes.append(err.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in ((one, two), (two, one))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["The last active operator cannot be deactivated.", "done"]
    assert User.objects.filter(platform_admin=True, is_active=True).count() == 1


# --- the team page ----------------------------------------------------------------------


def _actions_of(html: str, email: str) -> str:
    row = re.search(rf'data-email="{re.escape(email)}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {email}"
    return row.group(1)


class TestTeamPageButtons:
    def test_each_row_offers_what_applies_and_says_why_not(self, client, actor, other) -> None:
        fresh = OperatorFactory(email="new@dezky.example")
        away = OperatorFactory(email="away@dezky.example", is_active=False)
        client.force_login(actor)
        html = client.get(TEAM).text
        mine = _actions_of(html, actor.email)
        assert "You cannot deactivate yourself." in mine and "disabled" in mine
        assert f'href="{_url("deactivate", other)}"' in _actions_of(html, other.email)
        assert "Resend invite" not in _actions_of(html, other.email)
        new_row = _actions_of(html, fresh.email)
        assert f'href="{_url("resend", fresh)}"' in new_row
        assert f'href="{_url("reactivate", away)}"' in _actions_of(html, away.email)
        # Each enabled action has its dialog on the page; a disabled one has none.
        assert f'id="deactivate-operator-{other.pk}"' in html
        assert f'id="deactivate-operator-{actor.pk}"' not in html

    def test_the_last_active_operator_says_so(self, actor) -> None:
        from operators.views.team import operator_actions

        last = OperatorFactory(email="last@dezky.example", last_login=timezone.now())
        (deactivate,) = operator_actions(last, actor=actor, active_count=1)
        assert deactivate["why"] == "The last active operator cannot be deactivated."
        (deactivate,) = operator_actions(last, actor=actor, active_count=2)
        assert deactivate["why"] == ""

    def test_get_is_the_confirm_page(self, client, actor, other) -> None:
        client.force_login(actor)
        html = client.get(_url("deactivate", other)).text
        assert f"Deactivate {other.name}?" in html
        assert f'action="{_url("deactivate", other)}"' in html

    def test_get_of_a_refused_action_says_why(self, client, actor) -> None:
        client.force_login(actor)
        html = client.get(_url("deactivate", actor)).text
        assert "You cannot deactivate yourself." in html

    def test_htmx_post_answers_the_list_with_a_notice(self, client, actor, other) -> None:
        client.force_login(actor)
        with watch_audit() as log:
            response = client.post(_url("deactivate", other), **HTMX)
        assert response.status_code == 200
        assert 'data-testid="team-notice"' in response.text
        assert f"Deactivated {other.email}" in response.text
        assert "<html" not in response.text  # the partial, not the page
        assert f'href="{_url("reactivate", other)}"' in response.text
        log.one("platform.operator_deactivated", actor=actor)

    def test_plain_post_redirects_with_the_notice(self, client, actor, other) -> None:
        client.force_login(actor)
        response = client.post(_url("deactivate", other))
        assert response.status_code == 303 and response["Location"] == TEAM
        assert f"Deactivated {other.email}" in client.get(TEAM).text

    def test_a_refusal_is_its_true_status_with_the_reason(self, client, actor) -> None:
        client.force_login(actor)
        with watch_audit() as log:
            response = client.post(_url("deactivate", actor), **HTMX)
        assert response.status_code == 409
        assert "You cannot deactivate yourself." in response.text
        log.none()

    def test_reactivate_from_the_page(self, client, actor) -> None:
        away = OperatorFactory(email="away@dezky.example", is_active=False)
        client.force_login(actor)
        response = client.post(_url("reactivate", away), **HTMX)
        assert f"Reactivated {away.email}" in response.text
        away.refresh_from_db()
        assert away.is_active

    def test_an_unknown_operator_is_gone(self, client, actor) -> None:
        client.force_login(actor)
        response = client.post(reverse("operators:deactivate", kwargs={"user_id": 99999}), **HTMX)
        assert response.status_code == 200 and "no longer on the team" in response.text

    def test_resend_shows_the_credential_once_above_the_list(self, client, actor) -> None:
        fresh = OperatorFactory(email="new@dezky.example")
        client.force_login(actor)
        response = client.post(_url("resend", fresh), **HTMX)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        found = re.search(r'id="resent-password" type="text" value="([^"]+)"', response.text)
        assert found
        fresh.refresh_from_db()
        assert fresh.check_password(html_lib.unescape(found.group(1)))
        # Reloading the page does not show it again.
        assert 'data-testid="resent-credential"' not in client.get(TEAM).text

    def test_resend_without_javascript_is_a_page_of_its_own(self, client, actor) -> None:
        fresh = OperatorFactory(email="new@dezky.example")
        client.force_login(actor)
        response = client.post(_url("resend", fresh))
        assert response.status_code == 200
        assert 'data-testid="resent-credential"' in response.text
        assert "no-store" in response["Cache-Control"]

    def test_resend_for_one_who_signed_in_is_refused(self, client, actor, other) -> None:
        client.force_login(actor)
        response = client.post(_url("resend", other), **HTMX)
        assert response.status_code == 409 and "signed in already" in response.text

    def test_authentik_failure_is_a_502_in_the_list(self, client, actor, fake_authentik) -> None:
        sam = _invited_in_authentik(actor)
        fake_authentik.inject("PATCH", r"/core/users/\d+/$", "500")
        client.force_login(actor)
        response = client.post(_url("deactivate", sam), **HTMX)
        assert response.status_code == 502
        assert "Nothing was changed" in html_lib.unescape(response.text)

    def test_tenant_users_cannot_use_it(self, client, other) -> None:
        member = UserFactory()
        client.force_login(member)
        response = client.post(_url("deactivate", other))
        assert response.status_code in (302, 403, 404)
        other.refresh_from_db()
        assert other.is_active
