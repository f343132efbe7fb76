"""What every provisioning adapter is: configured or not, and an idempotent ensure."""

from __future__ import annotations

from typing import Protocol

from tenants.models import Tenant


class ProvisioningFailed(Exception):
    """The integration refused or failed; the message is for an operator."""


class Provisioner(Protocol):
    integration: str
    # True only for the demo's stand-ins (tenants/provisioning/simulated.py).
    simulated: bool

    def configured(self) -> bool:
        """True when its URL and credentials are set; otherwise it is never called."""
        ...

    def ensure(self, tenant: Tenant) -> None:
        """Make the tenant exist on this integration, creating only what is missing."""
        ...
