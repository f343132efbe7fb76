from __future__ import annotations

from typing import Any

from django.db import connection


def tamper(sql: str, params: list[Any]) -> None:
    """Change audit rows behind the ORM's back, as someone with database access could.

    On PostgreSQL the append-only trigger is switched off first (only the table
    owner can), inside the test's transaction, so it comes back on at rollback.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
