"""Reconcile against fakes of Authentik, Stalwart and oCIS served over HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.errors import Conflict
from tenants import services
from tenants.models import ProvisioningState, Tenant, TenantStatus
from tenants.provisioning.ocis import space_marker
from tenants.reconcile import tenant_reconcile
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _new_tenant(**kw) -> Tenant:
    fields = {"slug": "acme", "name": "Acme Logistics", "plan": "business",
              "domains": ["acme.example", "mail.acme.example"]}  # fmt: skip
    return services.tenant_create(**{**fields, **kw}, actor=None)


def _states(tenant: Tenant) -> dict[str, str]:
    return dict(ProvisioningState.objects.filter(tenant=tenant).values_list("integration", "state"))


def _writes(fakes) -> int:
    return sum(
        len([c for c in fake.calls if c[0] != "GET"])
        for fake in (fakes.authentik, fakes.stalwart, fakes.ocis)
    )


def test_nothing_configured_is_reported_as_such_never_as_ready() -> None:
    tenant = _new_tenant()
    actor = OperatorFactory()
    with watch_audit() as log:
        outcomes = tenant_reconcile(tenant=tenant, actor=actor, ip="192.0.2.1")
    assert {o.state for o in outcomes} == {"not_configured"}
    assert set(_states(tenant).values()) == {"not_configured"}
    event = log.one("tenant.reconciled", actor=actor)
    assert event.actor_ip == "192.0.2.1"
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.PENDING  # nothing was provisioned


def test_provisions_everything_and_the_tenant_goes_live(fakes) -> None:
    tenant = _new_tenant()
    with watch_audit() as log:
        outcomes = tenant_reconcile(tenant=tenant, actor=None)
    assert [(o.integration, o.state) for o in outcomes] == [
        ("authentik", "ready"), ("stalwart", "ready"), ("ocis", "ready"),
    ]  # fmt: skip
    assert [g["name"] for g in fakes.authentik.groups.values()] == ["dezky-tenant-acme"]
    assert fakes.stalwart.domains() == ["acme.example", "mail.acme.example"]
    assert len(fakes.ocis.spaces_named(space_marker(tenant))) == 1
    event = log.one("tenant.reconciled")
    assert event.metadata["status"] == {"before": "pending", "after": "active"}
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    assert tenant.reconcile_lease_until is None


def test_running_it_again_creates_nothing_more(fakes) -> None:
    tenant = _new_tenant()
    tenant_reconcile(tenant=tenant, actor=None)
    writes = _writes(fakes)
    with watch_audit() as log:
        again = tenant_reconcile(tenant=tenant, actor=None)
    assert {o.state for o in again} == {"ready"}
    assert _writes(fakes) == writes
    assert len(fakes.stalwart.principals) == 2
    assert len(fakes.ocis.drives) == 1
    assert len(fakes.authentik.groups) == 1
    assert "status" not in log.one("tenant.reconciled").metadata


def test_a_tenant_group_deleted_in_authentik_is_created_again(fakes) -> None:
    # The directory caches group ids for the life of the process; reconcile must not
    # trust a cached id for a group someone deleted in Authentik since.
    tenant = _new_tenant()
    tenant_reconcile(tenant=tenant, actor=None)
    (old_id,) = fakes.authentik.groups
    del fakes.authentik.groups[old_id]  # deleted in Authentik's UI

    with watch_audit() as log:
        outcomes = {o.integration: o.state for o in tenant_reconcile(tenant=tenant, actor=None)}
    assert outcomes["authentik"] == "ready"
    groups = list(fakes.authentik.groups.values())
    assert [g["name"] for g in groups] == ["dezky-tenant-acme"]
    assert groups[0]["pk"] != old_id
    assert len(fakes.authentik.calls_to("POST", "/core/groups/")) == 2
    assert log.one("tenant.reconciled").metadata["outcomes"]["authentik"]["state"] == "ready"

    # The new id is what the process keeps now: the next run finds it and writes nothing.
    writes = _writes(fakes)
    tenant_reconcile(tenant=tenant, actor=None)
    assert _writes(fakes) == writes
    assert list(fakes.authentik.groups) == [groups[0]["pk"]]


def test_each_reconcile_checks_the_cached_group_with_one_read(fakes) -> None:
    tenant = _new_tenant()
    tenant_reconcile(tenant=tenant, actor=None)
    (group_id,) = fakes.authentik.groups
    before = len(fakes.authentik.calls)
    tenant_reconcile(tenant=tenant, actor=None)
    assert [c[:2] for c in fakes.authentik.calls[before:]] == [
        ("GET", f"/api/v3/core/groups/{group_id}/")
    ]


def test_an_authentik_failure_while_checking_the_group_is_reported(fakes) -> None:
    tenant = _new_tenant()
    tenant_reconcile(tenant=tenant, actor=None)
    (group_id,) = fakes.authentik.groups
    fakes.authentik.inject("GET", rf"/core/groups/{group_id}/$", "500", times=3)
    outcomes = {o.integration: o for o in tenant_reconcile(tenant=tenant, actor=None)}
    assert outcomes["authentik"].state == "error"
    assert "Authentik answered 500" in outcomes["authentik"].error
    assert list(fakes.authentik.groups) == [group_id]  # nothing made on a failed check


def test_what_exists_already_is_adopted_not_duplicated(fakes) -> None:
    tenant = _new_tenant()
    fakes.stalwart.principals["acme.example"] = {"id": 99, "type": "domain", "name": "acme.example"}
    fakes.ocis.drives.append({"id": "x", "name": "Old name", "driveType": "project",
                              "description": space_marker(tenant)})  # fmt: skip
    tenant_reconcile(tenant=tenant, actor=None)
    assert fakes.stalwart.calls_to("POST", "/api/principal") == [
        ("POST", "/api/principal", {"type": "domain", "name": "mail.acme.example",
                                    "description": "Dezky tenant acme"}),
    ]  # fmt: skip
    assert fakes.ocis.calls_to("POST", "/drives") == []


def test_one_failure_does_not_stop_the_others_and_is_recorded(fakes) -> None:
    tenant = _new_tenant()
    fakes.stalwart.inject("POST", r"^/api/principal$", "500")
    outcomes = {o.integration: o for o in tenant_reconcile(tenant=tenant, actor=None)}
    assert outcomes["authentik"].state == outcomes["ocis"].state == "ready"
    assert outcomes["stalwart"].state == "error"
    assert "Stalwart answered 500" in outcomes["stalwart"].error
    row = ProvisioningState.objects.get(tenant=tenant, integration="stalwart")
    assert row.last_error == outcomes["stalwart"].error
    assert row.last_error_at is not None
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.PENDING  # not live with a failed integration

    # The next run finishes the job and clears the error.
    tenant_reconcile(tenant=tenant, actor=None)
    row.refresh_from_db()
    assert (row.state, row.last_error, row.last_error_at) == ("ready", "", None)
    assert fakes.stalwart.domains() == ["acme.example", "mail.acme.example"]
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE


@pytest.mark.parametrize(
    ("upstream", "method", "path", "kind", "words"),
    [
        ("ocis", "POST", r"/drives$", "timeout", "did not answer within"),
        ("ocis", "GET", r"/drives$", "reset", "cannot be reached"),
        ("ocis", "POST", r"/drives$", "400", "oCIS answered 400"),
        ("stalwart", "GET", r"/api/principal/", "timeout", "did not answer within"),
        ("authentik", "POST", r"/core/groups/$", "502", "Authentik"),
    ],
)
def test_faults_become_errors_with_the_upstreams_words(
    fakes, upstream, method, path, kind, words
) -> None:
    tenant = _new_tenant()
    getattr(fakes, upstream).inject(method, path, kind, times=5)
    outcomes = {o.integration: o for o in tenant_reconcile(tenant=tenant, actor=None)}
    assert outcomes[upstream].state == "error"
    assert words in outcomes[upstream].error
    others = {k: o.state for k, o in outcomes.items() if k != upstream}
    assert set(others.values()) == {"ready"}


def test_a_read_that_fails_once_is_retried(fakes) -> None:
    tenant = _new_tenant()
    fakes.ocis.inject("GET", r"/drives$", "502", times=1)
    outcomes = {o.integration: o.state for o in tenant_reconcile(tenant=tenant, actor=None)}
    assert outcomes["ocis"] == "ready"
    assert len(fakes.ocis.calls_to("GET", "/drives")) == 1  # the faulted one is not logged


def test_a_refused_domain_keeps_stalwarts_reason(fakes) -> None:
    tenant = _new_tenant(domains=["acme.example"])
    fakes.stalwart.token = "rotated"
    outcome = {o.integration: o for o in tenant_reconcile(tenant=tenant, actor=None)}["stalwart"]
    assert outcome.state == "error"
    assert "401" in outcome.error and "authenticate" in outcome.error


def test_a_tenant_without_a_mail_domain_is_an_error_for_stalwart(fakes) -> None:
    tenant = _new_tenant(domains=[])
    outcome = {o.integration: o for o in tenant_reconcile(tenant=tenant, actor=None)}["stalwart"]
    assert (outcome.state, outcome.error) == (
        "error", "The tenant has no mail domain to create in Stalwart.",
    )  # fmt: skip


def test_a_deleted_tenant_is_refused_and_nothing_is_called(fakes) -> None:
    tenant = _new_tenant()
    services.tenant_soft_delete(tenant=tenant, actor=None)
    with watch_audit() as log, pytest.raises(Conflict, match="deleted"):
        tenant_reconcile(tenant=tenant, actor=None)
    log.none()
    assert fakes.ocis.calls == fakes.stalwart.calls == []


def test_a_running_reconcile_refuses_a_second_one(fakes) -> None:
    tenant = _new_tenant()
    Tenant.objects.filter(pk=tenant.pk).update(
        reconcile_lease_until=timezone.now() + timedelta(minutes=1), reconcile_lease_holder="x"
    )
    with watch_audit() as log, pytest.raises(Conflict, match="already running"):
        tenant_reconcile(tenant=tenant, actor=None)
    log.none()
    assert fakes.ocis.calls == []
    assert Tenant.objects.get(pk=tenant.pk).reconcile_lease_holder == "x"


def test_an_expired_lease_is_taken_over(fakes) -> None:
    tenant = _new_tenant()
    Tenant.objects.filter(pk=tenant.pk).update(
        reconcile_lease_until=timezone.now() - timedelta(seconds=1), reconcile_lease_holder="x"
    )
    assert {o.state for o in tenant_reconcile(tenant=tenant, actor=None)} == {"ready"}
    assert Tenant.objects.get(pk=tenant.pk).reconcile_lease_holder == ""


@pytest.mark.django_db(transaction=True)
def test_two_at_once_for_one_tenant_make_one_space(fakes) -> None:
    tenant = _new_tenant()
    # The first run's listing of spaces answers slowly, so the second arrives meanwhile.
    fakes.ocis.timeout_seconds = 0.3
    fakes.ocis.inject("GET", r"/drives$", "timeout", times=1)
    results: list[object] = []

    def first() -> None:
        try:
            results.append(tenant_reconcile(tenant=tenant, actor=None))
        finally:
            from django.db import connection

            connection.close()

    runner = threading.Thread(target=first)
    runner.start()
    deadline = timezone.now() + timedelta(seconds=3)
    while fakes.ocis.faults[0].times != 0 and timezone.now() < deadline:
        pass  # wait until the first run is inside oCIS
    with pytest.raises(Conflict, match="already running"):
        tenant_reconcile(tenant=tenant, actor=None)
    runner.join(5)
    assert results and {o.state for o in results[0]} == {"ready"}
    assert len(fakes.ocis.spaces_named(space_marker(tenant))) == 1


class TestCommand:
    def test_all_tenants_with_a_progress_bar(self, fakes) -> None:
        _new_tenant()
        _new_tenant(slug="globex", name="Globex Freight", domains=["globex.example"])
        out = StringIO()
        call_command("reconcile_tenants", "--all", stdout=out)
        text = out.getvalue()
        assert "2/2" in text and "Reconciled 2 tenants, 0 with errors." in text
        assert Tenant.objects.filter(status=TenantStatus.ACTIVE).count() == 2

    def test_named_tenants_and_errors_are_reported(self, fakes) -> None:
        _new_tenant()
        TenantFactory(slug="other")
        fakes.ocis.inject("POST", r"/drives$", "500")
        out = StringIO()
        call_command("reconcile_tenants", "acme", stdout=out)
        text = out.getvalue()
        assert "1/1" in text and "acme: ocis: oCIS answered 500" in text
        assert "1 with errors" in text
        assert not ProvisioningState.objects.filter(tenant__slug="other").exists()

    def test_unknown_slugs_and_bad_arguments(self) -> None:
        with pytest.raises(CommandError, match="nope"):
            call_command("reconcile_tenants", "nope")
        with pytest.raises(CommandError, match="--all"):
            call_command("reconcile_tenants")
