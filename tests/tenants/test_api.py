from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tenants.models import Tenant, TenantStatus
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import MembershipFactory, PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db

ROLES = ("operator", "member", "non_member", "anonymous", "service", "service_without_scope")


@pytest.fixture
def world():
    partner = PartnerFactory(slug="nordic-it", name="Nordic IT Partners")
    acme = TenantFactory(slug="acme", name="Acme Logistics", partner=partner)
    TenantFactory(slug="globex", name="Globex Freight")
    member = UserFactory(email="member@acme.example")
    MembershipFactory(tenant=acme, user=member, role="admin")
    return {"acme": acme, "partner": partner, "member": member}


@pytest.fixture
def as_role(client, world):
    """Sign the test client in as one kind of caller; returns extra request headers."""

    def sign_in(role: str) -> dict[str, str]:
        if role == "operator":
            client.force_login(OperatorFactory())
        elif role == "member":
            client.force_login(world["member"])
        elif role == "non_member":
            client.force_login(UserFactory())
        elif role == "service":
            return {"Authorization": f"Bearer {make_token('tenants:read')}"}
        elif role == "service_without_scope":
            return {"Authorization": f"Bearer {make_token('flags:read')}"}
        return {}

    return sign_in


def _call(client, method: str, url: str, headers: dict[str, str], body=None):
    if method == "get":
        return client.get(url, headers=headers)
    return getattr(client, method)(
        url, body or {}, content_type="application/json", headers=headers
    )


# (method, url, body) -> expected status per role, in ROLES order.
MATRIX = [
    ("get", "/api/tenants/", None, (200, 200, 200, 401, 200, 403)),
    ("get", "/api/tenants/acme/", None, (200, 200, 404, 401, 200, 403)),
    ("get", "/api/tenants/acme/users/", None, (200, 200, 404, 401, 200, 403)),
    ("patch", "/api/tenants/acme/", {"plan": "business"}, (200, 403, 403, 401, 403, 403)),
    ("post", "/api/tenants/acme/suspend/", None, (200, 403, 403, 401, 403, 403)),
    ("post", "/api/tenants/acme/resume/", None, (409, 403, 403, 401, 403, 403)),
    ("post", "/api/tenants/acme/reconcile/", None, (200, 403, 403, 401, 403, 403)),
    ("delete", "/api/tenants/acme/", None, (204, 403, 403, 401, 403, 403)),
    ("get", "/api/partners/", None, (200, 403, 403, 401, 200, 403)),
    ("get", "/api/partners/nordic-it/", None, (200, 403, 403, 401, 200, 403)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(client, as_role, role, method, url, body, expected) -> None:
    headers = as_role(role)
    response = _call(client, method, url, headers, body)
    assert response.status_code == expected[ROLES.index(role)], response.content


@pytest.mark.parametrize("role", ["member", "non_member"])
def test_an_unknown_slug_and_a_foreign_one_look_the_same(client, as_role, role) -> None:
    headers = as_role(role)
    unknown = client.get("/api/tenants/no-such-tenant/", headers=headers)
    foreign = client.get("/api/tenants/globex/", headers=headers)
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json().keys() == foreign.json().keys()


def test_writes_by_non_operators_change_nothing(client, as_role, world) -> None:
    headers = as_role("member")
    before = AuditEvent.objects.count()
    _call(client, "post", "/api/tenants/acme/suspend/", headers)
    _call(client, "delete", "/api/tenants/acme/", headers)
    _call(client, "patch", "/api/tenants/acme/", headers, {"name": "Taken"})
    acme = Tenant.objects.get(slug="acme")
    assert (acme.status, acme.name) == (TenantStatus.ACTIVE, "Acme Logistics")
    assert AuditEvent.objects.count() == before


class TestList:
    def test_a_member_sees_only_their_tenants(self, client, as_role) -> None:
        headers = as_role("member")
        body = client.get("/api/tenants/", headers=headers).json()
        assert [t["slug"] for t in body["results"]] == ["acme"]

    def test_filters_and_search(self, client, as_role) -> None:
        TenantFactory(slug="initech", name="Initech Mail", plan="business", status="suspended")
        headers = as_role("operator")

        def slugs(query: str) -> list[str]:
            return [t["slug"] for t in client.get(f"/api/tenants/?{query}").json()["results"]]

        assert slugs("status=suspended") == ["initech"]
        assert slugs("plan=business") == ["initech"]
        assert slugs("partner=nordic-it") == ["acme"]
        assert slugs("search=FREIGHT") == ["globex"]
        assert slugs("search=acm") == ["acme"]
        assert headers == {}

    def test_soft_deleted_tenants_are_hidden_unless_asked_for(self, client, as_role) -> None:
        TenantFactory(slug="gone", status=TenantStatus.DELETED, deleted_at="2026-01-01T00:00Z")
        as_role("operator")
        listed = [t["slug"] for t in client.get("/api/tenants/").json()["results"]]
        assert "gone" not in listed
        asked = client.get("/api/tenants/?include_deleted=true").json()["results"]
        assert "gone" in [t["slug"] for t in asked]
        by_status = client.get("/api/tenants/?status=deleted").json()["results"]
        assert [t["slug"] for t in by_status] == ["gone"]

    def test_a_member_never_sees_a_deleted_tenant(self, client, as_role, world) -> None:
        headers = as_role("member")
        Tenant.objects.filter(slug="acme").update(
            status=TenantStatus.DELETED, deleted_at="2026-01-01T00:00Z"
        )
        assert client.get("/api/tenants/?include_deleted=1").json()["results"] == []
        assert client.get("/api/tenants/acme/", headers=headers).status_code == 404

    def test_paginated(self, client, as_role) -> None:
        as_role("operator")
        TenantFactory.create_batch(5)
        body = client.get("/api/tenants/?page_size=3").json()
        assert body["count"] == 7
        assert len(body["results"]) == 3
        assert body["next"]

    def test_every_tenant_lists_all_three_integrations(self, client, as_role) -> None:
        headers = as_role("service")
        tenant = client.get("/api/tenants/acme/", headers=headers).json()
        assert [p["integration"] for p in tenant["provisioning"]] == [
            "authentik", "stalwart", "ocis",
        ]  # fmt: skip
        assert {p["state"] for p in tenant["provisioning"]} == {"pending"}
        assert tenant["partner"] == "nordic-it"

    @pytest.mark.parametrize("size", [3, 30])
    def test_queries_do_not_grow_with_tenants(
        self, client, as_role, size, django_assert_max_num_queries
    ) -> None:
        as_role("operator")
        for _ in range(size):
            t = TenantFactory(partner=PartnerFactory())
            MembershipFactory(tenant=t)
        with django_assert_max_num_queries(6):
            assert client.get("/api/tenants/").status_code == 200


class TestDetailAndPatch:
    def test_patch_changes_the_allowed_fields_and_audits_once(self, client, as_role) -> None:
        as_role("operator")
        before = AuditEvent.objects.count()
        response = client.patch(
            "/api/tenants/acme/",
            {"name": "Acme Shipping", "plan": "enterprise", "domains": ["acme.example"],
             "billing_email": "ap@acme.example"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 200, response.content
        assert response.json()["plan"] == "enterprise"
        assert AuditEvent.objects.count() == before + 1
        assert AuditEvent.objects.latest("id").action == "tenant.updated"

    def test_a_field_that_cannot_be_changed_is_a_400_naming_it(self, client, as_role) -> None:
        as_role("operator")
        response = client.patch(
            "/api/tenants/acme/", {"status": "active"}, content_type="application/json"
        )
        assert response.status_code == 400
        assert "status" in response.json()

    def test_an_invalid_domain_is_a_400_naming_domains(self, client, as_role) -> None:
        as_role("operator")
        response = client.patch(
            "/api/tenants/acme/", {"domains": ["not a domain"]}, content_type="application/json"
        )
        assert response.status_code == 400
        assert "domains" in response.json()

    def test_a_deleted_tenant_cannot_be_changed(self, client, as_role) -> None:
        as_role("operator")
        assert client.delete("/api/tenants/acme/").status_code == 204
        response = client.patch(
            "/api/tenants/acme/", {"name": "Back"}, content_type="application/json"
        )
        assert response.status_code == 409

    def test_an_operator_still_sees_a_deleted_tenant_by_slug(self, client, as_role) -> None:
        as_role("operator")
        client.delete("/api/tenants/acme/")
        body = client.get("/api/tenants/acme/").json()
        assert body["status"] == "deleted"
        assert body["deleted_at"]


class TestLifecycle:
    @pytest.mark.parametrize(
        ("start", "action", "expected", "after"),
        [
            ("active", "suspend", 200, "suspended"),
            ("pending", "suspend", 409, "pending"),
            ("suspended", "suspend", 409, "suspended"),
            ("deleted", "suspend", 409, "deleted"),
            ("suspended", "resume", 200, "active"),
            ("active", "resume", 409, "active"),
            ("pending", "resume", 409, "pending"),
            ("deleted", "resume", 409, "deleted"),
        ],
    )
    def test_suspend_and_resume(self, client, as_role, start, action, expected, after) -> None:
        as_role("operator")
        Tenant.objects.filter(slug="acme").update(
            status=start, deleted_at="2026-01-01T00:00Z" if start == "deleted" else None
        )
        response = client.post(f"/api/tenants/acme/{action}/")
        assert response.status_code == expected, response.content
        if expected == 409:
            assert "only a" in response.json()["detail"]
            assert response.json()["status"] == start
        else:
            assert response.json()["status"] == after
        assert Tenant.objects.get(slug="acme").status == after

    @pytest.mark.parametrize("start", ["pending", "active", "suspended"])
    def test_delete_from_any_state_but_deleted(self, client, as_role, start) -> None:
        as_role("operator")
        Tenant.objects.filter(slug="acme").update(status=start)
        assert client.delete("/api/tenants/acme/").status_code == 204
        assert client.delete("/api/tenants/acme/").status_code == 409
        assert "already deleted" in client.delete("/api/tenants/acme/").json()["detail"]

    def test_the_audit_event_carries_actor_and_ip(self, client, as_role) -> None:
        as_role("operator")
        client.post("/api/tenants/acme/suspend/", REMOTE_ADDR="203.0.113.9")
        event = AuditEvent.objects.latest("id")
        assert event.action == "tenant.suspended"
        assert event.actor_email.startswith("operator")
        assert event.actor_ip == "203.0.113.9"


class TestUsersAndPartners:
    def test_users_most_recent_sign_in_first_never_signed_in_last(
        self, client, as_role, world
    ) -> None:
        from django.utils import timezone

        acme = world["acme"]
        recent = UserFactory(email="recent@acme.example", last_login=timezone.now())
        never = UserFactory(email="never@acme.example", last_login=None)
        old = UserFactory(email="old@acme.example", last_login="2025-01-01T00:00Z")
        for user in (never, old, recent):
            MembershipFactory(tenant=acme, user=user)
        headers = as_role("service")
        body = client.get("/api/tenants/acme/users/", headers=headers).json()
        emails = [u["email"] for u in body["results"]]
        assert emails.index("recent@acme.example") < emails.index("old@acme.example")
        assert emails[-1] in ("never@acme.example", "member@acme.example")
        assert body["results"][0]["role"] == "member"

    def test_partners_count_live_tenants(self, client, as_role, world) -> None:
        TenantFactory(partner=world["partner"], status=TenantStatus.DELETED,
                      deleted_at="2026-01-01T00:00Z")  # fmt: skip
        as_role("operator")
        body = client.get("/api/partners/nordic-it/").json()
        assert body == {
            "slug": "nordic-it", "name": "Nordic IT Partners", "tenant_count": 1,
            "created_at": body["created_at"],
        }  # fmt: skip
        assert client.get("/api/partners/nope/").status_code == 404
        assert client.get("/api/partners/").json()["count"] == 1
