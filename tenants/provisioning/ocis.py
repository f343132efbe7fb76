"""oCIS (files): the tenant's project space, through oCIS's Graph API
(`/graph/v1.0/drives`). A space is found again by the marker in its description,
so renaming the tenant (or the space) never makes a second one."""

from __future__ import annotations

from django.conf import settings

from tenants.models import Integration, Tenant
from tenants.provisioning.http import JsonClient, client_for


def space_marker(tenant: Tenant) -> str:
    return f"dezky-tenant:{tenant.stable_id}"


class OcisProvisioner:
    integration = Integration.OCIS
    simulated = False

    def configured(self) -> bool:
        return bool(settings.OCIS_URL and settings.OCIS_TOKEN)

    def client(self) -> JsonClient:
        return client_for(
            name="oCIS", base_url=settings.OCIS_URL, token=settings.OCIS_TOKEN,
            timeout=settings.PROVISIONING_TIMEOUT_SECONDS,
        )  # fmt: skip

    def ensure(self, tenant: Tenant) -> None:
        client = self.client()
        _, listing = client.call(
            "GET", "/graph/v1.0/drives", params={"$filter": "driveType eq 'project'"}
        )
        marker = space_marker(tenant)
        drives = (listing or {}).get("value", []) if isinstance(listing, dict) else []
        if any(d.get("description") == marker for d in drives):
            return
        client.call(
            "POST",
            "/graph/v1.0/drives",
            body={"name": tenant.name, "description": marker, "driveType": "project"},
            ok=(201,),
        )
