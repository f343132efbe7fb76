"""OFREP v1, as its OpenAPI document says, and read by a real OpenFeature SDK."""

from __future__ import annotations

import pytest

from flags import services
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

ONE = "/ofrep/v1/evaluate/flags/{}"
BULK = "/ofrep/v1/evaluate/flags"


@pytest.fixture
def ofrep(client):
    TenantFactory(slug="acme", plan="business")
    token = make_token("flags:evaluate")

    def post(url: str, body=None, raw: str | None = None, **headers):
        headers = {"Authorization": f"Bearer {token}", **headers}
        if raw is not None:
            return client.post(url, raw, content_type="application/json", headers=headers)
        return client.post(url, body, content_type="application/json", headers=headers)

    return post


def test_one_flag_success_carries_every_field(ofrep) -> None:
    services.flag_update(key="saml_sso", state="targeted", scope_plans=["business"], actor=None)
    response = ofrep(ONE.format("saml_sso"), {"context": {"targetingKey": "acme"}})
    assert response.status_code == 200
    assert response.json() == {
        "key": "saml_sso",
        "value": True,
        "reason": "TARGETING_MATCH",
        "variant": "on",
        "metadata": {},
    }
    off = ofrep(ONE.format("jmap_native_v2"), {"context": {"targetingKey": "acme"}}).json()
    assert (off["value"], off["reason"], off["variant"]) == (False, "DISABLED", "off")


def test_the_environment_comes_from_the_context(ofrep) -> None:
    services.flag_update(key="dmarc_reports", state="targeted", scope_environments=["staging"],
                         actor=None)  # fmt: skip
    url = ONE.format("dmarc_reports")
    staging = ofrep(url, {"context": {"targetingKey": "acme", "environment": "staging"}})
    prod = ofrep(url, {"context": {"targetingKey": "acme", "environment": "prod"}})
    assert staging.json()["value"] is True and prod.json()["value"] is False


@pytest.mark.parametrize(
    ("body", "raw", "status", "code"),
    [
        ({}, None, 400, "TARGETING_KEY_MISSING"),
        ({"context": {}}, None, 400, "TARGETING_KEY_MISSING"),
        ({"context": {"targetingKey": ""}}, None, 400, "TARGETING_KEY_MISSING"),
        ({"context": "acme"}, None, 400, "INVALID_CONTEXT"),
        ({"context": {"targetingKey": 42}}, None, 400, "INVALID_CONTEXT"),
        ({"context": {"targetingKey": "acme", "environment": "qa"}}, None, 400, "INVALID_CONTEXT"),
        ({"context": {"targetingKey": "nobody"}}, None, 400, "INVALID_CONTEXT"),
        (None, "{not json", 400, "PARSE_ERROR"),
        (None, "[1, 2]", 400, "PARSE_ERROR"),
    ],
)
def test_one_flag_failures(ofrep, body, raw, status, code) -> None:
    response = ofrep(ONE.format("saml_sso"), body, raw=raw)
    assert response.status_code == status
    data = response.json()
    assert data["key"] == "saml_sso" and data["errorCode"] == code and data["errorDetails"]


def test_an_unknown_flag_is_flag_not_found(ofrep) -> None:
    response = ofrep(ONE.format("no_such_flag"), {"context": {"targetingKey": "acme"}})
    assert response.status_code == 404
    assert response.json()["errorCode"] == "FLAG_NOT_FOUND"


def test_bulk_answers_every_flag_with_an_etag_and_304_when_unchanged(ofrep) -> None:
    body = {"context": {"targetingKey": "acme"}}
    first = ofrep(BULK, body)
    assert first.status_code == 200
    flags = first.json()["flags"]
    assert len(flags) == 10
    assert all(set(f) == {"key", "value", "reason", "variant", "metadata"} for f in flags)
    etag = first["ETag"]
    again = ofrep(BULK, body, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert ofrep(BULK, body, **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304

    services.flag_update(key="saml_sso", state="on", actor=None)
    changed = ofrep(BULK, body, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_bulk_failures_carry_an_error_code(ofrep) -> None:
    response = ofrep(BULK, {})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "TARGETING_KEY_MISSING"


@pytest.mark.parametrize("url", [ONE.format("saml_sso"), BULK])
def test_401_and_403_have_no_body(client, url) -> None:
    TenantFactory(slug="acme")
    body = {"context": {"targetingKey": "acme"}}
    anonymous = client.post(url, body, content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.content == b""
    wrong = make_token("flags:read")
    refused = client.post(url, body, content_type="application/json",
                          headers={"Authorization": f"Bearer {wrong}"})  # fmt: skip
    assert refused.status_code == 403 and refused.content == b""


def test_the_x_api_key_header_is_accepted(client) -> None:
    TenantFactory(slug="acme")
    token = make_token("flags:evaluate")
    response = client.post(
        BULK, {"context": {"targetingKey": "acme"}},
        content_type="application/json", headers={"X-API-Key": token},
    )  # fmt: skip
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_openfeature_sdk_reads_a_flag_for_two_tenants(live_server) -> None:
    from openfeature import api as openfeature
    from openfeature.contrib.provider.ofrep import OFREPProvider
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import Reason

    from tenants import services as tenant_services

    tenant_services.tenant_create(slug="acme", name="Acme", plan="business", actor=None)
    tenant_services.tenant_create(slug="globex", name="Globex", plan="starter", actor=None)
    services.flag_update(key="saml_sso", state="targeted", scope_plans=["business"], actor=None)
    token = make_token("flags:evaluate")

    openfeature.set_provider(
        OFREPProvider(live_server.url, headers_factory=lambda: {"Authorization": f"Bearer {token}"})
    )
    client = openfeature.get_client()
    acme = client.get_boolean_details("saml_sso", False, EvaluationContext(targeting_key="acme"))
    globex = client.get_boolean_details("saml_sso", True, EvaluationContext("globex"))
    assert (acme.value, acme.reason, acme.variant) == (True, Reason.TARGETING_MATCH, "on")
    assert (globex.value, globex.reason, globex.variant) == (False, Reason.DEFAULT, "off")

    missing = client.get_boolean_details("no_such_flag", True, EvaluationContext("acme"))
    assert missing.value is True and missing.error_code is not None  # the SDK's default

    openfeature.set_provider(OFREPProvider(live_server.url))  # no credential
    refused = openfeature.get_client().get_boolean_details("saml_sso", False,
                                                           EvaluationContext("acme"))  # fmt: skip
    assert refused.value is False and refused.reason == Reason.ERROR
