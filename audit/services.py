"""`record()`: the one way anything on the platform writes an audit event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit import actions, keys
from audit.chain import GENESIS, event_hash, hashed_fields
from audit.models import AuditEvent

# Metadata keys that would put a credential into a permanent, widely readable log.
_FORBIDDEN_METADATA = ("password", "secret", "token")

# TRICKY: PostgreSQL lets two transactions read the same chain head at once; a
# transaction-scoped advisory lock makes appends take turns. (SQLite is opened
# with IMMEDIATE transactions, which serialise writers already.)
_CHAIN_LOCK_ID = 0x64657A6B79  # "dezky"

_acting_for: ContextVar[dict[str, Any] | None] = ContextVar("audit_acting_for", default=None)


@contextmanager
def acting_for(email: str, **context: Any) -> Iterator[None]:
    """Inside this block, events the system records (actor None) say for whom it
    acts (`on_behalf_of`) and why (`context`, e.g. the schedule), so a change a
    timer wrote reads as the system acting for the operator who asked for it."""
    token = _acting_for.set({"on_behalf_of": email, **context})
    try:
        yield
    finally:
        _acting_for.reset(token)


def record(
    *,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    tenant: Any = None,
    metadata: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append an event inside the caller's transaction, so it commits or rolls back with it.

    `actor=None` is the system. `target` fills type/id/readable name from a model
    instance; they can also be given directly (e.g. for something just deleted).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the write it audits")
    if not actions.is_known(action):
        raise ValueError(f"unknown audit action {action!r}: name it in audit.actions first")
    metadata = dict(metadata or {})
    acting = _acting_for.get()
    if acting is not None and not getattr(actor, "is_authenticated", False):
        metadata = {**acting, **metadata}
    _refuse_secrets(metadata)
    if target is not None:
        # model_name is only None before the model class is prepared; it is the lowered
        # class name, which is what the fallback gives.
        target_type = target_type or target._meta.model_name or type(target).__name__.lower()
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None

    event = AuditEvent(
        actor=actor_obj,
        actor_email=actor_obj.email if actor_obj else "",
        actor_ip=ip or None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_repr=target_repr[:300],
        tenant=tenant,
        metadata=metadata,
    )
    event.full_clean(exclude=["prev_hash", "hash", "actor", "tenant"])
    _lock_chain()
    # Stamped once the chain is ours: appends take turns, so time follows id order
    # (the audit page's time filter narrows by id on that promise).
    event.at = timezone.now()
    event.prev_hash = (
        AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    )
    event.key_id = keys.signing_key_id()
    event.hash = event_hash(
        prev_hash=event.prev_hash, fields=hashed_fields(event), key=keys.signing_key()
    )
    event.save()
    return event


def _refuse_secrets(metadata: dict[str, Any]) -> None:
    for key in metadata:
        lowered = key.lower()
        if any(word in lowered for word in _FORBIDDEN_METADATA):
            raise ValueError(f"audit metadata must not carry credentials ({key!r})")


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
