"""Provisioning: each integration (Authentik, Stalwart, oCIS) makes sure a tenant
exists on its side. Adapters are used when their URL and credentials are
configured and report "not configured" otherwise, never a pretend "ready"."""

from __future__ import annotations

from tenants.provisioning.base import Provisioner


def provisioners() -> list[Provisioner]:
    from tenants.provisioning.authentik import AuthentikProvisioner
    from tenants.provisioning.ocis import OcisProvisioner
    from tenants.provisioning.stalwart import StalwartProvisioner

    return [AuthentikProvisioner(), StalwartProvisioner(), OcisProvisioner()]
