"""Provisioning: each integration (Authentik, Stalwart, oCIS) makes sure a tenant
exists on its side. Adapters are used when their URL and credentials are
configured and report "not configured" otherwise, never a pretend "ready".
The one exception is the demo (`DEMO_INTEGRATIONS=true`): all three are simulated
in-process, and every outcome says so."""

from __future__ import annotations

from django.conf import settings

from tenants.provisioning.base import Provisioner


def provisioners() -> list[Provisioner]:
    if settings.DEMO_INTEGRATIONS:
        from tenants.provisioning.simulated import simulated_provisioners

        return list(simulated_provisioners())
    from tenants.provisioning.authentik import AuthentikProvisioner
    from tenants.provisioning.ocis import OcisProvisioner
    from tenants.provisioning.stalwart import StalwartProvisioner

    return [AuthentikProvisioner(), StalwartProvisioner(), OcisProvisioner()]
