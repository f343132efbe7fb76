from __future__ import annotations

import html as html_lib
import logging
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from console.responder import SWAP_ERROR_HEADER
from operators.models import InviteState, OperatorInvite, User
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
TEAM = reverse("operators:team")
INVITE = reverse("operators:invite")
HTMX = {"HTTP_HX_REQUEST": "true"}


def _invite(client, name="Sample Ops", email="new.ops@dezky.example", **extra):
    return client.post(INVITE, {"name": name, "email": email}, **extra)


def _password(html: str) -> str:
    found = re.search(r'id="invite-password" type="text" value="([^"]+)"', html)
    assert found, "no temporary password in the answer"
    return html_lib.unescape(found.group(1))


def _rows(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}" data-email="([^"]+)"', html)


class TestTeamPage:
    def test_lists_operators_only_with_status_and_tenant_count(self, client) -> None:
        from tenants.models import Membership, Tenant

        me = OperatorFactory(email="lead@dezky.example", name="Lead Operator")
        OperatorFactory(email="away@dezky.example", is_active=False)
        UserFactory(email="member@tenant.example")
        tenant = Tenant.objects.create(slug="acme", name="Acme")
        Membership.objects.create(tenant=tenant, user=me)
        client.force_login(me)
        html = client.get(TEAM).text
        assert _rows(html, "operator-row") == ["lead@dezky.example", "away@dezky.example"]
        assert '<span class="badge badge-neutral badge-dot">Inactive</span>' in html
        assert re.search(r'<td class="num" data-label="Tenants">1</td>', html)
        assert 'data-testid="invite-operator"' in html
        assert 'data-testid="invite-form"' in html  # the dialog's first step is on the page

    def test_status_badges_say_active_invited_or_inactive(self, client) -> None:
        from django.utils import timezone

        me = OperatorFactory(last_login=timezone.now())
        OperatorFactory(email="new@dezky.example")
        OperatorFactory(email="away@dezky.example", is_active=False)
        client.force_login(me)
        html = client.get(TEAM).text
        badges = dict(
            re.findall(
                r'data-email="([^"]+)">.*?<span class="badge badge-(\w+) badge-dot">', html, re.S
            )
        )
        assert badges == {me.email: "success", "new@dezky.example": "info",
                          "away@dezky.example": "neutral"}  # fmt: skip
        assert ">Invited</span>" in html and ">Inactive</span>" in html

    def test_avatars_carry_the_name_and_the_initials(self, client) -> None:
        me = OperatorFactory(name="Robin Example")
        client.force_login(me)
        assert 'data-avatar="Robin Example" aria-hidden="true">RE</span>' in client.get(TEAM).text

    def test_manage_in_authentik_is_shown_only_in_authentik_mode(
        self, operator_client, fake_authentik
    ) -> None:
        html = operator_client.get(TEAM).text
        assert f'href="{fake_authentik.url}/if/admin/#/identity/users"' in html

    def test_no_authentik_link_in_local_mode(self, operator_client) -> None:
        assert "manage-in-authentik" not in operator_client.get(TEAM).text

    def test_an_htmx_request_gets_only_the_list(self, operator_client) -> None:
        response = operator_client.get(TEAM, **HTMX)
        html = response.text
        assert 'data-testid="operators-table"' in html
        assert "<html" not in html and "invite-dialog" not in html
        assert "HX-Request" in response["Vary"] and response["Cache-Control"] == "no-store"

    def test_unfinished_invites_are_shown_with_a_retry(self, operator_client) -> None:
        invite = OperatorInvite.objects.create(
            email="stuck@dezky.example", name="Stuck Ops", directory="authentik",
            state=InviteState.FAILED, last_error="Authentik cannot be reached.",
        )  # fmt: skip
        OperatorInvite.objects.create(
            email="done@dezky.example", name="Done", directory="local",
            state=InviteState.COMPLETED,
        )  # fmt: skip
        html = operator_client.get(TEAM).text
        assert _rows(html, "open-invite") == ["stuck@dezky.example"]
        assert "Authentik cannot be reached." in html
        assert f"?retry={invite.pk}" in html

    def test_the_retry_form_is_filled_from_the_invite(self, operator_client) -> None:
        invite = OperatorInvite.objects.create(
            email="stuck@dezky.example", name="Stuck Ops", directory="authentik",
            state=InviteState.FAILED,
        )  # fmt: skip
        html = operator_client.get(f"{INVITE}?retry={invite.pk}", **HTMX).text
        assert 'value="stuck@dezky.example"' in html and 'value="Stuck Ops"' in html
        assert "Retry invite" in html
        assert "<html" not in html
        # Garbage or an unknown id gives an empty form, not an error.
        assert operator_client.get(f"{INVITE}?retry=nope").status_code == 200

    def test_query_count_does_not_grow_with_the_team(
        self, operator_client, django_assert_max_num_queries
    ) -> None:
        operator_client.get(TEAM)  # warm the session and user lookups
        with django_assert_max_num_queries(4):
            operator_client.get(TEAM)
        OperatorFactory.create_batch(15)
        for n in range(5):
            OperatorInvite.objects.create(
                email=f"s{n}@dezky.example", name="S", directory="local", state="failed"
            )
        with django_assert_max_num_queries(4):
            assert len(_rows(operator_client.get(TEAM).text, "operator-row")) == 16


def _discard_url(invite) -> str:
    return reverse("operators:invite_discard", kwargs={"invite_id": invite.pk})


def _stuck_invite(email="stuck@dezky.example") -> OperatorInvite:
    return OperatorInvite.objects.create(
        email=email, name="Stuck Ops", directory="authentik", state=InviteState.FAILED,
        last_error=f"{email} already belongs to an account in Authentik (pk 41).",
    )  # fmt: skip


class TestDiscardInvite:
    def test_each_unfinished_invite_has_a_discard_behind_a_confirm_dialog(
        self, operator_client
    ) -> None:
        invite = _stuck_invite()
        html = operator_client.get(TEAM).text
        dialog_id = f"discard-invite-{invite.pk}"
        # The opener is a link to the confirm page, so it works without JavaScript too.
        assert f'href="{_discard_url(invite)}" role="button" data-dialog-open="{dialog_id}"' in html
        dialog = re.search(rf'<dialog[^>]*id="{dialog_id}".*?</dialog>', html, re.S).group(0)
        assert f'hx-post="{_discard_url(invite)}"' in dialog
        assert 'hx-target="#operator-team"' in dialog
        assert "Authentik is not touched" in dialog and "stays there" in dialog
        assert "Discard the invite of stuck@dezky.example?" in dialog

    def test_htmx_discard_answers_with_the_list_and_a_notice(self, operator_client) -> None:
        invite = _stuck_invite()
        other = _stuck_invite("other@dezky.example")
        with watch_audit() as log:
            response = operator_client.post(_discard_url(invite), **HTMX)
        assert response.status_code == 200
        html = response.text
        assert "<html" not in html and 'data-testid="operators-table"' in html
        assert _rows(html, "open-invite") == ["other@dezky.example"]
        notice = re.search(r'data-testid="team-notice".*?</div>\s*</div>', html, re.S).group(0)
        assert "Discarded the invite of stuck@dezky.example." in notice
        assert "alert-success" in html
        assert f"discard-invite-{other.pk}" in html and f"discard-invite-{invite.pk}" not in html
        event = log.one("platform.invite_discarded", actor=response.wsgi_request.user)
        assert event.actor_ip == "127.0.0.1"

    def test_a_refusal_is_said_in_the_notice_and_nothing_is_written(self, operator_client) -> None:
        invite = OperatorInvite.objects.create(
            email="done@dezky.example", name="Done", directory="local",
            state=InviteState.COMPLETED,
        )  # fmt: skip
        with watch_audit() as log:
            response = operator_client.post(_discard_url(invite), **HTMX)
        assert response.status_code == 409  # its true status; htmx swaps 4xx like 2xx
        notice = re.search(r'<div class="alert alert-danger" role="alert"[^>]*>', response.text)[0]
        assert 'data-testid="team-notice"' in notice and "data-swap-focus" in notice
        assert "has finished" in response.text
        log.none()
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()

    def test_an_invite_gone_meanwhile_is_said_not_an_error(self, operator_client) -> None:
        invite = _stuck_invite()
        url = _discard_url(invite)
        invite.delete()
        response = operator_client.post(url, **HTMX)
        assert response.status_code == 200 and "gone already" in response.text
        assert "alert-info" in response.text

    def test_without_htmx_it_redirects_back_with_a_message(self, operator_client) -> None:
        invite = _stuck_invite()
        response = operator_client.post(_discard_url(invite), follow=True)
        assert response.redirect_chain == [(TEAM, 303)]
        assert "Discarded the invite of stuck@dezky.example." in response.text
        assert _rows(response.text, "open-invite") == []

    def test_without_javascript_discard_leads_to_a_confirm_page_that_posts(
        self, operator_client
    ) -> None:
        invite = _stuck_invite()
        url = _discard_url(invite)
        page = operator_client.get(url)
        assert page.status_code == 200
        html = page.text
        assert '<aside class="sidebar"' in html and 'data-testid="confirm-page"' in html
        assert "Discard the invite of stuck@dezky.example?" in html
        assert "Authentik is not touched" in html
        form = re.search(r"<form[^>]*>", html[html.index('data-testid="confirm-page"') :])[0]
        assert f'method="post" action="{url}"' in form and "hx-post" not in form
        assert f'href="{TEAM}">Cancel</a>' in html
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()  # a GET changes nothing
        done = operator_client.post(url, follow=True)
        assert done.redirect_chain == [(TEAM, 303)]
        assert "Discarded the invite of stuck@dezky.example." in done.text

    def test_the_confirm_page_of_a_gone_invite_is_the_team_page_saying_so(
        self, operator_client
    ) -> None:
        invite = _stuck_invite()
        url = _discard_url(invite)
        invite.delete()
        response = operator_client.get(url)
        assert response.status_code == 200
        assert 'data-testid="operators-table"' in response.text and "gone already" in response.text

    def test_a_local_invite_promises_nothing_about_authentik(self, operator_client) -> None:
        invite = OperatorInvite.objects.create(
            email="local@dezky.example", name="Local", directory="local",
            state=InviteState.FAILED, last_error="Sample failure.",
        )  # fmt: skip
        html = operator_client.get(_discard_url(invite)).text
        assert "Discard the invite of local@dezky.example?" in html
        assert "Authentik" not in html[html.index('data-testid="confirm-page"') :]

    def test_only_operators_may_discard(self, client) -> None:
        invite = _stuck_invite()
        client.force_login(UserFactory())
        assert client.post(_discard_url(invite), **HTMX).status_code == 403
        assert client.get(_discard_url(invite)).status_code == 403
        client.logout()
        assert client.post(_discard_url(invite)).status_code == 302
        assert OperatorInvite.objects.filter(pk=invite.pk).exists()
        assert not AuditEvent.objects.filter(action="platform.invite_discarded").exists()

    def test_the_page_calls_the_service(self, operator_client, monkeypatch) -> None:
        from operators.views import team

        calls = []
        monkeypatch.setattr(team, "operator_invite_discard", lambda **kw: calls.append(kw))
        invite = _stuck_invite()
        operator_client.post(_discard_url(invite), **HTMX)
        assert calls[0]["invite"] == invite and calls[0]["ip"] == "127.0.0.1"


class TestInviteDialog:
    def test_local_invite_shows_username_and_temporary_password_once(self, operator_client):
        response = _invite(operator_client, email="New.Ops@Dezky.example", **HTMX)
        assert response.status_code == 201
        assert "no-store" in response["Cache-Control"]
        assert response["HX-Trigger"] == "operators:invited"
        html = response.text
        assert "<html" not in html
        password = _password(html)
        assert 'value="new.ops@dezky.example"' in html
        assert "Shown only this once" in html
        # Each value is a copy field: a labelled read-only input and its Copy button.
        for testid in ("invite-username", "invite-password"):
            assert f'data-copy-target="#{testid}" data-testid="copy-{testid}"' in html
        assert "expire" not in html  # a temporary password has no expiry to promise
        user = User.objects.get(email="new.ops@dezky.example")
        assert user.platform_admin and user.check_password(password)
        # Never again: not on the team page, not in the dialog's next first step.
        for later in (operator_client.get(TEAM).text, operator_client.get(INVITE, **HTMX).text):
            assert password not in later and html_lib.escape(password) not in later
        assert "new.ops@dezky.example" in operator_client.get(TEAM, **HTMX).text

    def test_authentik_invite_with_a_recovery_flow_shows_the_link(
        self, operator_client, fake_authentik
    ) -> None:
        fake_authentik.recovery_flow = True
        response = _invite(operator_client, **HTMX)
        assert response.status_code == 201
        assert 'data-handoff="link"' in response.text
        assert f'value="{fake_authentik.url}/if/flow/default-recovery-flow/' in response.text
        assert "invite-password" not in response.text
        assert 'data-copy-target="#invite-link" data-testid="copy-invite-link" autofocus' in (
            response.text
        )
        # Only Authentik knows its brand's setting; the page says the default as a default.
        assert "expires in 30 minutes (Authentik's setting)" in response.text

    def test_authentik_invite_without_a_recovery_flow_sets_a_temporary_password(
        self, operator_client, fake_authentik
    ) -> None:
        response = _invite(operator_client, **HTMX)
        assert _password(response.text) in fake_authentik.passwords.values()

    def test_the_team_page_warns_while_the_brand_has_no_recovery_flow(
        self, operator_client, fake_authentik
    ) -> None:
        assert "no-recovery-flow" not in operator_client.get(TEAM).text  # nothing seen yet
        _invite(operator_client, email="first.ops@dezky.example", **HTMX)
        html = operator_client.get(TEAM).text
        assert 'data-testid="no-recovery-flow"' in html
        assert "Set a recovery flow on Authentik" in html
        fake_authentik.recovery_flow = True
        _invite(operator_client, email="second.ops@dezky.example", **HTMX)
        assert "no-recovery-flow" not in operator_client.get(TEAM).text

    def test_the_page_calls_the_same_service_as_the_api(self, operator_client, monkeypatch):
        from operators.invites import InviteResult
        from operators.views import team

        calls = []

        def fake_invite(**kwargs):
            calls.append(kwargs)
            return InviteResult(
                subject="s", user_id=1, email=kwargs["email"], link="https://x.example/l"
            )

        monkeypatch.setattr(team, "operator_invite", fake_invite)
        assert _invite(operator_client, **HTMX).status_code == 201
        assert calls[0]["name"] == "Sample Ops" and calls[0]["ip"] == "127.0.0.1"

    @pytest.mark.parametrize(
        ("name", "email", "field"),
        [
            ("", "a@dezky.example", "name"),
            ("Sample", "not-an-email", "email"),
            ("Sample", "", "email"),
            ("x" * 201, "a@dezky.example", "name"),
        ],
    )
    def test_bad_fields_come_back_inline_with_what_was_typed(
        self, operator_client, name, email, field
    ) -> None:
        response = _invite(operator_client, name=name, email=email, **HTMX)
        assert response.status_code == 400
        assert SWAP_ERROR_HEADER not in response  # a 4xx swaps by the console's policy
        html = response.text
        assert f'id="invite-{field}-errors"' in html
        assert 'data-testid="invite-form"' in html
        # The invalid field says so and points at its error (focus lands on it after the swap).
        field_input = re.search(rf'<input[^>]*id="invite-{field}"[^>]*>', html, re.S)[0]
        assert 'aria-invalid="true"' in field_input
        assert re.search(rf'aria-describedby="[^"]*invite-{field}-errors"', field_input)
        assert html.count('aria-invalid="true"') == 1
        assert not OperatorInvite.objects.exists()

    def test_a_duplicate_is_a_409_shown_on_the_email(self, operator_client) -> None:
        UserFactory(email="taken@dezky.example")
        response = _invite(operator_client, email="Taken@dezky.example", **HTMX)
        assert response.status_code == 409
        errors = re.search(r'id="invite-email-errors".*?</div>', response.text, re.S).group(0)
        assert "already has an account" in errors
        assert re.search(r'id="invite-email"[^>]*aria-invalid="true"', response.text, re.S)

    def test_a_duplicate_in_authentik_is_a_409(self, operator_client, fake_authentik) -> None:
        fake_authentik.add_user("taken@dezky.example")
        response = _invite(operator_client, email="taken@dezky.example", **HTMX)
        assert response.status_code == 409
        assert "already belongs to an account in Authentik" in response.text

    def test_the_rate_limit_is_a_429_said_in_the_dialog(self, operator_client, settings):
        settings.INVITES_PER_MINUTE = 1
        assert _invite(operator_client, email="a@dezky.example", **HTMX).status_code == 201
        response = _invite(operator_client, email="b@dezky.example", **HTMX)
        assert response.status_code == 429 and SWAP_ERROR_HEADER not in response
        assert 'data-status="429"' in response.text and "invites a minute" in response.text
        assert "Too many invites" in response.text
        assert 'value="b@dezky.example"' in response.text  # nothing typed is lost

    def test_an_authentik_failure_is_a_502_with_its_words_and_the_retry_finishes(
        self, operator_client, fake_authentik
    ) -> None:
        fake_authentik.inject("POST", r"/set_password/$", "500")
        response = _invite(operator_client, **HTMX)
        assert response.status_code == 502
        # Marked as a rendered answer: shell.js swaps it, where a bare 5xx is only a toast.
        assert response[SWAP_ERROR_HEADER] == "error"
        assert 'data-status="502"' in response.text
        assert "Authentik failed; nothing was finished" in response.text
        assert "Authentik answered 500: Internal Server Error." in response.text
        assert "Server Error&lt;/h1&gt;" not in response.text  # its HTML page is not echoed
        assert not User.objects.filter(email="new.ops@dezky.example").exists()
        team = operator_client.get(TEAM).text
        assert _rows(team, "open-invite") == ["new.ops@dezky.example"]

        retry = _invite(operator_client, **HTMX)
        assert retry.status_code == 201
        assert len(fake_authentik.users) == 1
        assert _rows(operator_client.get(TEAM).text, "open-invite") == []

    def test_without_htmx_the_invite_is_a_page_of_its_own(self, operator_client) -> None:
        form = operator_client.get(INVITE)
        assert form.status_code == 200 and "<html" in form.text
        response = _invite(operator_client)
        assert response.status_code == 201
        assert "<html" in response.text and 'data-testid="invite-credential"' in response.text
        assert "no-store" in response["Cache-Control"]  # the credential page is never kept
        assert 'href="/operator-team/" data-testid="invite-done"' in response.text
        main = response.text.split('id="main"')[1].split("</main>")[0]
        assert "data-dialog-close" not in main
        assert _invite(operator_client, email="bad").status_code == 400

    def test_invite_operator_is_a_link_to_that_page(self, operator_client) -> None:
        html = operator_client.get(TEAM).text
        assert re.search(
            rf'<a class="btn btn-primary" href="{INVITE}" role="button" '
            r'data-dialog-open="invite-dialog" data-testid="invite-operator"',
            html,
        )


class TestWhoMayInvite:
    def test_a_non_operator_gets_403_and_nothing_is_made(self, client) -> None:
        client.force_login(UserFactory())
        assert client.get(TEAM).status_code == 403
        assert client.get(INVITE).status_code == 403
        assert _invite(client, **HTMX).status_code == 403
        assert _invite(client).status_code == 403
        assert not User.objects.filter(email="new.ops@dezky.example").exists()
        assert not OperatorInvite.objects.exists()

    def test_anonymous_is_sent_to_sign_in(self, client) -> None:
        assert _invite(client).status_code == 302
        response = _invite(client, **HTMX)
        assert response.status_code == 401 and response["HX-Redirect"].startswith("/login/")
        assert not AuditEvent.objects.filter(action="platform.user_invited").exists()


@pytest.mark.parametrize("mode", ["local", "authentik"])
def test_the_temporary_password_from_the_page_is_kept_nowhere(
    mode, operator_client, caplog, request
) -> None:
    from tests.operators.test_invites import _text_of_every_row

    if mode == "authentik":
        request.getfixturevalue("fake_authentik")
    caplog.set_level(logging.DEBUG)
    password = _password(_invite(operator_client, **HTMX).text)
    escaped = html_lib.escape(password)
    assert password not in _text_of_every_row()
    assert password not in caplog.text
    assert not AuditEvent.objects.filter(metadata__icontains=password).exists()
    assert not any(password in str(v) for v in operator_client.session.values())
    for url in (TEAM, INVITE, reverse("operators:users"), "/api/schema/"):
        later = operator_client.get(url).text
        assert password not in later and escaped not in later, url
