"""The demo's simulated integrations (DEMO_INTEGRATIONS): deterministic, named as
simulated in every outcome, and never a network call."""

from __future__ import annotations

import socket

import pytest

from tenants import services
from tenants.models import ProvisioningState, Tenant, TenantStatus
from tenants.provisioning import provisioners
from tenants.provisioning.simulated import (
    SimulatedProvisioner,
    simulated_bucket,
    simulated_error,
)
from tenants.reconcile import tenant_reconcile
from tests.audit_helpers import watch_audit

STALWART_QUOTA = (
    "Sample error (demo): mailbox quota service did not answer. "
    "(Simulated Stalwart; nothing was called.)"
)
AUTHENTIK_GROUP = (
    "Sample error (demo): the identity group service did not answer. "
    "(Simulated Authentik; nothing was called.)"
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulated integrations made a network call")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def demo_integrations(settings, no_network) -> None:
    # Real integrations configured as well: the demo setting still wins, for all three.
    settings.DEMO_INTEGRATIONS = True
    settings.IDENTITY_MODE = "authentik"
    settings.AUTHENTIK_URL = settings.STALWART_URL = settings.OCIS_URL = "http://192.0.2.1:9"
    settings.AUTHENTIK_TOKEN = settings.STALWART_TOKEN = settings.OCIS_TOKEN = "sample-token"


def _tenant(slug: str, domains: list[str] | None = None) -> Tenant:
    return services.tenant_create(
        slug=slug, name=f"Sample {slug}", plan="starter",
        domains=[f"{slug}.example"] if domains is None else domains, actor=None,
    )  # fmt: skip


def _states(tenant: Tenant) -> dict[str, tuple[str, str]]:
    return {
        p.integration: (p.state, p.last_error)
        for p in ProvisioningState.objects.filter(tenant=tenant)
    }


def test_the_answer_is_a_pinned_hash_of_the_slug() -> None:
    # sha256, not Python's hash(): the same on every machine and in every process.
    assert [simulated_bucket(i, "acme") for i in ("authentik", "stalwart", "ocis")] == [73, 66, 53]
    assert simulated_bucket("stalwart", "tundra-outdoor") < 8
    assert simulated_bucket("authentik", "tundra-outdoor") < 8
    assert simulated_bucket("ocis", "tundra-outdoor") >= 8


def test_most_tenants_are_ready_and_a_few_fail_with_a_sample_error() -> None:
    tenants = [Tenant(slug=f"sample-co-{n:03d}", domains=["a.example"]) for n in range(300)]
    errors = [simulated_error(i, t) for t in tenants for i in ("authentik", "stalwart", "ocis")]
    failed = [e for e in errors if e]
    assert 0.04 < len(failed) / len(errors) < 0.12
    assert all(e.startswith("Sample error (demo):") and "(Simulated " in e for e in failed)
    assert errors == [
        simulated_error(i, t) for t in tenants for i in ("authentik", "stalwart", "ocis")
    ]


def test_a_tenant_without_a_mail_domain_fails_in_simulated_stalwart_as_in_the_real_one() -> None:
    error = simulated_error("stalwart", Tenant(slug="acme", domains=[]))
    assert error == (
        "Sample error (demo): the tenant has no mail domain to create. "
        "(Simulated Stalwart; nothing was called.)"
    )


def test_the_registry_simulates_all_three_only_with_the_setting(settings) -> None:
    settings.DEMO_INTEGRATIONS = False
    assert not any(isinstance(p, SimulatedProvisioner) for p in provisioners())
    assert not any(p.simulated for p in provisioners())
    settings.DEMO_INTEGRATIONS = True
    found = provisioners()
    assert [p.integration for p in found] == ["authentik", "stalwart", "ocis"]
    assert all(isinstance(p, SimulatedProvisioner) and p.configured() for p in found)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_integrations")
def test_reconcile_through_simulated_integrations_gives_the_hashed_states() -> None:
    tenant = _tenant("tundra-outdoor")
    with watch_audit() as log:
        outcomes = tenant_reconcile(tenant=tenant, actor=None)
    assert [(o.integration, o.state, o.simulated) for o in outcomes] == [
        ("authentik", "error", True), ("stalwart", "error", True), ("ocis", "ready", True),
    ]  # fmt: skip
    assert _states(tenant) == {
        "authentik": ("error", AUTHENTIK_GROUP),
        "stalwart": ("error", STALWART_QUOTA),
        "ocis": ("ready", ""),
    }
    assert log.one("tenant.reconciled").metadata["outcomes"] == {
        "authentik": {"state": "error", "error": AUTHENTIK_GROUP, "simulated": True},
        "stalwart": {"state": "error", "error": STALWART_QUOTA, "simulated": True},
        "ocis": {"state": "ready", "error": "", "simulated": True},
    }
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.PENDING  # something failed: not live yet

    # Again and again: the same answer.
    tenant_reconcile(tenant=tenant, actor=None)
    assert _states(tenant)["stalwart"] == ("error", STALWART_QUOTA)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_integrations")
def test_a_pending_tenant_all_ready_in_the_simulation_goes_live_as_in_reality() -> None:
    tenant = _tenant("acme")
    outcomes = tenant_reconcile(tenant=tenant, actor=None)
    assert {(o.state, o.error) for o in outcomes} == {("ready", "")}
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE


@pytest.mark.django_db
def test_real_outcomes_carry_no_simulated_mark(settings) -> None:
    settings.DEMO_INTEGRATIONS = False
    tenant = _tenant("acme")
    with watch_audit() as log:
        outcomes = tenant_reconcile(tenant=tenant, actor=None)
    assert not any(o.simulated for o in outcomes)
    assert log.one("tenant.reconciled").metadata["outcomes"]["ocis"] == {
        "state": "not_configured", "error": "",
    }  # fmt: skip
