from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from flags import services
from flags.models import HISTORY_KEPT, Flag
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.audit_helpers import watch_audit
from tests.flags.vectors import CASES, VECTORS
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db

LIST = "/api/flags/"
EVALUATE = "/api/flags/evaluate/"
PREVIEW = "/api/flags/preview/"


def detail(key: str) -> str:
    return f"/api/flags/{key}/"


@pytest.fixture
def api(client):
    """The test client speaking JSON, with helpers to sign in as each kind of caller."""

    class Api:
        def __init__(self) -> None:
            self.headers: dict[str, str] = {}

        def as_operator(self):
            self.operator = OperatorFactory()
            client.force_login(self.operator)
            return self

        def as_service(self, *scopes: str):
            self.headers = {"Authorization": f"Bearer {make_token(*scopes)}"}
            return self

        def call(self, method: str, url: str, body=None, **headers):
            return getattr(client, method)(
                url, body, content_type="application/json", headers={**self.headers, **headers}
            )

        def get(self, url, **h):
            return client.get(url, headers={**self.headers, **h})

        def post(self, url, body=None, **h):
            return self.call("post", url, body if body is not None else {}, **h)

        def patch(self, url, body, **h):
            return self.call("patch", url, body, **h)

        def delete(self, url, **h):
            return self.call("delete", url, **h)

    return Api()


def _vector_world() -> None:
    """The shared vectors' flags and tenants, with their exact stable ids."""
    Flag.objects.all().delete()
    for f in VECTORS["flags"]:
        scope = {f"scope_{axis}": values for axis, values in f["scope"].items()}
        Flag.objects.create(key=f["key"], state=f["state"], pct=f["pct"], **scope)
    seen = set()
    for case in CASES:
        c = case["context"]
        if c["tenant_slug"] in seen:
            continue
        seen.add(c["tenant_slug"])
        partner = PartnerFactory(slug=c["partner_slug"]) if c["partner_slug"] else None
        TenantFactory(
            slug=c["tenant_slug"], stable_id=c["tenant_id"], plan=c["plan"], partner=partner
        )
    from core import versions

    versions.bump("flags")
    versions.bump("tenants")


class TestEvaluate:
    @pytest.mark.parametrize(
        "case", CASES, ids=lambda c: "{tenant_slug}-{environment}".format(**c["context"])
    )
    def test_every_shared_vector_through_the_api(self, api, case) -> None:
        _vector_world()
        api.as_service("flags:evaluate")
        c = case["context"]
        response = api.post(
            EVALUATE, {"tenantSlug": c["tenant_slug"], "environment": c["environment"]}
        )
        assert response.status_code == 200, response.content
        assert response.json() == case["expected"]

    def test_explain_gives_value_and_reason(self, api) -> None:
        _vector_world()
        api.as_service("flags:evaluate")
        body = api.post(
            EVALUATE, {"tenantSlug": "tyrell", "environment": "prod", "explain": True}
        ).json()
        # Each entry also carries the rule's detail (tests/flags/test_explain.py).
        body = {k: {"value": v["value"], "reason": v["reason"]} for k, v in body.items()}
        assert body["jmap_native_v2"] == {"value": False, "reason": "DISABLED"}
        assert body["gdpr_export_v2"] == {"value": True, "reason": "STATIC"}
        assert body["saml_sso"] == {"value": True, "reason": "TARGETING_MATCH"}
        assert body["stalwart_spam_v2"] == {"value": False, "reason": "DEFAULT"}
        assert body["rollout_1"]["reason"] in ("SPLIT", "DEFAULT")

    def test_the_server_environment_is_the_default(self, api, settings) -> None:
        _vector_world()
        api.as_service("flags:evaluate")
        settings.DEZKY_ENVIRONMENT = "prod"
        prod = next(c for c in CASES if c["context"]["environment"] == "prod")
        body = api.post(EVALUATE, {"tenantSlug": prod["context"]["tenant_slug"]}).json()
        assert body == prod["expected"]

    @pytest.mark.parametrize("status", ["deleted", None])
    def test_an_unknown_or_deleted_tenant_is_a_404_naming_it(self, api, status) -> None:
        if status:
            TenantFactory(slug="gone-co", status=status, deleted_at="2026-01-01T00:00Z")
        api.as_service("flags:evaluate")
        response = api.post(EVALUATE, {"tenantSlug": "gone-co"})
        assert response.status_code == 404
        assert "gone-co" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "tenantSlug"),
            ({"tenantSlug": ""}, "tenantSlug"),
            ({"tenantSlug": 7}, "tenantSlug"),
            ({"tenantSlug": "acme", "environment": "qa"}, "environment"),
            ({"tenantSlug": "acme", "explain": "perhaps"}, "explain"),
            (["acme"], "non_field_errors"),
        ],
    )
    def test_a_malformed_body_is_a_400_naming_the_field(self, api, body, field) -> None:
        TenantFactory(slug="acme")
        api.as_service("flags:evaluate")
        response = api.post(EVALUATE, body)
        assert response.status_code == 400, response.content
        assert field in response.json()

    def test_invalid_json_is_a_400(self, api, client) -> None:
        api.as_service("flags:evaluate")
        response = client.post(EVALUATE, "{not json", content_type="application/json",
                               headers=api.headers)  # fmt: skip
        assert response.status_code == 400

    def test_steady_state_evaluation_runs_no_query(self, api, django_assert_num_queries) -> None:
        TenantFactory(slug="acme")
        api.as_service("flags:evaluate")
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).status_code == 200  # warms up
        with django_assert_num_queries(0):
            for _ in range(3):
                assert api.post(EVALUATE, {"tenantSlug": "acme"}).status_code == 200

    def test_a_change_is_seen_by_the_next_evaluation(self, api) -> None:
        TenantFactory(slug="acme")
        api.as_service("flags:evaluate")
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).json()["saml_sso"] is False
        services.flag_update(key="saml_sso", state="on", actor=None)
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).json()["saml_sso"] is True
        tenant_services.tenant_create(slug="newco", name="Newco", plan="starter", actor=None)
        assert api.post(EVALUATE, {"tenantSlug": "newco"}).status_code == 200
        tenant_services.tenant_soft_delete(tenant=Tenant.objects.get(slug="acme"), actor=None)
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).status_code == 404

    @pytest.mark.parametrize("explain", [False, True])
    def test_answers_match_the_documented_schema(self, api, explain) -> None:
        import jsonschema

        from flags.api.views import EVALUATION_SCHEMA

        _vector_world()
        api.as_service("flags:evaluate")
        body = api.post(
            EVALUATE, {"tenantSlug": "tyrell", "environment": "prod", "explain": explain}
        ).json()
        schema = {k: v for k, v in EVALUATION_SCHEMA.items() if k != "example"}
        jsonschema.validate(body, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"saml_sso": "yes"}, schema)


class TestReadAndWrite:
    def test_list_and_detail_with_history_and_etag(self, api) -> None:
        api.as_operator()
        listed = api.get(LIST).json()["results"]
        assert "jmap_native_v2" in [f["key"] for f in listed]
        response = api.get(detail("jmap_native_v2"))
        assert response.status_code == 200
        body = response.json()
        assert response["ETag"] == f'"{body["version"]}"'
        assert body["scope"] == {"plans": [], "tenant_slugs": [], "partner_slugs": [],
                                 "environments": []}  # fmt: skip
        assert body["history"][0]["changes"]["state"] == {"before": None, "after": "off"}
        assert api.get(LIST + "?search=billing").json()["results"][0]["key"] == (
            "new_billing_engine"
        )

    def test_unknown_flag_is_a_404(self, api) -> None:
        api.as_operator()
        assert api.get(detail("nope_flag")).status_code == 404
        assert api.patch(detail("nope_flag"), {"pct": 1, "version": 1}).status_code == 404

    def test_create_patch_kill_delete_each_audited(self, api) -> None:
        api.as_operator()
        with watch_audit() as log:
            created = api.post(LIST, {"key": "sample_api", "description": "from the API",
                                      "state": "rollout", "pct": 5,
                                      "scope": {"plans": ["business"]}})  # fmt: skip
        assert created.status_code == 201, created.content
        assert created.json()["scope"]["plans"] == ["business"]
        log.one("flag.created", actor=api.operator)

        with watch_audit() as log:
            patched = api.patch(detail("sample_api"), {"pct": 25}, **{"If-Match": '"1"'})
        assert patched.status_code == 200, patched.content
        assert (patched.json()["pct"], patched.json()["version"], patched["ETag"]) == (25, 2, '"2"')
        log.one("flag.updated", actor=api.operator)

        with watch_audit() as log:
            killed = api.post(detail("sample_api") + "kill/")
        assert (killed.json()["state"], killed.json()["pct"]) == ("off", 0)
        log.one("flag.killed", actor=api.operator)

        with watch_audit() as log:
            assert api.delete(detail("sample_api")).status_code == 204
        log.one("flag.deleted", actor=api.operator)
        assert api.post(LIST, {"key": "sample_api"}).status_code == 409

    def test_history_keeps_twenty_newest_first_and_audit_keeps_all(self, api) -> None:
        api.as_operator()
        with watch_audit() as log:
            for pct in range(1, 26):
                version = api.get(detail("passkey_login")).json()["version"]
                api.patch(detail("passkey_login"), {"pct": pct, "version": version})
        history = api.get(detail("passkey_login")).json()["history"]
        assert len(history) == HISTORY_KEPT
        assert [h["changes"]["pct"]["after"] for h in history] == list(range(25, 5, -1))
        assert len([e for e in log.events if e.action == "flag.updated"]) == 25

    def test_a_patch_without_a_version_is_refused(self, api) -> None:
        api.as_operator()
        response = api.patch(detail("passkey_login"), {"pct": 10})
        assert response.status_code == 428
        assert "version" in response.json()

    def test_two_sessions_patch_the_same_version_one_wins_one_conflicts(self, api) -> None:
        api.as_operator()
        first = api.patch(detail("passkey_login"), {"pct": 10}, **{"If-Match": '"1"'})
        second = api.patch(detail("passkey_login"), {"pct": 90, "version": 1})
        assert first.status_code == 200
        assert second.status_code == 409
        body = second.json()
        assert "changed by someone else" in body["detail"]
        assert body["current"]["pct"] == 10 and body["current"]["version"] == 2
        assert second["ETag"] == '"2"'
        assert Flag.objects.get(key="passkey_login").pct == 10

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"key": "Bad-Key"}, "key"),
            ({"key": "x"}, "key"),
            ({"key": "sample_x", "state": "maybe"}, "state"),
            ({"key": "sample_x", "pct": 101}, "pct"),
            ({"key": "sample_x", "pct": -1}, "pct"),
            ({"key": "sample_x", "pct": "lots"}, "pct"),
            ({"key": "sample_x", "scope": {"colours": ["red"]}}, "scope"),
            ({"key": "sample_x", "scope": {"plans": "business"}}, "scope"),
            ({"key": "sample_x", "scope": {"plans": ["platinum"]}}, "scope.plans"),
            ({"key": "sample_x", "scope": {"environments": ["qa"]}}, "scope.environments"),
            ({"key": "sample_x", "scope": {"tenant_slugs": ["Not A Slug"]}}, "scope.tenant_slugs"),
            ({"key": "sample_x", "description": "x" * 2001}, "description"),
            ({"key": "jmap_native_v2"}, "field"),  # a 409 naming the key
        ],
    )
    def test_every_field_is_validated_and_nothing_is_written(self, api, body, field) -> None:
        api.as_operator()
        before = Flag.objects.count()
        with watch_audit() as log:
            response = api.post(LIST, body)
        assert response.status_code in (400, 409), response.content
        assert field in response.json(), response.json()
        log.none()
        assert Flag.objects.count() == before

    def test_a_bad_patch_names_the_field_and_changes_nothing(self, api) -> None:
        api.as_operator()
        response = api.patch(detail("passkey_login"), {"scope": {"plans": ["gold"]}, "version": 1})
        assert response.status_code == 400
        assert "scope.plans" in response.json()
        assert Flag.objects.get(key="passkey_login").version == 1


class TestWhoMayDoWhat:
    def test_services_may_read_and_evaluate_but_never_write(self, api) -> None:
        TenantFactory(slug="acme")
        api.as_service("flags:read", "flags:evaluate")
        assert api.get(LIST).status_code == 200
        assert api.get(detail("saml_sso")).status_code == 200
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).status_code == 200
        assert api.post(LIST, {"key": "sample_svc"}).status_code == 403
        assert api.patch(detail("saml_sso"), {"pct": 5, "version": 1}).status_code == 403
        assert api.post(detail("saml_sso") + "kill/").status_code == 403
        assert api.delete(detail("saml_sso")).status_code == 403
        assert api.post(PREVIEW, {"key": "saml_sso", "state": "on"}).status_code == 403

    def test_a_token_only_does_what_its_scopes_say(self, api) -> None:
        TenantFactory(slug="acme")
        api.as_service("flags:evaluate")
        assert api.get(LIST).status_code == 403
        api.as_service("flags:read")
        assert api.post(EVALUATE, {"tenantSlug": "acme"}).status_code == 403

    def test_bad_and_revoked_tokens_get_401(self, api) -> None:
        from operators import services as operator_services
        from operators.models import ServiceToken

        api.headers = {"Authorization": "Bearer dzk_nope_nope"}
        assert api.get(LIST).status_code == 401
        api.as_service("flags:read")
        assert api.get(LIST).status_code == 200
        operator_services.service_token_revoke(token=ServiceToken.objects.get(), actor=None)
        response = api.get(LIST)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_tenant_member_may_not_read_flags(self, api, client) -> None:
        client.force_login(UserFactory())
        assert client.get(LIST).status_code == 403


class TestPreview:
    def test_preview_counts_and_flips_match_the_engine(self, api) -> None:
        _vector_world()
        api.as_operator()
        body = api.post(PREVIEW, {"key": "ocis_spaces_quota", "state": "rollout", "pct": 100,
                                  "environment": "prod"}).json()  # fmt: skip
        assert body["total"] == 8 and body["on"] == 8
        prod_cases = [c for c in CASES if c["context"]["environment"] == "prod"]
        saved_on = {c["context"]["tenant_slug"] for c in prod_cases
                    if c["expected"]["ocis_spaces_quota"]}  # fmt: skip
        assert set(body["turned_on"]) == {c["context"]["tenant_slug"] for c in CASES} - saved_on
        assert body["turned_off"] == []
        off = api.post(PREVIEW, {"key": "ocis_spaces_quota", "state": "off",
                                 "environment": "prod"}).json()  # fmt: skip
        assert off["on"] == 0 and set(off["turned_off"]) == saved_on

    def test_preview_validates(self, api) -> None:
        api.as_operator()
        response = api.post(PREVIEW, {"key": "x", "state": "sideways", "pct": 300})
        assert response.status_code == 400
        assert {"key", "state", "pct"} <= response.json().keys()


def test_the_openapi_schema_is_valid_and_complete() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks are a PostgreSQL matter")
def test_concurrent_patches_of_one_version_let_exactly_one_win(client) -> None:
    operator = OperatorFactory()
    results: list[int] = []
    start = threading.Barrier(2)

    def patch(pct: int) -> None:
        from django.test import Client

        c = Client()
        c.force_login(operator)
        start.wait()
        response = c.patch(detail("passkey_login"), {"pct": pct, "version": 1},
                           content_type="application/json")  # fmt: skip
        results.append(response.status_code)
        connections.close_all()

    threads = [threading.Thread(target=patch, args=(p,)) for p in (10, 90)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [200, 409]
    assert Flag.objects.get(key="passkey_login").version == 2
