from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenants.models import Partner, Tenant

pytestmark = pytest.mark.django_db


def _errors(obj: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return exc.value.message_dict


def _tenant(**overrides: object) -> Tenant:
    fields = {"slug": "acme", "name": "Acme Logistics", "plan": "starter", "status": "active"}
    return Tenant(**{**fields, **overrides})


def test_a_valid_tenant_passes_validation() -> None:
    _tenant(domains=["acme.example", "mail.acme.example"]).full_clean()


@pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "ac me", "a" * 64, "", "acme_co"])
def test_tenant_slug_must_be_a_dns_label(slug: str) -> None:
    assert "slug" in _errors(_tenant(slug=slug))


def test_tenant_plan_and_status_must_be_known() -> None:
    errors = _errors(_tenant(plan="platinum", status="frozen"))
    assert {"plan", "status"} <= errors.keys()


@pytest.mark.parametrize(
    "domains",
    [["not a domain"], ["acme"], "acme.example", [1], ["acme.example", "acme.example"]],
)
def test_tenant_domains_must_be_a_list_of_unique_domain_names(domains: object) -> None:
    assert "domains" in _errors(_tenant(domains=domains))


def test_tenant_domains_are_normalised_to_lower_case() -> None:
    tenant = _tenant(domains=["ACME.example"])
    tenant.full_clean()
    assert tenant.domains == ["acme.example"]


def test_deleted_at_goes_with_the_deleted_status() -> None:
    assert "deleted_at" in _errors(_tenant(status="deleted"))


def test_partner_slug_is_validated() -> None:
    assert "slug" in _errors(Partner(slug="Nordic IT", name="Nordic IT Partners"))
