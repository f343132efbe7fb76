from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.authentik import FakeAuthentik
from tests.fakes.ocis import FakeOcis
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart


@pytest.fixture
def fake_authentik(settings: Any) -> Any:
    """Authentik identity mode against the fake; fails on a body the real API rejects."""
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
def fake_stalwart(settings: Any) -> Any:
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL = fake.url
        settings.STALWART_TOKEN = fake.token
        settings.PROVISIONING_TIMEOUT_SECONDS = 0.5
        fake.timeout_seconds = 1.0
        yield fake


@pytest.fixture
def fake_ocis(settings: Any) -> Any:
    with FakeServer(FakeOcis()) as fake:
        settings.OCIS_URL = fake.url
        settings.OCIS_TOKEN = fake.token
        settings.PROVISIONING_TIMEOUT_SECONDS = 0.5
        fake.timeout_seconds = 1.0
        yield fake


@pytest.fixture
def fakes(fake_authentik: Any, fake_stalwart: Any, fake_ocis: Any) -> Any:
    class Upstreams:
        authentik = fake_authentik
        stalwart = fake_stalwart
        ocis = fake_ocis

    return Upstreams
