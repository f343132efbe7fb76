from __future__ import annotations

import pytest

from tests.fakes.authentik import FakeAuthentik
from tests.fakes.server import FakeServer


@pytest.fixture
def fake_authentik(settings):
    """Authentik mode, against the fake on 127.0.0.1; fails the test if the directory
    sent a body the real API would reject."""
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
