from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dezky.url_matrix import (
    API,
    CONSOLE,
    CONSOLE_POST,
    MATRIX,
    PUBLIC,
    SIGNED_IN,
    named_patterns,
)
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_url_of_the_project_is_in_the_access_matrix() -> None:
    names = set(named_patterns())
    assert names - MATRIX.keys() == set(), "new URLs: add them to tests/dezky/url_matrix.py"
    assert MATRIX.keys() - names == set(), "the matrix lists URLs that no longer exist"


def _urls(kind: str) -> list[tuple[str, str]]:
    return [(n, reverse(n, kwargs=kw)) for n, (who, kw) in sorted(MATRIX.items()) if who == kind]


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE))
def test_console_pages_are_for_operators_only(client, name: str, url: str) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 302, name
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")

    client.force_login(UserFactory())
    assert client.get(url).status_code == 403, name

    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200, name


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE_POST))
def test_console_writes_are_for_operators_only(client, name: str, url: str) -> None:
    anonymous = client.post(url)
    assert anonymous.status_code == 302, name
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")

    client.force_login(UserFactory())
    assert client.post(url).status_code == 403, name

    client.force_login(OperatorFactory())
    # An empty form is refused by the view, never by the access rule, and never as a 500.
    assert client.post(url).status_code in (200, 302, 400, 404, 409), name
    assert client.get(url).status_code == 405, name


@pytest.mark.parametrize(("name", "url"), _urls(CONSOLE) + _urls(CONSOLE_POST))
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


@pytest.mark.parametrize(("name", "url"), _urls(PUBLIC))
def test_public_urls_answer_without_login(client, name: str, url: str) -> None:
    assert client.get(url).status_code in (200, 302), name


@pytest.mark.parametrize(("name", "url"), _urls(SIGNED_IN))
def test_signed_in_urls_refuse_anonymous_callers(client, name: str, url: str) -> None:
    assert client.get(url).status_code in (401, 403), name
    client.force_login(UserFactory())
    assert client.get(url).status_code == 200, name


def test_an_unknown_page_gets_the_404_page(operator_client) -> None:
    response = operator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'data-testid="not-found"' in response.text


@pytest.mark.parametrize(("name", "url"), _urls(API))
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_api_urls_answer_401_without_credentials(client, name: str, url: str, method) -> None:
    response = getattr(client, method)(url, {}, content_type="application/json")
    assert response.status_code in (401, 405), (name, method, response.status_code)
    if response.status_code == 401:
        assert response.has_header("WWW-Authenticate")
