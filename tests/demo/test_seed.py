"""`manage.py seed_demo`: the demo a fresh console shows, seeded again on every `make run`."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from audit import keys
from audit.chain import verify
from audit.models import AuditEvent
from demo.seed import DEMO_OPERATOR_EMAIL, TENANTS, demo_users
from operators import services as operator_services
from operators.models import User
from tenants import services as tenant_services
from tenants.models import Membership, Partner, ProvisioningState, Tenant, TenantStatus
from tenants.reconcile import tenant_reconcile

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Partner.objects.count(),
        Tenant.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def _states() -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (p.tenant.slug, p.integration): (p.state, p.last_error)
        for p in ProvisioningState.objects.select_related("tenant")
    }


def test_seed_demo_creates_a_console_worth_walking_and_is_idempotent(capsys) -> None:
    call_command("seed_demo")
    first = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    operator = User.objects.get(email=DEMO_OPERATOR_EMAIL)
    assert operator.platform_admin and operator.is_staff and operator.check_password(password)
    assert Partner.objects.count() == 3
    assert Tenant.objects.count() == 40
    statuses = set(Tenant.objects.values_list("status", flat=True))
    assert statuses == {"pending", "active", "suspended", "deleted"}
    assert set(Tenant.objects.values_list("plan", flat=True)) == {
        "starter", "business", "enterprise",
    }  # fmt: skip
    assert User.objects.filter(platform_admin=False).count() == 60
    assert Membership.objects.count() > 60
    counts = _counts()

    call_command("seed_demo")
    again = capsys.readouterr().out
    assert "nothing new" in again and password not in again
    assert _counts() == counts
    assert verify(AuditEvent.objects.order_by("id"), keys=keys.key_for)[1] is None
    # The password is shown, never stored in the audit log.
    assert not AuditEvent.objects.filter(metadata__icontains=password).exists()


def test_a_new_demo_password_can_be_asked_for(capsys) -> None:
    call_command("seed_demo")
    capsys.readouterr()
    call_command("seed_demo", "--new-password")
    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert User.objects.get(email=DEMO_OPERATOR_EMAIL).check_password(password)


def test_seeding_again_after_operators_changed_the_demo_creates_nothing(capsys) -> None:
    call_command("seed_demo")
    operator = User.objects.get(email=DEMO_OPERATOR_EMAIL)
    # What operators do to a demo between two `make run`s: a home tenant of demo users
    # is deleted (the first one: every index after it would shift), others suspended
    # or renamed, a user deactivated, a membership removed, a role changed.
    acme = Tenant.objects.get(slug="acme")
    assert Membership.objects.filter(tenant=acme).exists()
    tenant_services.tenant_soft_delete(tenant=acme, actor=operator)
    tenant_services.tenant_suspend(tenant=Tenant.objects.get(slug="globex"), actor=operator)
    tenant_services.tenant_update(
        tenant=Tenant.objects.get(slug="initrode"), name="Initrode Print & Post", actor=operator
    )
    someone = User.objects.get(email=demo_users()[5].email)
    operator_services.user_update(user=someone, is_active=False, actor=operator)
    tenant_services.membership_remove(
        membership=Membership.objects.filter(user__email=demo_users()[7].email).first(),
        actor=operator,
    )
    changed_role = Membership.objects.get(
        user__email=demo_users()[0].email, tenant__slug=demo_users()[0].home
    )
    tenant_services.membership_set(
        tenant=changed_role.tenant, user=changed_role.user, role="admin", actor=operator
    )
    capsys.readouterr()
    counts, memberships = _counts(), set(Membership.objects.values_list("pk", "role"))

    call_command("seed_demo")

    assert "nothing new" in capsys.readouterr().out
    assert _counts() == counts
    assert set(Membership.objects.values_list("pk", "role")) == memberships
    assert User.objects.filter(platform_admin=False).count() == 60
    assert Tenant.objects.get(slug="acme").status == TenantStatus.DELETED
    assert Tenant.objects.get(slug="initrode").name == "Initrode Print & Post"
    assert not User.objects.get(pk=someone.pk).is_active


def test_demo_people_are_the_same_list_every_time_and_invented() -> None:
    people = demo_users()
    assert people == demo_users()
    assert len({p.email for p in people}) == len(people) == 60
    # Every address is on an invented tenant's .example domain.
    slugs = {slug for slug, _ in TENANTS}
    assert all(p.email.endswith(".example") and p.home in slugs for p in people)


def test_without_demo_integrations_the_seed_invents_no_provisioning_state(settings) -> None:
    settings.DEMO_INTEGRATIONS = False
    call_command("seed_demo")
    # Nobody reconciled these tenants, so nothing is known about them yet.
    assert set(ProvisioningState.objects.values_list("state", flat=True)) == {"pending"}
    assert not AuditEvent.objects.filter(action="tenant.reconciled").exists()
    assert ProvisioningState.objects.count() == 3 * len(TENANTS)


def test_with_demo_integrations_the_states_come_from_reconcile(settings, capsys) -> None:
    settings.DEMO_INTEGRATIONS = True
    call_command("seed_demo")
    assert "Integrations: simulated" in capsys.readouterr().out
    states = _states()
    # Every tenant but the pending ones went through reconcile (the deleted ones before
    # their deletion), one event each.
    reconciled = set(
        Tenant.objects.exclude(status=TenantStatus.PENDING).values_list("slug", flat=True)
    )
    events = AuditEvent.objects.filter(action="tenant.reconciled")
    assert sorted(events.values_list("tenant__slug", flat=True)) == sorted(reconciled)
    assert len(reconciled) == 35
    for event in events:
        assert all(o["simulated"] for o in event.metadata["outcomes"].values())

    by_state = [state for (slug, _), (state, _) in states.items() if slug in reconciled]
    assert by_state.count("ready") > 90  # most
    assert 3 <= by_state.count("error") <= 15  # a few
    assert "not_configured" not in by_state
    errors = {error for state, error in states.values() if state == "error"}
    assert (
        "Sample error (demo): mailbox quota service did not answer. "
        "(Simulated Stalwart; nothing was called.)"
    ) in errors
    assert all(e.startswith("Sample error (demo)") and "Simulated" in e for e in errors)
    pending = Tenant.objects.filter(status=TenantStatus.PENDING)
    assert pending.count() == 5
    assert set(
        ProvisioningState.objects.filter(tenant__in=pending).values_list("state", flat=True)
    ) == {"pending"}

    # A Reconcile click later finds every state as the seed left it.
    for tenant in Tenant.objects.filter(slug__in=reconciled).exclude(status=TenantStatus.DELETED):
        tenant_reconcile(tenant=tenant, actor=None)
    assert _states() == states


def test_seed_with_demo_integrations_is_idempotent_too(settings, capsys) -> None:
    settings.DEMO_INTEGRATIONS = True
    call_command("seed_demo")
    tenant_services.tenant_soft_delete(tenant=Tenant.objects.get(slug="acme"), actor=None)
    counts, states = _counts(), _states()
    capsys.readouterr()
    call_command("seed_demo")
    assert "nothing new" in capsys.readouterr().out
    assert (_counts(), _states()) == (counts, states)
