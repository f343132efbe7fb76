"""Audit events for the notification tests, written the only way events are written."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from audit.models import AuditEvent


def record(
    action: str, *, actor: Any = None, metadata: dict | None = None, **target: Any
) -> AuditEvent:
    """One audit event by `actor` (None: the system); `target` as record() takes it."""
    target.setdefault("target_type", "tenant")
    target.setdefault("target_id", "1")
    target.setdefault("target_repr", "Sample Tenant (sample)")
    with transaction.atomic():
        return audit.record(action=action, actor=actor, metadata=metadata or {}, **target)


def failed_reconcile() -> dict[str, Any]:
    return {
        "outcomes": {
            "authentik": {"state": "ready", "error": ""},
            "stalwart": {"state": "error", "error": "mailbox quota refused"},
        }
    }


def good_reconcile() -> dict[str, Any]:
    return {"outcomes": {"authentik": {"state": "ready", "error": ""}}}
