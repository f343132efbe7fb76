from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import reverse

from audit import services as audit
from audit.models import AuditEvent
from flags.models import Flag
from tenants.models import Tenant
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, StaffFactory
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
READ_ONLY = {"audit.AuditEvent", "audit.ChainVerification", "flags.FlagChange",
             "flags.RetiredFlagKey", "tenants.ProvisioningState", "operators.OperatorInvite",
             "monitor.Incident", "monitor.ProbeResult", "operators.Impersonation",
             "tenants.MemberInvite", "flags.ApprovalPolicy", "flags.FlagChangeRequest",
             "flags.FlagSchedule", "flags.FlagEvaluationDay"}  # fmt: skip


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    client.force_login(staff)
    client.staff = staff
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_project_is_registered() -> None:
    labels = {m._meta.label for m in MODELS}
    assert {
        "operators.User", "tenants.Partner", "tenants.Tenant", "tenants.Membership",
        "tenants.ProvisioningState", "flags.Flag", "flags.FlagChange", "audit.AuditEvent",
    } <= labels  # fmt: skip


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_changelist_answers_staff(staff_client, model) -> None:
    TenantFactory()  # so lists have a row with related columns to render
    assert staff_client.get(_url(model, "changelist")).status_code == 200
    assert staff_client.get(_url(model, "changelist") + "?q=acme").status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_add_pages_answer_staff_except_for_read_only_models(staff_client, model) -> None:
    expected = 403 if model._meta.label in READ_ONLY else 200
    assert staff_client.get(_url(model, "add")).status_code == expected


def test_the_admin_is_for_staff_only(client) -> None:
    client.force_login(OperatorFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_audit_events_are_view_only_in_the_admin(staff_client) -> None:
    with transaction.atomic():
        event = audit.record(action="tenant.suspended")
    change_url = _url(AuditEvent, "change", event.pk)
    page = staff_client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert staff_client.post(change_url, {"action": "tenant.resumed"}).status_code == 403
    assert (
        staff_client.post(_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.get(pk=event.pk).action == "tenant.suspended"


def test_adding_a_tenant_in_the_admin_goes_through_the_service(staff_client) -> None:
    partner = PartnerFactory()
    with watch_audit() as log:
        response = staff_client.post(
            _url(Tenant, "add"),
            {
                "slug": "acme", "name": "Acme Logistics", "plan": "business",
                "domains": "acme.example\nmail.acme.example", "partner": partner.pk,
                "billing_email": "billing@acme.example",
                "provisioning-TOTAL_FORMS": "0", "provisioning-INITIAL_FORMS": "0",
                "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
            },
        )  # fmt: skip
    assert response.status_code == 302, response.content
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.domains == ["acme.example", "mail.acme.example"]
    assert tenant.provisioning.count() == 3  # made by the service, not by the admin
    assert log.one("tenant.created", actor=staff_client.staff).actor_ip == "127.0.0.1"


def test_a_bad_value_in_the_admin_names_the_field_and_saves_nothing(staff_client) -> None:
    with watch_audit() as log:
        response = staff_client.post(
            _url(Tenant, "add"),
            {
                "slug": "Not A Slug", "name": "Acme", "plan": "platinum", "domains": "nope",
                "provisioning-TOTAL_FORMS": "0", "provisioning-INITIAL_FORMS": "0",
                "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
            },
        )  # fmt: skip
    assert response.status_code == 200
    assert {"slug", "plan", "domains"} <= set(response.context["adminform"].form.errors)
    log.none()
    assert not Tenant.objects.exists()


def _flag_form(flag: Flag, **overrides) -> dict:
    data = {
        "description": flag.description, "state": flag.state, "pct": flag.pct,
        "scope_plans": "", "scope_tenant_slugs": "", "scope_partner_slugs": "",
        "scope_environments": "", "based_on_version": flag.version,
        "history-TOTAL_FORMS": "0", "history-INITIAL_FORMS": "0",
    }  # fmt: skip
    return {**data, **overrides}


def test_editing_a_flag_in_the_admin_is_audited_and_versioned(staff_client) -> None:
    flag = Flag.objects.get(key="passkey_login")
    with watch_audit() as log:
        response = staff_client.post(
            _url(Flag, "change", flag.pk),
            _flag_form(flag, state="rollout", pct="20", scope_environments="prod"),
        )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.state, flag.pct, flag.scope_environments, flag.version) == (
        "rollout", 20, ["prod"], 2,
    )  # fmt: skip
    log.one("flag.updated", actor=staff_client.staff)


def test_a_stale_flag_form_in_the_admin_is_refused_not_overwritten(staff_client) -> None:
    flag = Flag.objects.get(key="passkey_login")
    stale = _flag_form(flag, pct="70", state="rollout")
    staff_client.post(_url(Flag, "change", flag.pk), _flag_form(flag, pct="10", state="rollout"))
    with watch_audit() as log:
        response = staff_client.post(_url(Flag, "change", flag.pk), stale, follow=True)
    assert "changed by someone else" in response.text
    log.none()
    flag.refresh_from_db()
    assert flag.pct == 10


def test_tenant_rows_are_soft_deleted_not_removed(staff_client) -> None:
    tenant = TenantFactory()
    with watch_audit() as log:
        staff_client.post(
            _url(Tenant, "changelist"),
            {"action": "soft_delete", "_selected_action": [tenant.pk]},
        )
    tenant.refresh_from_db()
    assert tenant.status == "deleted"
    log.one("tenant.deleted", actor=staff_client.staff)
    assert staff_client.get(_url(Tenant, "delete", tenant.pk)).status_code == 403


def test_adding_a_user_in_the_admin_is_audited_without_the_password(staff_client) -> None:
    from operators.models import User

    with watch_audit() as log:
        response = staff_client.post(
            _url(User, "add"),
            {"email": "New.Ops@Dezky.Example", "name": "Sample Ops", "platform_admin": "on",
             "password1": "a-long-enough-Passw0rd", "password2": "a-long-enough-Passw0rd"},
        )  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(email="new.ops@dezky.example")
    assert user.platform_admin and user.check_password("a-long-enough-Passw0rd")
    event = log.one("user.created", actor=staff_client.staff)
    assert "Passw0rd" not in str(event.metadata)


def test_changing_a_password_in_the_admin_is_audited(staff_client) -> None:
    from operators.models import User

    user = OperatorFactory()
    with watch_audit() as log:
        response = staff_client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"password1": "another-long-Passw0rd", "password2": "another-long-Passw0rd",
             "usable_password": "true"},
        )  # fmt: skip
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("another-long-Passw0rd")
    log.one("user.password_changed", actor=staff_client.staff)


def test_change_pages_render_for_staff(staff_client) -> None:
    from tests.tenants.factories import MembershipFactory

    membership = MembershipFactory()
    objects = [membership, membership.tenant, membership.user, PartnerFactory(),
               Flag.objects.first()]  # fmt: skip
    for obj in objects:
        assert staff_client.get(_url(type(obj), "change", obj.pk)).status_code == 200, obj
