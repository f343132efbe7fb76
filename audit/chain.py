"""The hash chain over audit events: each event's hash covers its content and the
hash of the event before it, so an edit, a removal or a reordering anywhere breaks
every hash after it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(*, prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(
        {"prev": prev_hash, **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hashed_fields(event: Any) -> dict[str, Any]:
    """The content of an event that its hash covers (everything but the hashes and id)."""
    return {
        "at": event.at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "actor_ip": event.actor_ip,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "tenant_id": event.tenant_id,
        "metadata": event.metadata,
    }


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable in audit metadata")


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify(events: Any) -> tuple[int, ChainBreak | None]:
    """Walk events in insertion order; return how many were checked and the first break."""
    prev = GENESIS
    checked = 0
    for event in events:
        if event.prev_hash != prev:
            return checked, ChainBreak(event.id, "does not follow the event before it")
        if event.hash != event_hash(prev_hash=prev, fields=hashed_fields(event)):
            return checked, ChainBreak(event.id, "its content does not match its hash")
        prev = event.hash
        checked += 1
    return checked, None
