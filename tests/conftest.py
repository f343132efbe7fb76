from __future__ import annotations

from typing import Any

import pytest
from django.db.backends.signals import connection_created

pytest_plugins = ["tests.fakes.fixtures"]


def _allow_audit_truncate(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The suite resets its throwaway database with TRUNCATE between transactional
    # tests; audit's PostgreSQL trigger allows that only in a maintenance session.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET dezky.audit_maintenance = 'on'")


connection_created.connect(_allow_audit_truncate)


@pytest.fixture
def operator(db: Any) -> Any:
    from tests.operators.factories import OperatorFactory

    return OperatorFactory()


@pytest.fixture
def operator_client(client: Any, operator: Any) -> Any:
    client.force_login(operator)
    return client


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    """Each test starts with empty caches and no flag snapshot: the database is rolled
    back between tests, and a snapshot of another test's rows would be a lie."""
    from django.core.cache import caches

    from flags import snapshot
    from operators import tokens
    from operators.oidc import provider

    for alias in ("default", "coordination"):
        caches[alias].clear()
    snapshot.reset_for_tests()
    tokens.reset_for_tests()
    provider.reset_for_tests()
    yield


@pytest.fixture
def oidc_provider(settings: Any) -> Any:
    """Authentik mode against a fake OpenID provider on 127.0.0.1 (tests/fakes/oidc.py)."""
    from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider
    from tests.fakes.server import FakeServer

    with FakeServer(FakeOidcProvider()) as fake:
        settings.IDENTITY_MODE = "authentik"
        settings.AUTHENTIK_URL = "http://127.0.0.1:9"  # the directory is not asked here
        settings.AUTHENTIK_TOKEN = "sample-directory-token"
        settings.OIDC_ISSUER = fake.issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_SERVICE_AUDIENCE = CLIENT_ID
        settings.OIDC_SERVICE_SUBJECTS = ["sample-service-account"]
        settings.OIDC_TIMEOUT = 2.0
        yield fake
