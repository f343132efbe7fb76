"""Simulated provisioners for the demo (`DEMO_INTEGRATIONS=true`): Authentik, Stalwart
and oCIS answered in-process, so a console with none of them gives believable
provisioning states, and never a made-up "ready" outside the demo.

Nothing is called. A stable hash of the tenant's slug decides the answer, so a demo
tenant is in the same state on every machine and after every reconcile: most are
ready, a few fail with a sample error that says it is one.
"""

from __future__ import annotations

import hashlib

from tenants.models import Integration, Tenant
from tenants.provisioning.base import ProvisioningFailed

# Out of 100: the share of (tenant, integration) pairs that fail in the demo.
SAMPLE_ERROR_PERCENT = 8

SAMPLE_ERRORS = {
    Integration.AUTHENTIK: "Sample error (demo): the identity group service did not answer.",
    Integration.STALWART: "Sample error (demo): mailbox quota service did not answer.",
    Integration.OCIS: "Sample error (demo): the file space quota could not be set.",
}
NAMES = {
    Integration.AUTHENTIK: "Authentik",
    Integration.STALWART: "Stalwart",
    Integration.OCIS: "oCIS",
}


def simulated_bucket(integration: str, slug: str) -> int:
    """0-99, from the integration and the slug only (not Python's per-process hash)."""
    digest = hashlib.sha256(f"demo:{integration}:{slug}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def simulated_error(integration: str, tenant: Tenant) -> str:
    """The sample error this integration gives this tenant in the demo, or "" for ready."""
    name = NAMES[Integration(integration)]
    suffix = f" (Simulated {name}; nothing was called.)"
    if integration == Integration.STALWART and not tenant.domains:
        # What the real adapter refuses too.
        return f"Sample error (demo): the tenant has no mail domain to create.{suffix}"
    if simulated_bucket(integration, tenant.slug) < SAMPLE_ERROR_PERCENT:
        return SAMPLE_ERRORS[Integration(integration)] + suffix
    return ""


class SimulatedProvisioner:
    """One integration, simulated: always configured, answers from the slug's hash."""

    simulated = True

    def __init__(self, integration: str) -> None:
        self.integration = integration

    def configured(self) -> bool:
        return True

    def ensure(self, tenant: Tenant) -> None:
        error = simulated_error(self.integration, tenant)
        if error:
            raise ProvisioningFailed(error)


def simulated_provisioners() -> list[SimulatedProvisioner]:
    return [SimulatedProvisioner(integration) for integration in Integration.values]
