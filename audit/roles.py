"""Two PostgreSQL roles: the one that migrates owns the tables; the one that serves
requests is granted what it needs and, on the audit table, only SELECT and INSERT.

Only a table's owner (or a superuser) can disable its triggers, and TRUNCATE,
UPDATE and DELETE need privileges the serving role is never given, so a serving
process (or an injection into it) can append to the log but not rewrite it. The
owner still can; what catches that is the keyed chain and its checkpoints.
"""

from __future__ import annotations

from django.db import connections
from psycopg import sql

from audit.models import AuditEvent

AUDIT_TABLE = AuditEvent._meta.db_table


def grant_serving_role(role: str, *, using: str = "default") -> list[str]:
    """Grant `role` the serving privileges on every table and sequence of the current
    schema, then take UPDATE, DELETE and TRUNCATE on the audit table back. Idempotent;
    run after every migrate (new tables need their grants). Returns the statements."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise ValueError("a separate serving role exists on PostgreSQL only")
    name = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), name
        ),
    ]
    done = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise ValueError(f"there is no PostgreSQL role {role!r}; create it first")
        cursor.execute(
            "SELECT rolsuper OR pg_has_role(%s, tableowner::regrole::oid, 'USAGE') "
            "FROM pg_roles, pg_tables WHERE rolname = %s AND tablename = %s",
            [role, role, AUDIT_TABLE],
        )
        row = cursor.fetchone()
        if row and row[0]:
            raise ValueError(
                f"{role!r} is a superuser or owns the audit table: it could disable the "
                "triggers. Serve with a role that is neither."
            )
        for statement in statements:
            cursor.execute(statement)
            done.append(statement.as_string(cursor.connection))
    return done
