"""Indexes for the audit page's filters, each ending in the id so that a filtered
page ("the 50 newest events of this action, below id N") is a short backward scan of
one index, whatever the size of the log.

Raw SQL, not Meta.indexes: the model (audit/models.py) is the chain's, and these
only serve reads; `IF NOT EXISTS` keeps a rerun harmless. Same SQL on SQLite and
PostgreSQL.
"""

from django.db import migrations

INDEXES = {
    "audit_event_action_id": "(action, id)",
    "audit_event_actor_id": "(actor_email, id)",
    "audit_event_tenant_id_id": "(tenant_id, id)",
    "audit_event_target_id": "(target_type, target_id, id)",
}


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_no_maintenance_switch")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON audit_auditevent {columns}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
