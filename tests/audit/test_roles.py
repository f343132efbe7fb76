"""Two PostgreSQL roles: the migrating role owns the tables, the serving role can
append to the audit log but not truncate, delete, update or disable its triggers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import services as audit
from audit.roles import grant_serving_role

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL roles"),
]


@pytest.fixture
def serving_role() -> Iterator[str]:
    role = f"dezky_serve_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def _connect_as(role: str) -> psycopg.Connection[Any]:
    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        user=role,
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
        autocommit=True,
    )


def _refused(conn: psycopg.Connection[Any], sql: str, params: list[Any] | None = None) -> str:
    with pytest.raises(psycopg.Error) as exc:
        conn.execute(sql, params)
    return str(exc.value)


def test_the_serving_role_can_append_but_never_rewrite(serving_role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_truncate")
    try:
        call_command("grant_serving_role", serving_role)
        from django.db import transaction

        with transaction.atomic():
            event = audit.record(action="tenant.suspended", target_repr="Sample Tenant")

        with _connect_as(serving_role) as conn:
            # What serving needs works: reading, appending, and other tables' writes.
            assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] >= 1
            conn.execute(
                "INSERT INTO audit_auditevent (at, actor_email, action, target_type, target_id,"
                " target_repr, metadata, prev_hash, hash, key_id)"
                " VALUES (now(), '', 'tenant.updated', '', '', '', '{}', %s, %s, '')",
                [event.hash, uuid.uuid4().hex * 2],
            )
            conn.execute("UPDATE tenants_tenant SET name = name WHERE false")

            # What would rewrite history does not.
            assert "permission denied" in _refused(
                conn, "UPDATE audit_auditevent SET actor_email = 'x' WHERE id = %s", [event.pk]
            )
            assert "permission denied" in _refused(
                conn, "DELETE FROM audit_auditevent WHERE id = %s", [event.pk]
            )
            assert "permission denied" in _refused(conn, "TRUNCATE audit_auditevent")
            assert "must be owner" in _refused(
                conn, "ALTER TABLE audit_auditevent DISABLE TRIGGER USER"
            )
            assert "permission denied" in _refused(conn, "SET session_replication_role = replica")
            # The old maintenance switch opens nothing.
            conn.execute("SET dezky.audit_maintenance = 'on'")
            assert "permission denied" in _refused(conn, "TRUNCATE audit_auditevent")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate")


def test_a_role_that_could_disable_triggers_is_refused_as_serving_role() -> None:
    superuser = connection.settings_dict["USER"] or "postgres"
    with pytest.raises(ValueError, match="superuser or owns the audit table"):
        grant_serving_role(superuser)
    with pytest.raises(CommandError, match="no PostgreSQL role"):
        call_command("grant_serving_role", "no_such_role_here")


def test_migrate_grants_the_configured_serving_role(serving_role: str, settings: Any) -> None:
    settings.DATABASE_SERVING_ROLE = serving_role
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, 'audit_auditevent', 'INSERT'),"
            " has_table_privilege(%s, 'audit_auditevent', 'DELETE'),"
            " has_table_privilege(%s, 'tenants_tenant', 'DELETE')",
            [serving_role] * 3,
        )
        assert cursor.fetchone() == (True, False, True)
