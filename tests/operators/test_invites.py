from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import Conflict, NotFound, RateLimited, UpstreamError
from operators.invites import INVITE_IN_FLIGHT, operator_invite, operator_invite_discard
from operators.models import InviteState, OperatorInvite, User
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return OperatorFactory(email="lead@dezky.example")


def _invite(actor, email="new.ops@dezky.example", name="Sample Ops"):
    return operator_invite(name=name, email=email, actor=actor, ip="192.0.2.10")


def _text_of_every_row() -> str:
    """Everything the database holds, as text, to look for a secret in."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


class TestLocalDirectory:
    def test_the_invite_hands_over_a_temporary_password(self, actor, client, settings) -> None:
        with watch_audit() as log:
            result = _invite(actor)
        assert result.link is None and result.temp_password
        user = User.objects.get(email="new.ops@dezky.example")
        assert user.platform_admin and user.is_active and user.pk == result.user_id
        assert user.check_password(result.temp_password)
        event = log.one("platform.user_invited", actor=actor)
        assert event.metadata["handoff"] == "temp-password"
        assert result.temp_password not in str(event.metadata)
        assert OperatorInvite.objects.get().state == InviteState.COMPLETED
        # The new operator can sign in with it, and must choose their own password first.
        client.post("/login/", {"email": user.email, "password": result.temp_password})
        landing = client.get("/")
        assert landing.status_code == 302 and landing.url.startswith("/settings/password/")
        assert result.temp_password_hours == settings.TEMP_PASSWORD_HOURS
        assert result.link_minutes is None

    def test_a_taken_email_is_a_conflict_and_nothing_is_written(self, actor) -> None:
        UserFactory(email="taken@dezky.example")
        with watch_audit() as log, pytest.raises(Conflict):
            _invite(actor, email="Taken@Dezky.example")
        log.none()
        assert not OperatorInvite.objects.exists()

    def test_bad_fields_are_named(self, actor) -> None:
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as exc:
            _invite(actor, email="not-an-email", name=" ")
        assert set(exc.value.message_dict) == {"name", "email"}


class TestAuthentikDirectory:
    def test_without_a_recovery_flow_a_temporary_password_is_set_in_authentik(
        self, actor, fake_authentik
    ) -> None:
        with watch_audit() as log:
            result = _invite(actor, email="New.Ops@Dezky.example")
        account = next(u for u in fake_authentik.users.values())
        assert account["email"] == "new.ops@dezky.example"
        assert account["username"] == "new.ops@dezky.example"
        assert account["type"] == "internal" and account["is_active"]
        group = next(iter(fake_authentik.groups.values()))
        assert group["name"] == "dezky-platform-admins" and account["pk"] in group["users"]
        assert fake_authentik.passwords[account["pk"]] == result.temp_password
        assert result.subject == account["uid"] and result.link is None
        user = User.objects.get(pk=result.user_id)
        assert user.platform_admin and user.authentik_pk == account["pk"]
        assert not user.has_usable_password()  # they sign in through Authentik
        event = log.one("platform.user_invited", actor=actor)
        assert event.metadata["handoff"] == "temp-password"

    def test_with_a_recovery_flow_the_link_is_handed_over(self, actor, fake_authentik) -> None:
        fake_authentik.recovery_flow = True
        with watch_audit() as log:
            result = _invite(actor)
        assert result.link and "flow_token=" in result.link and result.temp_password is None
        assert fake_authentik.passwords == {}
        assert log.one("platform.user_invited", actor=actor).metadata["handoff"] == "link"

    def test_the_group_is_looked_up_once_per_process(self, actor, fake_authentik) -> None:
        _invite(actor, email="one@dezky.example")
        _invite(actor, email="two@dezky.example")
        assert len(fake_authentik.calls_to("GET", "/core/groups/")) == 1
        assert len(fake_authentik.calls_to("POST", "/core/groups/")) == 1

    def test_a_group_deleted_in_authentik_is_made_again_on_the_retry(
        self, actor, fake_authentik
    ) -> None:
        _invite(actor, email="one@dezky.example")
        fake_authentik.groups.clear()  # deleted in Authentik's UI; the id is still cached
        with pytest.raises(UpstreamError, match="object does not exist"):
            _invite(actor, email="two@dezky.example")
        _invite(actor, email="two@dezky.example")  # the retry looks the group up again
        (group,) = fake_authentik.groups.values()
        two = next(u for u in fake_authentik.users.values() if u["email"] == "two@dezky.example")
        assert group["name"] == "dezky-platform-admins" and two["pk"] in group["users"]
        assert len(fake_authentik.calls_to("GET", "/core/groups/")) == 2

    def test_an_existing_group_is_used_not_duplicated(self, actor, fake_authentik) -> None:
        fake_authentik._create_group({"name": "dezky-platform-admins"})
        _invite(actor)
        assert len(fake_authentik.groups) == 1

    @pytest.mark.parametrize("stored", ["taken@dezky.example", "Taken@Dezky.Example"])
    def test_an_email_of_someone_else_in_authentik_is_a_conflict(
        self, actor, fake_authentik, stored
    ) -> None:
        fake_authentik.add_user(stored)
        with pytest.raises(Conflict, match="already belongs to an account in Authentik"):
            _invite(actor, email="taken@dezky.example")
        assert not User.objects.filter(email="taken@dezky.example").exists()
        assert len(fake_authentik.users) == 1
        invite = OperatorInvite.objects.get()
        assert invite.state == InviteState.BLOCKED  # a retry cannot help: not FAILED
        assert "already belongs to an account in Authentik" in invite.last_error

    def test_a_bad_token_is_an_upstream_error_with_authentiks_words(
        self, actor, fake_authentik, settings
    ) -> None:
        settings.AUTHENTIK_TOKEN = "expired"
        with pytest.raises(UpstreamError) as failure:
            _invite(actor)
        # Authentik's words lack a full stop; the sentence after them must not be glued on.
        assert failure.value.message == (
            "Authentik refused or failed: Token invalid/expired. The invite was kept; retry it."
        )
        assert failure.value.extra == {"upstream_status": 403}
        assert not User.objects.filter(email="new.ops@dezky.example").exists()
        assert OperatorInvite.objects.get().state == InviteState.FAILED  # retriable

    def test_the_exact_email_is_found_past_the_first_page_of_the_search(
        self, actor, fake_authentik
    ) -> None:
        # 25 accounts whose email contains pat@example.test fill page one of the
        # search (20 a page); the account with that email, in capitals, is on page two.
        for i in range(25):
            fake_authentik.add_user(f"{chr(97 + i)}-pat@example.test", name=f"Person {i}")
        existing = fake_authentik.add_user("Pat@EXAMPLE.test", name="Pat Rivera")
        with watch_audit() as log, pytest.raises(Conflict) as refusal:
            _invite(actor, email="pat@example.test", name="Pat Rivera")
        assert "already belongs to an account in Authentik" in refusal.value.message
        assert f"(pk {existing['pk']})" in refusal.value.message
        assert refusal.value.field == "email"
        assert len(fake_authentik.users) == 26, "a second account was made"
        assert fake_authentik.calls_to("POST", "/core/users/") == []
        pages = [c for c in fake_authentik.calls_to("GET", "/core/users/")]
        assert len(pages) == 3  # the exact ?email= (empty), then both pages of ?search=
        assert OperatorInvite.objects.get().state == InviteState.BLOCKED
        log.one("platform.user_invite_failed", actor=actor)

    def test_the_api_answers_409_for_an_email_found_on_page_two(
        self, fake_authentik, operator_client
    ) -> None:
        for i in range(25):
            fake_authentik.add_user(f"{chr(97 + i)}-pat@example.test")
        fake_authentik.add_user("Pat@EXAMPLE.test")
        response = operator_client.post(
            "/api/users/invite/",
            {"name": "Pat Rivera", "email": "pat@example.test"},
            content_type="application/json",
        )
        assert response.status_code == 409, response.content
        assert "already belongs to an account in Authentik" in str(response.json())
        assert len(fake_authentik.users) == 26

    def test_a_username_taken_by_an_account_without_the_email_is_a_conflict_on_email(
        self, actor, fake_authentik
    ) -> None:
        other = fake_authentik.add_user("pat@example.test", name="Pat Old")
        other["email"] = ""  # made in Authentik's UI with the email as username only
        with watch_audit() as log, pytest.raises(Conflict) as refusal:
            _invite(actor, email="pat@example.test", name="Pat Rivera")
        assert refusal.value.field == "email"
        assert refusal.value.message.startswith(
            "The username pat@example.test is taken in Authentik"
        )
        assert "rename or remove that account, or set its email" in refusal.value.message
        assert len(fake_authentik.users) == 1
        invite = OperatorInvite.objects.get()
        assert invite.state == InviteState.BLOCKED
        assert invite.last_error == refusal.value.message
        event = log.one("platform.user_invite_failed", actor=actor)
        assert event.metadata["state"] == "blocked" and event.metadata["status"] == 409

    def test_a_blocked_invite_is_checked_again_and_finishes_once_fixed(
        self, actor, fake_authentik
    ) -> None:
        other = fake_authentik.add_user("pat@example.test", name="Pat Old")
        other["email"] = ""
        with pytest.raises(Conflict):
            _invite(actor, email="pat@example.test")
        assert OperatorInvite.objects.get().state == InviteState.BLOCKED

        other["username"] = "pat.old"  # renamed in Authentik
        result = _invite(actor, email="pat@example.test")
        invite = OperatorInvite.objects.get()
        assert invite.state == InviteState.COMPLETED and invite.last_error == ""
        assert User.objects.get(pk=result.user_id).authentik_pk != other["pk"]
        assert len(fake_authentik.users) == 2

    def test_a_hung_authentik_fails_the_invite_within_its_deadline(
        self, actor, fake_authentik, settings
    ) -> None:
        import time

        settings.AUTHENTIK_TIMEOUT_SECONDS = 1.0
        settings.AUTHENTIK_INVITE_DEADLINE_SECONDS = 1.5
        fake_authentik.inject("GET", r"/core/users/$", "hang", times=5)
        started = time.monotonic()
        with pytest.raises(UpstreamError) as failure:
            _invite(actor)
        took = time.monotonic() - started
        assert took < 1.5 + 2, f"the invite took {took:.1f} s"
        assert "did not answer in" in failure.value.message
        assert "cannot be reached" not in failure.value.message
        assert fake_authentik.faults[0].times == 4  # a read timeout is not retried
        assert OperatorInvite.objects.get().state == InviteState.FAILED

    def test_the_invite_deadline_cuts_the_last_call_short(
        self, actor, fake_authentik, settings
    ) -> None:
        import time

        # Each call may take 1 s, but the whole invite only 1.2 s: the slow first
        # steps leave the hung one far less than its own timeout.
        settings.AUTHENTIK_TIMEOUT_SECONDS = 1.0
        settings.AUTHENTIK_INVITE_DEADLINE_SECONDS = 1.2
        fake_authentik.timeout_seconds = 0.7  # "timeout": answers after 0.7 s, in time
        fake_authentik.inject("GET", r"/core/groups/$", "timeout")
        fake_authentik.inject("POST", r"/core/users/$", "hang")
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"did not answer in 1\.2 s"):
            _invite(actor)
        assert time.monotonic() - started < 1.2 + 1

    def test_an_unreachable_authentik_is_a_clear_error(self, actor, fake_authentik, settings):
        import socket

        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            settings.AUTHENTIK_URL = f"http://127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(UpstreamError, match="cannot be reached"):
            _invite(actor)
        assert not User.objects.filter(email="new.ops@dezky.example").exists()


STEPS = [
    ("GET", r"/core/groups/$"),
    ("POST", r"/core/groups/$"),
    ("GET", r"/core/users/$"),
    ("POST", r"/core/users/$"),
    ("POST", r"/recovery/$"),
    ("POST", r"/set_password/$"),
]


@pytest.mark.parametrize("kind", ["timeout", "500", "400", "reset"])
@pytest.mark.parametrize(("method", "path"), STEPS, ids=[f"{m} {p}" for m, p in STEPS])
def test_a_fault_at_any_step_leaves_nothing_half_made_and_a_retry_finishes(
    actor, fake_authentik, method, path, kind
) -> None:
    # A GET is retried on a dropped connection (not on a timeout or a 500), so a
    # read's fault is there for every try.
    fake_authentik.inject(method, path, kind, times=3 if method == "GET" else 1)
    with watch_audit() as log, pytest.raises(UpstreamError) as failure:
        _invite(actor)
    assert failure.value.message
    assert not User.objects.filter(email="new.ops@dezky.example").exists()
    invite = OperatorInvite.objects.get()
    assert invite.state == InviteState.FAILED and invite.last_error
    assert [e.action for e in log.events] == ["platform.user_invite_failed"]

    fake_authentik.faults.clear()
    result = _invite(actor)
    accounts = [u for u in fake_authentik.users.values() if u["email"] == "new.ops@dezky.example"]
    assert len(accounts) == 1, "the retry made a second account"
    assert User.objects.get(email="new.ops@dezky.example").pk == result.user_id
    assert OperatorInvite.objects.get().state == InviteState.COMPLETED
    if result.temp_password:
        assert fake_authentik.passwords[accounts[0]["pk"]] == result.temp_password


def test_the_rate_limit_counts_invites_per_operator(actor, settings) -> None:
    settings.INVITES_PER_MINUTE = 2
    _invite(actor, email="a@dezky.example")
    _invite(actor, email="b@dezky.example")
    with pytest.raises(RateLimited):
        _invite(actor, email="c@dezky.example")
    _invite(OperatorFactory(), email="c@dezky.example")  # another operator has their own


def test_the_temporary_password_is_in_no_row_log_or_audit_event(
    actor, fake_authentik, caplog, operator_client
) -> None:
    caplog.set_level(logging.DEBUG)
    result = _invite(actor)
    secret = result.temp_password
    assert secret
    assert secret not in _text_of_every_row()
    assert secret not in caplog.text
    assert not AuditEvent.objects.filter(metadata__icontains=secret).exists()
    assert secret not in operator_client.get("/operator-team/").text


def test_a_fault_while_resuming_into_the_group_is_retried_too(actor, fake_authentik) -> None:
    # The first try made the account and then failed; the second fails while putting
    # the found account (back) into the group; the third finishes. Still one account.
    fake_authentik.inject("POST", r"/set_password/$", "500")
    with pytest.raises(UpstreamError):
        _invite(actor)
    fake_authentik.inject("POST", r"/add_user/$", "timeout")
    with pytest.raises(UpstreamError, match="did not answer"):
        _invite(actor)
    assert not User.objects.filter(email="new.ops@dezky.example").exists()
    assert OperatorInvite.objects.get().state == InviteState.FAILED

    result = _invite(actor)
    [account_pk] = fake_authentik.users
    assert fake_authentik.passwords == {account_pk: result.temp_password}
    assert OperatorInvite.objects.get().state == InviteState.COMPLETED


class TestDiscard:
    def _stuck(self, **fields) -> OperatorInvite:
        values = {
            "email": "stuck@dezky.example", "name": "Stuck Ops", "directory": "authentik",
            "state": InviteState.FAILED, "directory_user_pk": 41,
            "last_error": "stuck@dezky.example already belongs to an account in Authentik.",
        }  # fmt: skip
        return OperatorInvite.objects.create(**{**values, **fields})

    def test_removes_the_invite_and_records_one_event_without_secrets(self, actor) -> None:
        invite = self._stuck()
        with watch_audit() as log:
            operator_invite_discard(invite=invite, actor=actor, ip="192.0.2.10")
        assert not OperatorInvite.objects.exists()
        event = log.one("platform.invite_discarded", actor=actor)
        assert (event.target_type, event.target_id) == ("operatorinvite", str(invite.pk))
        assert event.target_repr == "stuck@dezky.example"
        assert event.actor_ip == "192.0.2.10"
        assert event.metadata == {
            "email": "stuck@dezky.example", "name": "Stuck Ops", "state": "failed",
            "directory": "authentik", "directory_user_pk": 41, "invite_id": str(invite.pk),
            "last_error": "stuck@dezky.example already belongs to an account in Authentik.",
        }  # fmt: skip

    def test_never_calls_authentik(self, actor, fake_authentik) -> None:
        account = fake_authentik.add_user("stuck@dezky.example")
        operator_invite_discard(invite=self._stuck(), actor=actor)
        assert fake_authentik.calls == []
        assert account["pk"] in fake_authentik.users  # the account stays in Authentik

    def test_the_email_can_be_invited_afresh(self, actor) -> None:
        operator_invite_discard(invite=self._stuck(), actor=actor)
        _invite(actor, email="stuck@dezky.example")
        assert OperatorInvite.objects.get().state == InviteState.COMPLETED

    def test_a_completed_invite_is_a_conflict_and_nothing_is_written(self, actor) -> None:
        invite = self._stuck(state=InviteState.COMPLETED, last_error="")
        with watch_audit() as log, pytest.raises(Conflict, match="has finished"):
            operator_invite_discard(invite=invite, actor=actor)
        log.none()
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()

    def test_an_invite_that_may_still_be_running_is_a_conflict(self, actor) -> None:
        # A retry clears last_error before it calls Authentik.
        invite = self._stuck(state=InviteState.STARTED, last_error="")
        with watch_audit() as log, pytest.raises(Conflict, match="may still be running"):
            operator_invite_discard(invite=invite, actor=actor)
        log.none()
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()

        # Once it has been quiet for longer than a run can take, it can go.
        OperatorInvite.objects.filter(pk=invite.pk).update(
            updated_at=timezone.now() - INVITE_IN_FLIGHT - timedelta(seconds=1)
        )
        with watch_audit() as log:
            operator_invite_discard(invite=invite, actor=actor)
        assert log.one("platform.invite_discarded", actor=actor).metadata["state"] == "started"

    def test_one_already_gone_is_not_found_and_nothing_is_written(self, actor) -> None:
        invite = self._stuck()
        OperatorInvite.objects.filter(pk=invite.pk).delete()
        with watch_audit() as log, pytest.raises(NotFound):
            operator_invite_discard(invite=invite, actor=actor)
        log.none()

    def test_a_failing_audit_write_keeps_the_invite(self, actor, monkeypatch) -> None:
        from audit import services as audit_services

        def broken(**kwargs):
            raise RuntimeError("audit store down")

        invite = self._stuck()
        monkeypatch.setattr(audit_services, "record", broken)
        with pytest.raises(RuntimeError):
            operator_invite_discard(invite=invite, actor=actor)
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()


class TestPages:
    def test_a_blocked_invite_offers_no_retry_says_why_and_can_be_discarded(
        self, operator_client, fake_authentik
    ) -> None:
        other = fake_authentik.add_user("pat@example.test", name="Pat Old")
        other["email"] = ""
        response = operator_client.post(
            "/operator-team/invite/", {"name": "Pat Rivera", "email": "pat@example.test"}
        )
        assert response.status_code == 409
        assert "The username pat@example.test is taken in Authentik" in response.text

        page = operator_client.get("/operator-team/")
        assert page.status_code == 200
        html = page.text
        row = html[html.index('data-testid="open-invite"') :]
        row = row[: row.index("</tr>")]
        assert 'data-testid="retry-invite"' not in row
        assert 'data-testid="invite-blocked"' in row and "No retry" in row
        assert "rename or remove that account" in row  # the upstream words, last_error
        assert 'data-testid="discard-invite"' in row
        assert "Cannot finish (email taken)" in row

    def test_a_failed_invite_still_offers_retry(self, operator_client, fake_authentik) -> None:
        fake_authentik.inject("POST", r"/core/users/$", "500")
        operator_client.post(
            "/operator-team/invite/", {"name": "Pat Rivera", "email": "pat@example.test"}
        )
        html = operator_client.get("/operator-team/").text
        assert 'data-testid="retry-invite"' in html
        assert 'data-testid="invite-blocked"' not in html

    def test_the_link_step_says_it_works_once_and_when_it_expires(
        self, operator_client, fake_authentik, settings
    ) -> None:
        fake_authentik.recovery_flow = True
        settings.AUTHENTIK_RECOVERY_LINK_MINUTES = 45
        response = operator_client.post(
            "/operator-team/invite/", {"name": "Pat Rivera", "email": "pat@example.test"}
        )
        assert response.status_code == 201
        assert "This link works once and expires in 45 minutes (Authentik's setting)" in (
            response.text
        )
        assert "first sign-in" not in response.text

    def test_the_authentik_password_step_does_not_promise_a_forced_change(
        self, operator_client, fake_authentik
    ) -> None:
        response = operator_client.post(
            "/operator-team/invite/", {"name": "Pat Rivera", "email": "pat@example.test"}
        )
        assert response.status_code == 201
        assert 'data-testid="invite-password"' in response.text
        assert "Authentik does not make them change this password" in response.text
        assert "recovery link" in response.text
        assert "expires in" not in response.text


class TestSubjectMode:
    @pytest.mark.parametrize(
        ("mode", "sub"),
        [
            ("hashed_user_id", lambda a: a["uid"]),
            ("user_id", lambda a: str(a["pk"])),
            ("user_uuid", lambda a: a["uuid"]),
            ("user_username", lambda a: a["username"]),
            ("user_email", lambda a: a["email"]),
            ("user_upn", lambda a: a["email"]),
        ],
    )
    def test_the_invites_subject_is_what_authentik_will_put_in_sub(
        self, actor, fake_authentik, settings, mode, sub
    ) -> None:
        settings.AUTHENTIK_SUBJECT_MODE = mode
        result = _invite(actor, email="pat@example.test")
        (account,) = fake_authentik.users.values()
        assert result.subject == sub(account)

    @pytest.mark.parametrize("mode", ["user_id", "user_username", "user_email"])
    def test_the_invited_operator_is_linked_at_first_login_in_that_mode(
        self, client, oidc_provider, settings, mode
    ) -> None:
        from tests.fakes.authentik import FakeAuthentik
        from tests.fakes.server import FakeServer
        from tests.operators.test_oidc_login import ADMINS, oidc_login

        with FakeServer(FakeAuthentik()) as authentik:
            settings.AUTHENTIK_URL, settings.AUTHENTIK_TOKEN = authentik.url, authentik.token
            settings.AUTHENTIK_SUBJECT_MODE = mode
            result = _invite(OperatorFactory(), email="pat@example.test", name="Pat Rivera")
            # Authentik sends email_verified false by default: only the subject proves it.
            oidc_login(
                client, oidc_provider, sub=result.subject, email="pat@example.test",
                email_verified=False, groups=[ADMINS],
            )  # fmt: skip
        user = User.objects.get(pk=result.user_id)
        assert user.oidc_subject == result.subject
        assert client.session.get("_auth_user_id") == str(user.pk)
