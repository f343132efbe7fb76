"""suspend, resume, soft delete: every transition allowed and refused, each success
recording exactly one audit event with actor and IP, each refusal writing nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.errors import Conflict
from tenants import services
from tenants.models import Tenant, TenantStatus
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

STATUSES = [s.value for s in TenantStatus]
ALLOWED = {
    ("suspend", "active"): "suspended",
    ("resume", "suspended"): "active",
    ("soft_delete", "pending"): "deleted",
    ("soft_delete", "active"): "deleted",
    ("soft_delete", "suspended"): "deleted",
}
EVENTS = {"suspend": "tenant.suspended", "resume": "tenant.resumed",
          "soft_delete": "tenant.deleted"}  # fmt: skip


def _tenant(status: str) -> Tenant:
    return TenantFactory(
        status=status, deleted_at=timezone.now() if status == TenantStatus.DELETED else None
    )


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("action", ["suspend", "resume", "soft_delete"])
def test_every_transition(action: str, start: str) -> None:
    actor = OperatorFactory()
    tenant = _tenant(start)
    service = getattr(services, f"tenant_{action}")
    expected = ALLOWED.get((action, start))
    with watch_audit() as log:
        if expected is None:
            with pytest.raises(Conflict) as refused:
                service(tenant=tenant, actor=actor, ip="192.0.2.7")
            assert refused.value.status_code == 409
            assert tenant.slug in refused.value.message
            log.none()
            tenant.refresh_from_db()
            assert tenant.status == start
            return
        service(tenant=tenant, actor=actor, ip="192.0.2.7")
    event = log.one(EVENTS[action], actor=actor)
    assert event.actor_ip == "192.0.2.7"
    assert event.tenant_id == tenant.pk
    assert event.metadata["previous_status"] == start
    tenant.refresh_from_db()
    assert tenant.status == expected
    assert (tenant.deleted_at is not None) == (expected == TenantStatus.DELETED)


def test_the_refusal_says_why() -> None:
    tenant = _tenant(TenantStatus.PENDING)
    with pytest.raises(Conflict, match="only an active tenant can be suspended"):
        services.tenant_suspend(tenant=tenant, actor=None)
    with pytest.raises(Conflict, match="only a suspended tenant can be resumed"):
        services.tenant_resume(tenant=tenant, actor=None)


def test_a_stale_copy_is_judged_on_the_current_status() -> None:
    tenant = _tenant(TenantStatus.ACTIVE)
    stale = Tenant.objects.get(pk=tenant.pk)
    services.tenant_suspend(tenant=tenant, actor=None)
    with watch_audit() as log, pytest.raises(Conflict):
        services.tenant_suspend(tenant=stale, actor=None)
    log.none()
