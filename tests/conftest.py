from __future__ import annotations

from typing import Any

import pytest
from django.db.backends.signals import connection_created


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

    for alias in ("default", "coordination"):
        caches[alias].clear()
    snapshot.reset_for_tests()
    tokens.reset_for_tests()
    yield
