"""The Content-Security-Policy the console works under, and CSRF on htmx requests."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style|\sstyle\s*=", re.I)


def _policy(response) -> dict[str, str]:
    parts = [p.strip() for p in response["Content-Security-Policy"].split(";") if p.strip()]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


def test_pages_carry_a_policy_without_inline_script_or_style(client) -> None:
    policy = _policy(client.get(reverse("operators:login")))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response_text(policy)


def response_text(policy: dict[str, str]) -> str:
    return " ".join(policy.values())


@pytest.mark.parametrize("who", ["anonymous", "member", "operator"])
def test_no_page_has_inline_script_handlers_or_styles(client, who: str) -> None:
    if who != "anonymous":
        client.force_login(OperatorFactory() if who == "operator" else UserFactory())
    for url in ("/", "/flags/", reverse("operators:login"), reverse("operators:logout"), "/nope/"):
        html = client.get(url, follow=True).text
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert not INLINE_STYLE.search(html), url


def test_the_server_error_page_alone_may_use_its_inline_styles(rf) -> None:
    from console.views.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert not INLINE_SCRIPT.search(response.content.decode())
    assert "'unsafe-inline'" in response.headers.get("Content-Security-Policy", "'unsafe-inline'")


def test_an_htmx_post_needs_the_csrf_header() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(OperatorFactory())
    page = client.get("/")
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.text).group(1)
    refused = client.post(reverse("operators:logout"), HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    accepted = client.post(
        reverse("operators:logout"), HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 302


def test_the_csrf_cookie_is_not_readable_by_scripts(client, settings) -> None:
    assert settings.CSRF_COOKIE_HTTPONLY is True
    response = client.get(reverse("operators:login"))
    assert response.cookies["csrftoken"]["httponly"]
