"""On PostgreSQL the database itself refuses to rewrite audit history."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit import services as audit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQL-level guard exists on PostgreSQL only"
    ),
]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'tenant.resumed' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_an_event(sql: str) -> None:
    event = audit.record(action="tenant.suspended")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
