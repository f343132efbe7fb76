"""A tenant's members: inviting (both identity modes; Authentik against the fake over
HTTP, failing after the account was made and finished by a retry without a second
account), changing roles and removing members (never the last owner), through the
services, the API and the Users tab."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.errors import Conflict, RateLimited, UpstreamError
from operators.models import User
from tenants.members import member_invite, member_remove, member_set_role
from tenants.models import MemberInvite, MemberInviteState, Membership, TenantStatus
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db
EMAIL = "pat.rivera@northwind.example"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def actor():
    return OperatorFactory(email="lead@dezky.example")


@pytest.fixture
def tenant():
    return TenantFactory(slug="northwind", name="Northwind Traders")


def _invite(tenant, actor, email=EMAIL, role="member", name="Pat Rivera"):
    return member_invite(tenant=tenant, name=name, email=email, role=role, actor=actor,
                         ip="192.0.2.20")  # fmt: skip


def _group(fake, tenant):
    return next(g for g in fake.groups.values() if g["name"] == f"dezky-tenant-{tenant.slug}")


# --- services: local ---------------------------------------------------------------------


class TestInviteLocal:
    def test_a_new_person_gets_a_local_user_a_membership_and_a_password(
        self, tenant, actor
    ) -> None:
        with watch_audit() as log:
            result = _invite(tenant, actor, email="Pat.Rivera@Northwind.example", role="admin")
        user = User.objects.get(email=EMAIL)
        assert not user.platform_admin and user.is_active and user.name == "Pat Rivera"
        assert user.check_password(result.temp_password)
        assert Membership.objects.get(tenant=tenant, user=user).role == "admin"
        event = log.one("tenant.member_invited", actor=actor)
        assert event.tenant_id == tenant.pk and event.metadata["role"] == "admin"
        assert event.metadata["handoff"] == "temp-password"
        assert result.temp_password not in str(event.metadata)
        assert MemberInvite.objects.get().state == MemberInviteState.COMPLETED

    def test_a_local_user_of_another_tenant_is_added_without_a_credential(
        self, tenant, actor
    ) -> None:
        other = MembershipFactory(user__email=EMAIL).user
        with watch_audit() as log:
            result = _invite(tenant, actor)
        assert result.existing_account and result.temp_password is None
        assert Membership.objects.filter(user=other).count() == 2
        other.refresh_from_db()
        assert other.check_password("correct horse battery")  # untouched
        assert log.one("tenant.member_invited", actor=actor).metadata["handoff"] == (
            "existing-account"
        )

    def test_an_operator_is_refused(self, tenant, actor) -> None:
        OperatorFactory(email=EMAIL)
        with watch_audit() as log, pytest.raises(Conflict, match="is an operator") as exc:
            _invite(tenant, actor)
        assert exc.value.field == "email"
        log.none()
        assert not Membership.objects.exists() and not MemberInvite.objects.exists()

    def test_a_member_already_is_refused(self, tenant, actor) -> None:
        MembershipFactory(tenant=tenant, user__email=EMAIL)
        with watch_audit() as log, pytest.raises(Conflict, match="member of northwind already"):
            _invite(tenant, actor)
        log.none()

    def test_a_deleted_tenant_is_refused(self, tenant, actor) -> None:
        from django.utils import timezone

        tenant.status, tenant.deleted_at = TenantStatus.DELETED, timezone.now()
        tenant.save()
        with pytest.raises(Conflict, match="deleted"):
            _invite(tenant, actor)

    def test_bad_fields_are_named(self, tenant, actor) -> None:
        with pytest.raises(ValidationError) as exc:
            _invite(tenant, actor, email="nope", name=" ", role="boss")
        assert set(exc.value.message_dict) == {"name", "email", "role"}

    def test_the_per_minute_limit_applies(self, tenant, actor, settings) -> None:
        settings.INVITES_PER_MINUTE = 1
        _invite(tenant, actor)
        with pytest.raises(RateLimited):
            _invite(tenant, actor, email="sam.lee@northwind.example")


# --- services: Authentik -----------------------------------------------------------------


class TestInviteAuthentik:
    def test_a_new_account_in_the_tenant_group_with_a_credential(
        self, tenant, actor, fake_authentik
    ) -> None:
        with watch_audit() as log:
            result = _invite(tenant, actor)
        (account,) = fake_authentik.users.values()
        assert account["email"] == EMAIL
        assert account["pk"] in _group(fake_authentik, tenant)["users"]
        assert fake_authentik.passwords[account["pk"]] == result.temp_password
        user = User.objects.get(email=EMAIL)
        assert user.authentik_pk == account["pk"] and not user.has_usable_password()
        assert not user.platform_admin
        log.one("tenant.member_invited", actor=actor)

    def test_with_a_recovery_flow_a_link(self, tenant, actor, fake_authentik) -> None:
        fake_authentik.recovery_flow = True
        result = _invite(tenant, actor)
        assert result.link and result.temp_password is None and fake_authentik.passwords == {}

    def test_an_existing_account_is_added_to_the_group_without_a_credential(
        self, tenant, actor, fake_authentik
    ) -> None:
        existing = fake_authentik.add_user(EMAIL, name="Pat Rivera")
        with watch_audit() as log:
            result = _invite(tenant, actor)
        assert result.existing_account and result.link is None and result.temp_password is None
        assert len(fake_authentik.users) == 1
        assert existing["pk"] in _group(fake_authentik, tenant)["users"]
        assert fake_authentik.passwords == {}
        assert fake_authentik.calls_to("POST", "/recovery/") == []
        assert User.objects.get(email=EMAIL).authentik_pk == existing["pk"]
        event = log.one("tenant.member_invited", actor=actor)
        assert event.metadata["handoff"] == "existing-account"

    def test_a_username_held_by_an_account_without_this_email_is_a_409_on_email(
        self, tenant, actor, fake_authentik
    ) -> None:
        other = fake_authentik.add_user(EMAIL, name="Pat Old")
        other["email"] = ""  # made in Authentik's UI with the email as username only
        with watch_audit() as log, pytest.raises(Conflict) as refusal:
            _invite(tenant, actor)
        assert refusal.value.field == "email"
        assert refusal.value.message.startswith(f"The username {EMAIL} is taken in Authentik")
        assert len(fake_authentik.users) == 1 and not Membership.objects.exists()
        assert MemberInvite.objects.get().state == MemberInviteState.FAILED
        log.one("tenant.member_invite_failed", actor=actor)

    def test_a_failure_after_the_account_was_made_is_finished_by_the_retry(
        self, tenant, actor, fake_authentik
    ) -> None:
        fake_authentik.inject("POST", r"/set_password/$", "500")
        with watch_audit() as log, pytest.raises(UpstreamError, match="retry it"):
            _invite(tenant, actor)
        assert len(fake_authentik.users) == 1  # the account was made…
        invite = MemberInvite.objects.get()
        assert invite.state == MemberInviteState.FAILED and invite.last_error
        assert not User.objects.filter(email=EMAIL).exists()  # …nothing local half-made
        assert not Membership.objects.exists()
        log.one("tenant.member_invite_failed", actor=actor)

        with watch_audit() as log:
            result = _invite(tenant, actor)
        assert len(fake_authentik.users) == 1  # no second account
        (account,) = fake_authentik.users.values()
        assert not result.existing_account  # ours: it gets the credential nobody saw
        assert fake_authentik.passwords[account["pk"]] == result.temp_password
        assert Membership.objects.get(tenant=tenant).user.authentik_pk == account["pk"]
        assert MemberInvite.objects.get().state == MemberInviteState.COMPLETED
        log.one("tenant.member_invited", actor=actor)

    def test_authentik_down_at_the_start_writes_no_member(
        self, tenant, actor, fake_authentik
    ) -> None:
        fake_authentik.inject("GET", r"/core/users/$", "502", times=5)
        with pytest.raises(UpstreamError):
            _invite(tenant, actor)
        assert fake_authentik.users == {} and not Membership.objects.exists()


# --- role and removal ----------------------------------------------------------------


class TestRoles:
    def test_changes_the_role_with_one_event(self, tenant, actor) -> None:
        MembershipFactory(tenant=tenant, role="owner")
        m = MembershipFactory(tenant=tenant, role="member")
        with watch_audit() as log:
            _, changed = member_set_role(membership=m, role="admin", actor=actor)
        assert changed
        m.refresh_from_db()
        assert m.role == "admin"
        assert log.one("tenant.member_role_changed", actor=actor).metadata["previous_role"] == (
            "member"
        )

    def test_the_same_role_changes_nothing(self, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        with watch_audit() as log:
            _, changed = member_set_role(membership=m, role="member", actor=actor)
        assert not changed
        log.none()

    def test_the_last_owner_cannot_be_demoted(self, tenant, actor) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        with watch_audit() as log, pytest.raises(Conflict, match="last owner"):
            member_set_role(membership=owner, role="admin", actor=actor)
        log.none()
        MembershipFactory(tenant=tenant, role="owner")
        member_set_role(membership=owner, role="admin", actor=actor)  # one owner is left


class TestRemoveLocal:
    def test_removes_the_membership_with_one_event(self, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        with watch_audit() as log:
            member_remove(membership=m, actor=actor)
        assert not Membership.objects.filter(pk=m.pk).exists()
        assert User.objects.filter(pk=m.user_id).exists()  # the person stays
        log.one("tenant.member_removed", actor=actor)

    def test_never_the_last_owner(self, tenant, actor) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        with watch_audit() as log, pytest.raises(Conflict, match="last owner"):
            member_remove(membership=owner, actor=actor)
        log.none()
        assert Membership.objects.filter(pk=owner.pk).exists()


class TestRemoveAuthentik:
    def test_takes_the_account_out_of_the_group_and_keeps_it(
        self, tenant, actor, fake_authentik
    ) -> None:
        _invite(tenant, actor)
        m = Membership.objects.get(tenant=tenant)
        pk = m.user.authentik_pk
        with watch_audit() as log:
            member_remove(membership=m, actor=actor)
        assert pk not in _group(fake_authentik, tenant)["users"]
        assert pk in fake_authentik.users  # not deleted
        assert log.one("tenant.member_removed", actor=actor).metadata["directory_user_pk"] == pk

    def test_authentik_failing_changes_nothing(self, tenant, actor, fake_authentik) -> None:
        _invite(tenant, actor)
        m = Membership.objects.get(tenant=tenant)
        fake_authentik.inject("POST", r"/remove_user/$", "500")
        with watch_audit() as log, pytest.raises(UpstreamError, match="Nothing was changed"):
            member_remove(membership=m, actor=actor)
        log.none()
        assert Membership.objects.filter(pk=m.pk).exists()


# --- API ------------------------------------------------------------------------------


def _api_invite(client, slug="northwind", **body):
    body = {"name": "Pat Rivera", "email": EMAIL, "role": "member", **body}
    return client.post(
        f"/api/tenants/{slug}/members/invite/", body, content_type="application/json"
    )


class TestApi:
    def test_invite_is_201_with_the_credential_and_no_store(self, client, tenant, actor) -> None:
        client.force_login(actor)
        response = _api_invite(client)
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        body = response.json()
        assert body["handoff"] == "temp-password" and body["temp_password"]
        assert body["tenant"] == "northwind" and body["role"] == "member"

    def test_an_existing_account_is_200_without_a_credential(self, client, tenant, actor) -> None:
        MembershipFactory(user__email=EMAIL)
        client.force_login(actor)
        response = _api_invite(client)
        assert response.status_code == 200
        body = response.json()
        assert body["handoff"] == "existing-account" and "temp_password" not in body

    def test_bad_fields_are_a_400_naming_them(self, client, tenant, actor) -> None:
        client.force_login(actor)
        response = _api_invite(client, email="nope", role="boss")
        assert response.status_code == 400
        assert set(response.json()) == {"email", "role"}

    def test_a_conflict_is_409(self, client, tenant, actor) -> None:
        OperatorFactory(email=EMAIL)
        client.force_login(actor)
        response = _api_invite(client)
        assert response.status_code == 409 and response.json()["field"] == "email"

    def test_authentik_failing_is_502(self, client, tenant, actor, fake_authentik) -> None:
        fake_authentik.inject("POST", r"/core/users/$", "500")
        client.force_login(actor)
        response = _api_invite(client)
        assert response.status_code == 502 and "Authentik" in response.json()["detail"]

    def test_too_many_is_429(self, client, tenant, actor, settings) -> None:
        settings.INVITES_PER_MINUTE = 1
        client.force_login(actor)
        _api_invite(client)
        assert _api_invite(client, email="sam.lee@northwind.example").status_code == 429

    def test_members_of_the_tenant_cannot_invite(self, client, tenant) -> None:
        admin = MembershipFactory(tenant=tenant, role="owner").user
        client.force_login(admin)
        assert _api_invite(client).status_code == 403
        assert not User.objects.filter(email=EMAIL).exists()

    def test_an_unknown_tenant_is_404(self, client, actor) -> None:
        client.force_login(actor)
        assert _api_invite(client, slug="nowhere").status_code == 404

    def test_patch_changes_the_role(self, client, tenant, actor) -> None:
        MembershipFactory(tenant=tenant, role="owner")
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        response = client.patch(
            f"/api/tenants/northwind/members/{m.user_id}/",
            {"role": "admin"},
            content_type="application/json",
        )
        assert response.status_code == 200 and response.json()["role"] == "admin"

    def test_patch_refuses_unknown_fields_and_roles(self, client, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        url = f"/api/tenants/northwind/members/{m.user_id}/"
        response = client.patch(url, {"role": "boss", "email": "x@y.example"},
                                 content_type="application/json")  # fmt: skip
        assert response.status_code == 400 and "role" in response.json()

    def test_patch_of_the_last_owner_is_409(self, client, tenant, actor) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        client.force_login(actor)
        response = client.patch(
            f"/api/tenants/northwind/members/{owner.user_id}/",
            {"role": "member"},
            content_type="application/json",
        )
        assert response.status_code == 409 and "last owner" in response.json()["detail"]

    def test_delete_removes_and_a_stranger_is_404(self, client, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        assert client.delete(f"/api/tenants/northwind/members/{m.user_id}/").status_code == 204
        assert client.delete(f"/api/tenants/northwind/members/{m.user_id}/").status_code == 404

    def test_the_schema_names_the_endpoints(self, client, actor) -> None:
        client.force_login(actor)
        response = client.get("/api/schema/")
        if response.status_code == 404:
            pytest.skip("no schema URL in this configuration")
        text = response.content.decode()
        assert "/api/tenants/{slug}/members/invite/" in text
        assert "/api/tenants/{slug}/members/{user_id}/" in text


# --- the Users tab --------------------------------------------------------------------


def _users_tab(client, tenant) -> str:
    return client.get(reverse("tenants:detail", kwargs={"slug": tenant.slug}) + "?tab=users").text


class TestUsersTab:
    def test_rows_offer_role_remove_and_view_as(self, client, tenant, actor) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        member = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        html = _users_tab(client, tenant)
        assert 'data-testid="invite-member"' in html
        assert 'data-testid="member-invite-form"' in html  # the dialog's first step
        assert html.count('data-testid="member-role-form"') == 2
        assert "The last owner cannot be removed" in html
        assert f'id="remove-member-{member.user_id}"' in html
        assert f'id="remove-member-{owner.user_id}"' not in html
        assert html.count('data-testid="impersonate-button"') == 2

    def test_invite_from_the_dialog_is_201_with_the_credential(self, client, tenant, actor) -> None:
        client.force_login(actor)
        url = reverse("tenants:member_invite", kwargs={"slug": tenant.slug})
        response = client.post(url, {"name": "Pat Rivera", "email": EMAIL, "role": "admin"},
                               **HTMX)  # fmt: skip
        assert response.status_code == 201
        assert response["HX-Trigger"] == "tenants:member-invited"
        found = re.search(r'id="member-password" type="text" value="([^"]+)"', response.text)
        assert found
        user = User.objects.get(email=EMAIL)
        assert user.check_password(html_lib.unescape(found.group(1)))
        assert Membership.objects.get(user=user).role == "admin"

    def test_invite_errors_name_the_field(self, client, tenant, actor) -> None:
        client.force_login(actor)
        url = reverse("tenants:member_invite", kwargs={"slug": tenant.slug})
        response = client.post(url, {"name": "", "email": "nope", "role": "boss"}, **HTMX)
        assert response.status_code == 400
        for field in ("member-name-errors", "member-email-errors", "member-role-errors"):
            assert f'id="{field}"' in response.text

    def test_invite_of_an_operator_is_409_in_the_dialog(self, client, tenant, actor) -> None:
        OperatorFactory(email=EMAIL)
        client.force_login(actor)
        url = reverse("tenants:member_invite", kwargs={"slug": tenant.slug})
        response = client.post(url, {"name": "Pat", "email": EMAIL, "role": "member"}, **HTMX)
        assert response.status_code == 409 and "is an operator" in response.text

    def test_role_change_answers_the_tab_with_a_notice(self, client, tenant, actor) -> None:
        MembershipFactory(tenant=tenant, role="owner")
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        url = reverse("tenants:member_role", kwargs={"slug": tenant.slug, "user_id": m.user_id})
        with watch_audit() as log:
            response = client.post(url, {"role": "admin"}, **HTMX)
        assert response.status_code == 200
        assert f"{m.user.email} is now an admin." in response.text
        log.one("tenant.member_role_changed", actor=actor)

    def test_role_change_without_javascript_redirects(self, client, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        url = reverse("tenants:member_role", kwargs={"slug": tenant.slug, "user_id": m.user_id})
        response = client.post(url, {"role": "admin"})
        assert response.status_code == 303 and response["Location"].endswith("?tab=users")

    def test_demoting_the_last_owner_is_409(self, client, tenant, actor) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        client.force_login(actor)
        url = reverse("tenants:member_role", kwargs={"slug": tenant.slug, "user_id": owner.user_id})
        response = client.post(url, {"role": "member"}, **HTMX)
        assert response.status_code == 409 and "last owner" in response.text

    def test_remove_confirm_page_and_post(self, client, tenant, actor) -> None:
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(actor)
        url = reverse("tenants:member_remove", kwargs={"slug": tenant.slug, "user_id": m.user_id})
        assert f"Remove {m.user.name} from {tenant.name}?" in client.get(url).text
        response = client.post(url, **HTMX)
        assert response.status_code == 200
        assert f"Removed {m.user.email}" in response.text
        assert not Membership.objects.filter(pk=m.pk).exists()

    def test_tenant_members_cannot_use_it(self, client, tenant) -> None:
        owner = MembershipFactory(tenant=tenant, role="owner")
        m = MembershipFactory(tenant=tenant, role="member")
        client.force_login(owner.user)
        url = reverse("tenants:member_remove", kwargs={"slug": tenant.slug, "user_id": m.user_id})
        assert client.post(url).status_code in (302, 403, 404)
        assert Membership.objects.filter(pk=m.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_removals_cannot_remove_the_last_two_owners() -> None:
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers anyway)")
    tenant = TenantFactory(slug="northwind")
    owners = [MembershipFactory(tenant=tenant, role="owner") for _ in range(2)]
    actor = OperatorFactory()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(membership: Membership) -> None:
        barrier.wait()
        try:
            member_remove(membership=membership, actor=actor)
            outcomes.append("done")
        except Conflict as err:
            outcomes.append(err.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(m,)) for m in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [
        "The last owner cannot be removed; make someone else owner first.",
        "done",
    ]
    assert Membership.objects.filter(tenant=tenant, role="owner").count() == 1
