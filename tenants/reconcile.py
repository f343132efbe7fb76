"""Reconcile: bring a tenant's provisioning up to date on every integration.

- Idempotent: each adapter creates only what is missing.
- One integration's failure does not stop the others; each outcome is recorded.
- Never two at once for one tenant, across processes: a lease on the tenant's row,
  taken with one conditional UPDATE. A second run is refused with a Conflict.
- No transaction is open while an integration is called: the lease is committed
  first, the adapters run, then the outcomes and the audit event are written in
  one transaction that also gives the lease back.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from core import versions
from core.errors import Conflict, NotFound
from operators.models import User
from tenants.models import ProvisioningState, ProvisioningStatus, Tenant, TenantStatus
from tenants.provisioning import provisioners
from tenants.provisioning.base import Provisioner, ProvisioningFailed

logger = logging.getLogger(__name__)
# Longer than three adapters at their timeout with retries; a run that dies frees
# its tenant after this.
LEASE = timedelta(minutes=5)
ERROR_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Outcome:
    integration: str
    state: str
    error: str = ""
    # Answered by the demo's simulated integration (DEMO_INTEGRATIONS); nothing was called.
    simulated: bool = False


def tenant_reconcile(*, tenant: Tenant, actor: User | None, ip: str | None = None) -> list[Outcome]:
    """Run every provisioner for the tenant and record what each one found.

    Records one `tenant.reconciled` event. A pending tenant whose configured
    integrations are all ready becomes active in the same write (and the event says so).
    """
    holder = _take_lease(tenant)
    try:
        tenant = Tenant.objects.get(pk=tenant.pk)
        outcomes = [_run(provisioner, tenant) for provisioner in provisioners()]
        _record(tenant, outcomes, holder=holder, actor=actor, ip=ip)
        return outcomes
    finally:
        _release_lease(tenant, holder)


def reconcile_running(tenant: Tenant) -> bool:
    until = tenant.reconcile_lease_until
    return until is not None and until > timezone.now()


def _take_lease(tenant: Tenant) -> str:
    holder = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        Tenant.objects.filter(pk=tenant.pk)
        .exclude(status=TenantStatus.DELETED)
        .filter(Q(reconcile_lease_until__isnull=True) | Q(reconcile_lease_until__lt=now))
        .update(reconcile_lease_until=now + LEASE, reconcile_lease_holder=holder)
    )
    if taken:
        return holder
    current = Tenant.objects.filter(pk=tenant.pk).values_list("status", flat=True).first()
    if current is None:
        raise NotFound(f"No tenant with the slug {tenant.slug!r}.", field="slug")
    if current == TenantStatus.DELETED:
        raise Conflict(
            f"Tenant {tenant.slug} is deleted; restore it before reconciling.", field="status"
        )
    raise Conflict(f"A reconcile of {tenant.slug} is already running; try again in a moment.")


def _release_lease(tenant: Tenant, holder: str) -> None:
    # Only our own lease: one that expired and was taken by another run stays theirs.
    Tenant.objects.filter(pk=tenant.pk, reconcile_lease_holder=holder).update(
        reconcile_lease_until=None, reconcile_lease_holder=""
    )


def _run(provisioner: Provisioner, tenant: Tenant) -> Outcome:
    integration, simulated = provisioner.integration, provisioner.simulated
    if not provisioner.configured():
        return Outcome(integration, ProvisioningStatus.NOT_CONFIGURED, simulated=simulated)
    try:
        provisioner.ensure(tenant)
    except ProvisioningFailed as err:
        return Outcome(integration, ProvisioningStatus.ERROR, str(err), simulated=simulated)
    except Exception as err:  # a bug in one adapter must not stop the others
        logger.exception("%s provisioning of %s failed", integration, tenant.slug)
        return Outcome(
            integration, ProvisioningStatus.ERROR, f"Unexpected error: {err}", simulated=simulated
        )
    return Outcome(integration, ProvisioningStatus.READY, simulated=simulated)


@transaction.atomic
def _record(
    tenant: Tenant, outcomes: list[Outcome], *, holder: str, actor: User | None, ip: str | None
) -> None:
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.reconcile_lease_holder != holder:
        # The lease ran out and another run took over; its outcomes are newer than ours.
        raise Conflict(f"The reconcile of {tenant.slug} took too long; its results were dropped.")
    now = timezone.now()
    for outcome in outcomes:
        failed = outcome.state == ProvisioningStatus.ERROR
        ProvisioningState.objects.update_or_create(
            tenant=locked,
            integration=outcome.integration,
            defaults={
                "state": outcome.state,
                "last_error": outcome.error[:ERROR_TEXT_LIMIT] if failed else "",
                "last_error_at": now if failed else None,
            },
        )
    metadata: dict[str, Any] = {
        "outcomes": {
            o.integration: {"state": o.state, "error": o.error, **_simulated(o)} for o in outcomes
        }
    }
    if locked.status == TenantStatus.PENDING and _ready_to_go_live(outcomes):
        locked.status = TenantStatus.ACTIVE
        locked.save(update_fields=["status", "updated_at"])
        metadata["status"] = {"before": TenantStatus.PENDING, "after": TenantStatus.ACTIVE}
        versions.bump("tenants")  # flag scopes and snapshots read tenant status
    audit.record(
        action="tenant.reconciled", actor=actor, target=locked, tenant=locked, ip=ip,
        metadata=metadata,
    )  # fmt: skip


def _simulated(outcome: Outcome) -> dict[str, bool]:
    # Only the demo's outcomes carry the key, so the log says which ones were never real.
    return {"simulated": True} if outcome.simulated else {}


def _ready_to_go_live(outcomes: list[Outcome]) -> bool:
    """Live once something is provisioned and nothing failed; an integration that is not
    configured is not a reason to wait, but nothing configured at all is no provisioning."""
    states = {o.state for o in outcomes}
    return ProvisioningStatus.READY in states and ProvisioningStatus.ERROR not in states
