"""What a client can send must never be a 500: NUL bytes in the path or the query
(PostgreSQL text cannot hold them), JSON nested deeper than Python parses, If-Match
headers that only look like numbers, unknown API paths and bodies over the limit."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.flags.factories import FlagFactory
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db

NUL_API = [
    "/api/tenants/?search=%00",
    "/api/tenants/?status=%00",
    "/api/tenants/?plan=a%00",
    "/api/tenants/?partner=%00",
    "/api/partners/?search=%00",
    "/api/flags/a%00b/",
    "/api/tenants/%00/",
    "/api/tenants/?%00=x",
]
NUL_PAGES = [
    "/tenants/?q=%00",
    "/users/?q=%00",
    "/flags/?q=%00",
    "/partners/?q=%00",
    "/audit/?q=%00",
    "/flags/change-requests/?q=%00",
    "/flags/a%00b/",
]


@pytest.fixture
def operator_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(OperatorFactory())
    return client


@pytest.mark.parametrize("url", NUL_API)
def test_a_nul_byte_in_an_api_request_is_a_json_400(operator_client, url):
    response = operator_client.get(url)
    assert response.status_code == 400
    assert "NUL byte" in response.json()["detail"]


@pytest.mark.parametrize("url", NUL_PAGES)
def test_a_nul_byte_in_a_page_request_is_a_400_page(operator_client, url):
    response = operator_client.get(url)
    assert response.status_code == 400
    assert b"NUL byte" in response.content and b"<html" in response.content


def test_the_guard_names_the_parameter(operator_client):
    body = operator_client.get("/api/tenants/?plan=starter&search=a%00").json()
    assert body["field"] == "search"


def test_a_nul_byte_inside_a_json_value_is_refused_by_the_field(operator_client):
    FlagFactory(key="sample_flag")
    response = operator_client.patch(
        "/api/flags/sample_flag/",
        json.dumps({"description": "a\u0000b", "version": 1}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "description" in response.json()


@pytest.mark.parametrize("url", ["/api/flags/evaluate/", "/api/flags/", "/api/flags/preview/"])
def test_json_nested_too_deeply_is_a_400(operator_client, url):
    deep = "[" * 50_000 + "]" * 50_000
    response = operator_client.post(url, deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in json.dumps(response.json())


def test_ofrep_answers_parse_error_for_json_nested_too_deeply(operator_client):
    deep = '{"context":' * 20_000 + "{}" + "}" * 20_000
    response = operator_client.post(
        "/ofrep/v1/evaluate/flags", deep, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "PARSE_ERROR"


@pytest.mark.parametrize("header", ['"²"', '"' + "9" * 5000 + '"', '"-1"', '"3.0"', "W/"])
def test_an_if_match_that_is_not_a_version_is_a_400_naming_it(operator_client, header):
    FlagFactory(key="sample_flag")
    for method, url in (
        ("patch", "/api/flags/sample_flag/"),
        ("post", "/api/flags/sample_flag/change-requests/"),
    ):
        response = getattr(operator_client, method)(
            url, json.dumps({"state": "on"}), content_type="application/json", HTTP_IF_MATCH=header
        )
        assert response.status_code == 400, (method, header)
        assert "If-Match" in response.json()


def test_a_weak_etag_still_names_the_version(operator_client):
    FlagFactory(key="sample_flag")
    response = operator_client.patch(
        "/api/flags/sample_flag/",
        json.dumps({"state": "on"}),
        content_type="application/json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_an_unknown_api_path_is_a_json_404(operator_client):
    response = operator_client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert "GET /api/schema/" in response.json()["detail"]
    assert Client().get("/api/no-such-thing/").status_code == 404


def test_a_body_over_the_limit_is_a_json_400(operator_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = operator_client.post(
        "/api/flags/evaluate/", json.dumps({"x": "y" * 5000}), content_type="application/json"
    )
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize("name", ["status", "plan"])
def test_a_tenant_filter_outside_its_choices_is_a_400_naming_it(operator_client, name):
    response = operator_client.get(f"/api/tenants/?{name}=bogus")
    assert response.status_code == 400
    assert name in response.json()


def test_a_swap_with_a_nul_byte_gets_a_toast_not_a_page(operator_client):
    response = operator_client.get("/audit/?actor=a%00b", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["HX-Reswap"] == "none"
    assert "The parameter actor contains a NUL byte" in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "bearer    "])
def test_an_empty_bearer_header_is_a_401_even_with_a_session(operator_client, header):
    response = operator_client.get("/api/tenants/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "holds no token" in response.json()["detail"]


def test_paged_lists_are_documented_as_pages_not_arrays():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path, name in (
        ("/api/tenants/", "PaginatedTenantList"),
        ("/api/partners/", "PaginatedPartnerList"),
        ("/api/tenants/{slug}/users/", "PaginatedMemberList"),
    ):
        body = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{name}"}, path


def test_list_fields_are_bounded(operator_client):
    from core.validators import STRING_LIST_MAX

    FlagFactory(key="sample_flag")
    too_many = [f"t{n}" for n in range(STRING_LIST_MAX + 1)]
    response = operator_client.patch(
        "/api/flags/sample_flag/",
        json.dumps({"scope": {"tenant_slugs": too_many}, "version": 1}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "scope" in response.json()
    preview = operator_client.post(
        "/api/flags/preview/",
        json.dumps({"key": "sample_flag", "state": "targeted", "scope": {"plans": too_many}}),
        content_type="application/json",
    )
    assert preview.status_code == 400


def test_a_stored_list_is_bounded_by_the_model_too():
    from django.core.exceptions import ValidationError

    from core.validators import STRING_LIST_MAX, validate_string_list

    with pytest.raises(ValidationError) as refused:
        validate_string_list([str(n) for n in range(STRING_LIST_MAX + 1)])
    assert refused.value.code == "too_long"
    validate_string_list([str(n) for n in range(STRING_LIST_MAX)])


def test_ofrep_refusals_keep_the_protocols_error_shape(operator_client):
    not_json = operator_client.post("/ofrep/v1/evaluate/flags", "x=1", content_type="text/plain")
    assert not_json.status_code == 400
    assert not_json.json()["errorCode"] == "PARSE_ERROR"
    wrong_method = operator_client.get("/ofrep/v1/evaluate/flags")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errorCode"] == "GENERAL"
    assert "POST" in wrong_method["Allow"]


def test_every_operation_documents_its_error_answers():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert paths
    for path, item in paths.items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)


def test_service_credentials_are_listed_only_where_a_scope_opens_the_operation():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def schemes(path: str, method: str) -> set[str]:
        return {name for entry in paths[path][method]["security"] for name in entry}

    assert schemes("/api/flags/{key}/", "patch") == {"cookieAuth"}
    assert schemes("/api/flags/", "post") == {"cookieAuth"}
    assert schemes("/api/tenants/{slug}/", "patch") == {"cookieAuth"}
    assert "serviceToken" in schemes("/api/flags/{key}/", "get")
    assert "serviceToken" in schemes("/api/flags/evaluate/", "post")
    assert "serviceToken" in schemes("/api/tenants/", "get")
