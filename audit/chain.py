"""The hash chain over audit events: each event's hash covers its content and the
hash of the event before it, so an edit, a removal or a reordering anywhere breaks
every hash after it.

The hash is an HMAC-SHA256 under the chain key (audit.keys), which lives in the
deployment's environment and never in the database: whoever can rewrite rows but
does not hold the key cannot re-hash the rows after an edit. Events written before
the chain was keyed carry an empty `key_id` and a plain SHA-256; they may only come
before the first keyed event (a downgrade later in the chain is a break).

Pure functions: no Django, so the bench and the tests can build chains directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def key_fingerprint(key: bytes) -> str:
    """A short public name for a key, stored on each event so a rotated key is found."""
    return hmac.new(key, b"dezky.audit.key-id", hashlib.sha256).hexdigest()[:12]


def canonical(prev_hash: str, fields: dict[str, Any]) -> bytes:
    return json.dumps(
        {"prev": prev_hash, **fields},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    ).encode("utf-8")


def event_hash(*, prev_hash: str, fields: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 under `key`; a plain SHA-256 only for events from before keying."""
    payload = canonical(prev_hash, fields)
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


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


@dataclass(frozen=True)
class Anchor:
    """A point the walk must pass through unchanged: the last signed checkpoint."""

    count: int
    head_id: int
    head_hash: str
    keyed_from: int | None


@dataclass
class WalkResult:
    checked: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    keyed_from: int | None = None
    broken: ChainBreak | None = None


def walk(
    events: Iterable[Any],
    *,
    keys: Callable[[str], bytes | None],
    start_hash: str = GENESIS,
    start_count: int = 0,
    keyed_from: int | None = None,
    anchor: Anchor | None = None,
) -> WalkResult:
    """Walk events in id order from `start_hash`; stop at the first break.

    `keys(key_id)` returns the key an event names, or None when no configured key
    has that name. `anchor` is checked on the way: its head must be reached with
    exactly its hash at exactly its count, and nothing keyed may turn unkeyed.
    """
    result = WalkResult(checked=start_count, head_hash=start_hash, keyed_from=keyed_from)
    prev = start_hash
    anchor_id = anchor.head_id if anchor is not None else None
    anchored = anchor is None
    for event in events:
        if not anchored and anchor_id is not None and event.id > anchor_id:
            result.broken = ChainBreak(
                event.id, f"the event the last checkpoint ended at (#{anchor_id}) is gone"
            )
            return result
        if event.prev_hash != prev:
            result.broken = ChainBreak(event.id, "it does not follow the event before it")
            return result
        if event.key_id:
            key = keys(event.key_id)
            if key is None:
                result.broken = ChainBreak(
                    event.id,
                    f"it is signed with key {event.key_id}, which is not configured "
                    "(AUDIT_CHAIN_KEY / AUDIT_CHAIN_PREVIOUS_KEYS)",
                )
                return result
            if result.keyed_from is None:
                result.keyed_from = event.id
        else:
            key = None
            if result.keyed_from is not None:
                result.broken = ChainBreak(event.id, "it is unkeyed after the chain was keyed")
                return result
        expected = event_hash(prev_hash=prev, fields=hashed_fields(event), key=key)
        if not hmac.compare_digest(event.hash, expected):
            result.broken = ChainBreak(event.id, "its content does not match its hash")
            return result
        prev = event.hash
        result.checked += 1
        result.head_id, result.head_hash = event.id, event.hash
        if anchor is not None and event.id == anchor.head_id:
            problem = _anchor_problem(result, anchor)
            if problem:
                result.broken = ChainBreak(event.id, problem)
                return result
            anchored = True
    if anchor is not None and not anchored:
        result.broken = ChainBreak(
            anchor.head_id,
            f"the chain ends before the last checkpoint ({anchor.count} events, "
            f"head #{anchor.head_id}): events were removed",
        )
    return result


def _anchor_problem(result: WalkResult, anchor: Anchor) -> str:
    if result.head_hash != anchor.head_hash:
        return "its hash differs from the one the last checkpoint recorded: history was rewritten"
    if result.checked != anchor.count:
        return (
            f"the last checkpoint counted {anchor.count} events up to it, the chain has "
            f"{result.checked}: events were removed or inserted"
        )
    if anchor.keyed_from is not None and result.keyed_from != anchor.keyed_from:
        return "the chain was keyed from another event than the checkpoint recorded"
    return ""


def verify(events: Any, *, keys: Callable[[str], bytes | None]) -> tuple[int, ChainBreak | None]:
    """Walk events in insertion order; return how many were checked and the first break."""
    result = walk(events, keys=keys)
    return result.checked, result.broken
