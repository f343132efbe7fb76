"""Authentik (identity): a group per tenant, through the same directory client the
operator invites use."""

from __future__ import annotations

from django.conf import settings

from operators.directory import DirectoryError, get_directory
from tenants.models import Integration, Tenant
from tenants.provisioning.base import ProvisioningFailed


def tenant_group_name(tenant: Tenant) -> str:
    return f"{settings.AUTHENTIK_TENANT_GROUP_PREFIX}{tenant.slug}"


class AuthentikProvisioner:
    integration = Integration.AUTHENTIK
    simulated = False

    def configured(self) -> bool:
        # In local identity mode there is no Authentik to provision into.
        return settings.IDENTITY_MODE == "authentik"

    def ensure(self, tenant: Tenant) -> None:
        try:
            # The directory keeps group ids for the life of the process; verify=True makes
            # it check the group is still there, so one deleted in Authentik comes back.
            get_directory().ensure_group(tenant_group_name(tenant), verify=True)
        except DirectoryError as err:
            raise ProvisioningFailed(f"Authentik: {err.message}") from None
