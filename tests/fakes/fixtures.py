"""Fixtures that point the console at the fakes of its upstreams, served over HTTP on
127.0.0.1 (registered for the whole suite in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.authentik import FakeAuthentik
from tests.fakes.ocis import FakeOcis
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart


@pytest.fixture
def fake_authentik(settings: Any) -> Iterator[FakeAuthentik]:
    """Authentik mode, against the fake; fails the test if the directory sent a body
    the real API would reject."""
    with FakeServer(FakeAuthentik()) as fake:
        settings.AUTHENTIK_URL = fake.url
        settings.AUTHENTIK_TOKEN = fake.token
        settings.OIDC_RP_CLIENT_ID = "dezky-console"
        settings.OIDC_ISSUER = f"{fake.url}/application/o/dezky-console/"
        settings.IDENTITY_MODE = "authentik"
        settings.AUTHENTIK_TIMEOUT_SECONDS = 0.5
        fake.timeout_seconds = 1.0
        yield fake
        assert fake.contract_violations == []


@pytest.fixture
def fake_stalwart(settings: Any) -> Iterator[FakeStalwart]:
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL = fake.url
        settings.STALWART_TOKEN = fake.token
        settings.PROVISIONING_TIMEOUT_SECONDS = 0.5
        fake.timeout_seconds = 1.0
        yield fake


@pytest.fixture
def fake_ocis(settings: Any) -> Iterator[FakeOcis]:
    with FakeServer(FakeOcis()) as fake:
        settings.OCIS_URL = fake.url
        settings.OCIS_TOKEN = fake.token
        settings.PROVISIONING_TIMEOUT_SECONDS = 0.5
        fake.timeout_seconds = 1.0
        yield fake
