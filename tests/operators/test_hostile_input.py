"""What a client can send to the account pages and endpoints: NUL bytes (PostgreSQL
refuses them in text), very long values, deep or odd JSON and junk ids get a 4xx
that names the field, never a 500, and change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db
NUL = "pat\x00rivera"
LONG = "x" * 20_000
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(operator_client: Any) -> dict[str, Any]:
    tenant = TenantFactory(slug="northwind", name="Northwind Traders")
    member = MembershipFactory(tenant=tenant, role="owner").user
    colleague = OperatorFactory(email="colleague@dezky.example")
    return {"tenant": tenant, "member": member, "colleague": colleague}


def _form_posts(world: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    slug, member = world["tenant"].slug, world["member"]
    return [
        (reverse("operators:invite"), {"name": NUL, "email": f"{NUL}@example.test"}),
        (reverse("operators:invite"), {"name": LONG, "email": LONG}),
        (reverse("tenants:member_invite", args=[slug]),
         {"name": NUL, "email": "a\x00@example.test", "role": "own\x00er"}),
        (reverse("tenants:member_invite", args=[slug]), {"name": LONG, "role": LONG}),
        (reverse("tenants:member_role", args=[slug, member.pk]), {"role": "adm\x00in"}),
        (reverse("tenants:member_role", args=[slug, member.pk]), {"role": LONG}),
        (reverse("operators:impersonation-start"), {"member": NUL, "reason": NUL * 3}),
        (reverse("operators:impersonation-start"), {"member": LONG, "reason": LONG}),
        (reverse("operators:password_change"),
         {"current_password": NUL, "new_password1": NUL, "new_password2": NUL}),
        (reverse("operators:password_change"),
         {"current_password": LONG, "new_password1": LONG, "new_password2": LONG}),
    ]  # fmt: skip


def test_form_posts_with_nul_bytes_or_huge_values_are_refused_not_500(
    operator_client: Any, world: dict[str, Any]
) -> None:
    before = AuditEvent.objects.count()
    for url, data in _form_posts(world):
        swap = operator_client.post(url, data, **HTMX)
        assert 400 <= swap.status_code < 500, (url, data.keys(), swap.status_code)
        # Without JavaScript an action's form may answer 303 back to its page, with
        # the error as a message; never a 5xx.
        plain = operator_client.post(url, data)
        assert plain.status_code in (303, 400, 403, 409), (url, plain.status_code)
    assert AuditEvent.objects.count() == before  # nothing was written


@pytest.mark.parametrize(
    "query",
    [{"member": NUL}, {"member": LONG}, {"next": NUL}, {"next": "//evil.example/"}],
)
def test_odd_query_strings_on_account_pages_are_never_500(
    operator_client: Any, world: dict[str, Any], query: dict[str, str]
) -> None:
    for name in ("operators:impersonation-start", "operators:password_change", "console:settings"):
        response = operator_client.get(reverse(name), query)
        assert response.status_code < 500, (name, query)


@pytest.mark.parametrize(
    "body",
    [
        {"name": NUL, "email": "pat@example.test", "role": "member"},
        {"name": "Pat", "email": "pat\x00@example.test", "role": "member"},
        {"name": "Pat", "email": "pat@example.test", "role": {"nested": ["owner"]}},
        {"name": ["Pat"], "email": 7, "role": None},
        json.loads("[" * 200 + "]" * 200),
        "not an object",
    ],
)
def test_the_member_invite_api_answers_bad_bodies_with_400(
    operator_client: Any, world: dict[str, Any], body: Any
) -> None:
    url = reverse("api:tenant-member-invite", args=[world["tenant"].slug])
    response = operator_client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("body", [{"role": "adm\x00in"}, {"role": ["owner"]}, {"role": LONG}, []])
def test_the_member_role_api_answers_bad_bodies_with_400(
    operator_client: Any, world: dict[str, Any], body: Any
) -> None:
    url = reverse("api:tenant-member", args=[world["tenant"].slug, world["member"].pk])
    response = operator_client.patch(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content


def test_junk_ids_in_lifecycle_urls_change_nothing_and_are_never_500(
    operator_client: Any,
) -> None:
    before = AuditEvent.objects.count()
    for name in ("operators:deactivate", "operators:reactivate", "operators:resend"):
        # A swap says the operator is gone in the refreshed list; a form goes back to it.
        assert operator_client.post(reverse(name, args=[2**62]), **HTMX).status_code in (200, 404)
        assert operator_client.post(reverse(name, args=[2**62])).status_code in (303, 404)
    assert AuditEvent.objects.count() == before
