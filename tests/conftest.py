from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.fakes.fixtures"]

# The audit table's TRUNCATE trigger, which the suite (the table's owner, as a
# migrating role would be) switches off in its throwaway database so that
# transactional tests can be reset; tests/audit/test_roles.py switches it back on.
AUDIT_TRUNCATE_TRIGGER = "audit_event_no_truncate"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE audit_auditevent DISABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}"
                )
    yield


@pytest.fixture(autouse=True)
def _own_checkpoint_file(settings: Any, tmp_path_factory: Any) -> None:
    """Each test holds its chain to its own checkpoint file: the database is rolled
    back between tests, a checkpoint of another test's chain would not match."""
    sink = tmp_path_factory.mktemp("checkpoints") / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_SINKS = [f"file:{sink}"]


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

    from flags import counters, snapshot
    from operators import tokens
    from operators.oidc import provider

    for alias in ("default", "coordination"):
        caches[alias].clear()
    snapshot.reset_for_tests()
    counters.reset_for_tests()
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
