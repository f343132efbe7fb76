"""Audit events for read tests, written the one way events are written (record()).

Their target type is "sample" by default, so a test can leave out the events the
migrations wrote (the seeded flags' flag.created)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from audit.models import AuditEvent
from audit.selectors import AuditFilters

SAMPLE = AuditFilters(target_type="sample")


def event(action: str = "tenant.updated", **fields: Any) -> AuditEvent:
    fields.setdefault("target_type", "sample")
    fields.setdefault("target_id", "1")
    fields.setdefault("target_repr", "Sample Tenant")
    with transaction.atomic():
        return audit.record(action=action, **fields)


def events(n: int, action: str = "tenant.updated", **fields: Any) -> list[AuditEvent]:
    return [event(action, **fields) for _ in range(n)]
