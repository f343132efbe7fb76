from __future__ import annotations

import pytest

from console.environment import environment_for_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", "dev"),
        ("localhost:8000", "dev"),
        ("operator.dezky.local", "dev"),
        ("operator.dezky.local:3000", "dev"),
        ("OPERATOR.DEZKY.LOCAL", "dev"),
        ("127.0.0.1:8000", "dev"),
        ("[::1]:8000", "dev"),
        ("console.staging.dezky.example", "staging"),
        ("staging-console.dezky.example:443", "staging"),
        ("console.dezky.example", "prod"),
        ("local.dezky.example", "prod"),
        ("10.0.0.5", "prod"),
        ("localhost.attacker.example", "prod"),
        ("", "prod"),
    ],
)
def test_environment_comes_from_the_host(host: str, expected: str) -> None:
    assert environment_for_host(host) == expected


@pytest.mark.django_db
def test_the_badge_shows_the_hosts_environment(operator_client, settings) -> None:
    settings.ALLOWED_HOSTS = ["console.staging.dezky.example", "console.dezky.example"]
    staging = operator_client.get("/", HTTP_HOST="console.staging.dezky.example")
    prod = operator_client.get("/", HTTP_HOST="console.dezky.example")
    assert 'data-env="staging"' in staging.text
    assert 'data-env="prod"' in prod.text
    assert 'data-env="staging"' not in prod.text
