"""Stalwart (mail): the tenant's mail domains, as domain principals of Stalwart's
REST management API (`/api/principal`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings

from tenants.models import Integration, Tenant
from tenants.provisioning.base import ProvisioningFailed
from tenants.provisioning.http import JsonClient, client_for


class StalwartProvisioner:
    integration = Integration.STALWART
    simulated = False

    def configured(self) -> bool:
        return bool(settings.STALWART_URL and settings.STALWART_TOKEN)

    def client(self) -> JsonClient:
        return client_for(
            name="Stalwart", base_url=settings.STALWART_URL, token=settings.STALWART_TOKEN,
            timeout=settings.PROVISIONING_TIMEOUT_SECONDS,
        )  # fmt: skip

    def ensure(self, tenant: Tenant) -> None:
        if not tenant.domains:
            raise ProvisioningFailed("The tenant has no mail domain to create in Stalwart.")
        client = self.client()
        for domain in tenant.domains:
            if self._exists(client, domain):
                continue
            _, answer = client.call(
                "POST",
                "/api/principal",
                body={
                    "type": "domain",
                    "name": domain,
                    "description": f"Dezky tenant {tenant.slug}",
                },
            )
            error = _error(answer)
            if error == "fieldAlreadyExists":
                continue  # created meanwhile (or by hand): what we wanted
            if error:
                reason = answer.get("details") or answer.get("reason") or error
                raise ProvisioningFailed(f"Stalwart refused the domain {domain}: {reason}")

    def _exists(self, client: JsonClient, domain: str) -> bool:
        status, answer = client.call("GET", f"/api/principal/{quote(domain)}", ok=(200, 404))
        # TRICKY: Stalwart reports most refusals as a 200 whose body is {"error": ...}.
        return status == 200 and _error(answer) != "notFound"


def _error(answer: Any) -> str:
    return str(answer.get("error") or "") if isinstance(answer, dict) else ""
