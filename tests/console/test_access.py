"""Every URL of the project against every kind of caller: anonymous, a signed-in
non-operator (a tenant member), an operator, and services (a service token and a
provider-issued JWT, each with and without the right scope). Driven by
tests/console/url_matrix.py: a new URL only needs its entry there."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from operators.models import TokenScope
from tests.console.url_matrix import (
    API,
    CONSOLE,
    CONSOLE_ACTION,
    CONSOLE_POST,
    MATRIX,
    MEMBER_API,
    PUBLIC,
    SIGNED_IN,
    named_patterns,
    service_scopes,
)
from tests.fakes.oidc import CLIENT_ID
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")
ALL_SCOPES = tuple(TokenScope.values)


def test_every_url_of_the_project_is_in_the_access_matrix() -> None:
    names = set(named_patterns())
    assert names - MATRIX.keys() == set(), "new URLs: add them to tests/console/url_matrix.py"
    assert MATRIX.keys() - names == set(), "the matrix lists URLs that no longer exist"


def _urls(kind: str) -> list[tuple[str, str]]:
    return [(n, reverse(n, kwargs=e[1])) for n, e in sorted(MATRIX.items()) if e[0] == kind]


def _api_urls() -> list[tuple[str, str]]:
    return _urls(API) + _urls(MEMBER_API)


def _service_jwt(fake: Any, scopes: tuple[str, ...]) -> str:
    claims = fake.claims(
        sub="sample-service-account",
        azp=CLIENT_ID,
        scope=" ".join(("openid", *scopes)),
        email=None,
        email_verified=None,
        name=None,
        groups=None,
    )
    return fake.sign(claims)


def _services(fake: Any, scopes: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Request headers of a service token and of a service JWT carrying `scopes`."""
    token = make_token(*scopes, name=f"sample-{'-'.join(scopes) or 'none'}")
    return {
        "token": {"HTTP_AUTHORIZATION": f"Bearer {token}"},
        "jwt": {"HTTP_AUTHORIZATION": f"Bearer {_service_jwt(fake, scopes)}"},
    }


def _call(client: Any, method: str, url: str, **headers: str) -> Any:
    return getattr(client, method)(url, {}, content_type="application/json", **headers)


# --- console pages ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE) + _urls(CONSOLE_ACTION))
def test_console_pages_are_for_operators_only(client, oidc_provider, name: str, url: str) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 302, name
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")

    # Pages know sessions only: a service credential is no way into the console.
    for kind, headers in _services(oidc_provider, ALL_SCOPES).items():
        response = client.get(url, **headers)
        assert response.status_code == 302, (name, kind)

    client.force_login(UserFactory())
    assert client.get(url).status_code == 403, name

    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200, name


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE_POST) + _urls(CONSOLE_ACTION))
def test_console_writes_are_for_operators_only(client, oidc_provider, name: str, url: str) -> None:
    anonymous = client.post(url)
    assert anonymous.status_code == 302, name
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")

    for kind, headers in _services(oidc_provider, ALL_SCOPES).items():
        assert client.post(url, **headers).status_code == 302, (name, kind)

    client.force_login(UserFactory())
    assert client.post(url).status_code == 403, name

    client.force_login(OperatorFactory())
    # An empty form is refused by the view, never by the access rule, and never as a 500.
    assert client.post(url).status_code in (200, 302, 303, 400, 404, 409), name
    if MATRIX[name][0] == CONSOLE_POST:
        assert client.get(url).status_code == 405, name


@pytest.mark.parametrize(
    ("name", "url"), _urls(CONSOLE) + _urls(CONSOLE_POST) + _urls(CONSOLE_ACTION)
)
def test_an_anonymous_htmx_request_is_told_where_to_log_in(client, name: str, url: str) -> None:
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("operators:login"))


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE))
def test_a_deactivated_operator_loses_the_console(client, name: str, url: str) -> None:
    operator = OperatorFactory()
    client.force_login(operator)
    operator.is_active = False
    operator.save()
    assert client.get(url).status_code in (302, 403)


# --- public and signed-in URLs -------------------------------------------------------


@pytest.mark.parametrize(("name", "url"), _urls(PUBLIC))
def test_public_urls_answer_without_login(client, oidc_provider, name: str, url: str) -> None:
    # Authentik mode, where the sign-in URLs through the provider exist.
    assert client.get(url).status_code in (200, 302), name


@pytest.mark.parametrize(("name", "url"), _urls(SIGNED_IN))
def test_signed_in_urls_refuse_anonymous_callers(
    client, oidc_provider, name: str, url: str
) -> None:
    assert client.get(url).status_code in (401, 403), name
    for kind, headers in _services(oidc_provider, ("flags:read",)).items():
        assert client.get(url, **headers).status_code == 200, (name, kind)
    client.force_login(UserFactory())
    assert client.get(url).status_code == 200, name
    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200, name


def test_an_unknown_page_gets_the_404_page(operator_client) -> None:
    response = operator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'data-testid="not-found"' in response.text


# --- the API ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "url"), _api_urls())
@pytest.mark.parametrize("method", METHODS)
def test_api_urls_answer_401_without_credentials(client, name: str, url: str, method) -> None:
    response = _call(client, method, url)
    assert response.status_code == 401, (name, method, response.status_code)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("name", "url"), _api_urls())
@pytest.mark.parametrize("method", METHODS)
def test_api_urls_answer_403_to_signed_in_non_operators(
    client, name: str, url: str, method
) -> None:
    client.force_login(UserFactory())
    status = _call(client, method, url).status_code
    if MATRIX[name][0] == MEMBER_API and method == "get":
        # Answered (their own tenants, or a 404 for a slug they are not a member of).
        assert status in (200, 404), (name, method, status)
    else:
        assert status == 403, (name, method, status)


@pytest.mark.parametrize(("name", "url"), _api_urls())
@pytest.mark.parametrize("method", METHODS)
def test_api_urls_let_operators_through(client, name: str, url: str, method) -> None:
    client.force_login(OperatorFactory())
    status = _call(client, method, url).status_code
    assert status not in (401, 403), (name, method, status)


@pytest.mark.parametrize(("name", "url"), _api_urls())
@pytest.mark.parametrize("method", METHODS)
def test_api_urls_let_services_through_only_with_the_right_scope(
    client, oidc_provider, name: str, url: str, method
) -> None:
    needed = service_scopes(name).get(method.upper())
    if needed:
        for kind, headers in _services(oidc_provider, (needed,)).items():
            status = _call(client, method, url, **headers).status_code
            assert status not in (401, 403), (name, method, kind, status)
    # Every other scope (all of them, when the method is for operators only) is a 403.
    others = tuple(s for s in ALL_SCOPES if s != needed)
    for kind, headers in _services(oidc_provider, others).items():
        status = _call(client, method, url, **headers).status_code
        assert status == 403, (name, method, kind, status)
