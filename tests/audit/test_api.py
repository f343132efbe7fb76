from __future__ import annotations

import pytest

from tests.audit.factories import event, events
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db
URL = "/api/audit/events/"


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


class TestWhoMayRead:
    def test_a_service_with_audit_read(self, client) -> None:
        event()
        response = client.get(URL, **_bearer(make_token("audit:read")))
        assert response.status_code == 200 and response.json()["results"]

    def test_a_service_without_it(self, client) -> None:
        assert client.get(URL, **_bearer(make_token("tenants:read"))).status_code == 403

    def test_audit_read_opens_get_only(self, client) -> None:
        assert client.post(URL, {}, **_bearer(make_token("audit:read"))).status_code == 403

    def test_operators_yes_members_no(self, client) -> None:
        client.force_login(UserFactory())
        assert client.get(URL).status_code == 403
        client.force_login(OperatorFactory())
        assert client.get(URL).status_code == 200

    def test_anonymous_callers_are_asked_for_credentials(self, client) -> None:
        assert client.get(URL).status_code == 401


class TestEvents:
    def test_fields_sentence_and_kind(self, operator_client) -> None:
        tenant = TenantFactory(slug="harbourview")
        made = event("tenant.suspended", tenant=tenant, target_repr="Harbourview Dental")
        body = operator_client.get(URL, {"tenant": "harbourview"}).json()
        assert body["next"] is None and body["cursor"] is None
        [row] = body["results"]
        assert row["id"] == made.id and row["action"] == "tenant.suspended"
        assert row["sentence"] == "The system suspended tenant Harbourview Dental"
        assert row["kind"] == "Tenants" and row["tenant"] == "harbourview"
        assert row["hash"] == made.hash and row["actor_email"] == ""

    def test_cursor_pages_cover_every_event_once(self, operator_client) -> None:
        made = [e.id for e in events(7)]
        seen, url, params = [], URL, {"target_type": "sample", "page_size": "3"}
        while url:
            body = operator_client.get(url, params).json()
            seen += [row["id"] for row in body["results"]]
            url, params = body["next"], {}
        assert seen == made[::-1]
        cursor = operator_client.get(URL, {"target_type": "sample", "page_size": "3"}).json()
        again = operator_client.get(
            URL, {"target_type": "sample", "page_size": "3", "cursor": cursor["cursor"]}
        ).json()
        assert [r["id"] for r in again["results"]] == made[::-1][3:6]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"cursor": "nope"}, "cursor"),
            ({"since": "yesterday"}, "since"),
            ({"action": "kind:Nothing"}, "action"),
            ({"tenant": "no-such-tenant"}, "tenant"),
            ({"page_size": "0"}, "page_size"),
            ({"page_size": "5000"}, "page_size"),
            ({"actor": "x\x00"}, "actor"),
        ],
    )
    def test_bad_filters_are_a_400_naming_the_field(self, operator_client, params, field) -> None:
        response = operator_client.get(URL, params)
        assert response.status_code == 400
        assert field in response.json()

    def test_filters_match_the_page(self, operator_client) -> None:
        ops = OperatorFactory(email="ops@northwind.example")
        mine = event("flag.killed", actor=ops, target_type="flag", target_id="s1")
        event("flag.created", target_type="flag", target_id="s2")
        for params in (
            {"actor": "ops@northwind.example"},
            {"action": "flag.killed", "target_type": "flag"},
            {"target_type": "flag", "target_id": "s1"},
            {"q": "northwind"},
        ):
            ids = [r["id"] for r in operator_client.get(URL, params).json()["results"]]
            assert ids == [mine.id], params


def test_the_schema_documents_the_endpoint(operator_client) -> None:
    schema = operator_client.get("/api/schema/").content.decode()
    assert "/api/audit/events/" in schema
    assert "List audit events" in schema
