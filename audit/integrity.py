"""Verifying the chain and checkpointing it: the command, the audit page's "Verify
now" and the scheduled checkpoint all come here.

What a pass means: every event's hash is the chain key's HMAC of its content and
its predecessor's hash, and the chain passes through the last signed checkpoint
with the same head hash at the same count. What it does not cover: events
appended since the last checkpoint could have been removed from the end by the
table's owner without a trace (the serving role cannot: see audit.roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import checkpoints, keys
from audit import services as audit
from audit.chain import GENESIS, Anchor, ChainBreak, WalkResult, walk
from audit.models import AuditEvent, ChainVerification

CHUNK = 5000
KEEP_VERIFICATIONS = timedelta(days=90)
# The page's "Verify now" answers within a request: above this many events it walks
# only what came after the last checkpoint (the full walk is the command's job).
FULL_WALK_LIMIT = 50_000

_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "actor_ip",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "tenant_id",
    "metadata",
    "prev_hash",
    "hash",
    "key_id",
)


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    checked: int
    message: str
    broken_event_id: int | None = None
    full: bool = True


class _Row:
    __slots__ = _COLUMNS

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(_COLUMNS, values, strict=True):
            setattr(self, name, value)


def _events(after_id: int = 0) -> Any:
    # Plain tuples, not model instances: a million-event walk spends its time hashing.
    rows = (
        AuditEvent.objects.filter(id__gt=after_id)
        .order_by("id")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=CHUNK)
    )
    return (_Row(row) for row in rows)


def verify_chain(
    *, actor: Any = None, ip: str | None = None, full: bool | None = None
) -> VerifyOutcome:
    """Walk the chain (all of it, or since the last checkpoint), hold it to the last
    checkpoint, remember the outcome, and on success write a new checkpoint."""
    try:
        checkpoint = checkpoints.last()
    except checkpoints.CheckpointError as exc:
        return _conclude(actor, ip, VerifyOutcome(False, 0, f"Checkpoint problem: {exc}."), None)
    anchor = checkpoint.anchor() if checkpoint else None
    first_hash = AuditEvent.objects.order_by("id").values_list("hash", flat=True).first() or ""
    if checkpoint and checkpoint.first_hash and first_hash not in ("", checkpoint.first_hash):
        message = (
            "The chain's first event is not the one the last checkpoint recorded: history "
            "was rewritten from the start, or this is another database (if so, move the "
            f"checkpoint file aside: {', '.join(checkpoints.describe_sinks())})."
        )
        return _conclude(actor, ip, VerifyOutcome(False, 0, message), checkpoint)
    if full is None:
        full = anchor is None or AuditEvent.objects.count() <= FULL_WALK_LIMIT

    if full or anchor is None:
        result = walk(_events(), keys=keys.key_for, anchor=anchor)
        full = True
    else:
        result = _walk_since(anchor)

    if result.broken is not None:
        message = f"Broken at event #{result.broken.event_id}: {result.broken.reason}."
        outcome = VerifyOutcome(False, result.checked, message, result.broken.event_id, full)
        return _conclude(actor, ip, outcome, checkpoint)

    try:
        checkpoints.write(
            checkpoints.make(
                count=result.checked,
                head_id=result.head_id,
                head_hash=result.head_hash,
                keyed_from=result.keyed_from,
                first_hash=first_hash,
            )
        )
    except checkpoints.CheckpointError as exc:
        outcome = VerifyOutcome(
            False, result.checked, f"The chain is intact, but {exc}.", None, full
        )
        return _conclude(actor, ip, outcome, checkpoint)
    scope = "" if full else " since the last checkpoint"
    anchored = (
        f"; it matches the last checkpoint ({checkpoint.count} events)"
        if checkpoint and checkpoint.head_id
        else "; there was no checkpoint yet, this run wrote the first"
    )
    message = f"Intact: {result.checked} events{scope}{anchored}."
    return _conclude(
        actor, ip, VerifyOutcome(True, result.checked, message, None, full), checkpoint
    )


def _walk_since(anchor: Anchor) -> WalkResult:
    """Check the anchor in place (same hash, same count up to it), then walk what follows."""
    head = AuditEvent.objects.filter(id=anchor.head_id).values_list("hash", flat=True).first()
    if head is None:
        return _broken(
            anchor, f"the event the last checkpoint ended at (#{anchor.head_id}) is gone"
        )
    if head != anchor.head_hash:
        return _broken(anchor, "its hash differs from the one the last checkpoint recorded")
    count = AuditEvent.objects.filter(id__lte=anchor.head_id).count()
    if count != anchor.count:
        return _broken(
            anchor,
            f"the last checkpoint counted {anchor.count} events up to it, the chain has {count}",
        )
    return walk(
        _events(anchor.head_id),
        keys=keys.key_for,
        start_hash=anchor.head_hash,
        start_count=anchor.count,
        keyed_from=anchor.keyed_from,
    )


def _broken(anchor: Anchor, reason: str) -> WalkResult:
    return WalkResult(checked=0, head_hash=GENESIS, broken=ChainBreak(anchor.head_id, reason))


def checkpoint_now() -> VerifyOutcome:
    """What the timer runs: verify what came since the last checkpoint, then sign a new one."""
    return verify_chain(actor=None, full=False)


@transaction.atomic
def _conclude(
    actor: Any, ip: str | None, outcome: VerifyOutcome, checkpoint: checkpoints.Checkpoint | None
) -> VerifyOutcome:
    user = actor if getattr(actor, "is_authenticated", False) else None
    previous = last_verification()
    ChainVerification.objects.filter(at__lt=timezone.now() - KEEP_VERIFICATIONS).delete()
    ChainVerification.objects.create(
        actor=user,
        actor_email=user.email if user else "",
        ok=outcome.ok,
        checked=outcome.checked,
        message=outcome.message,
        broken_event_id=outcome.broken_event_id,
        checkpoint_count=checkpoint.count if checkpoint else None,
    )
    # A failure goes into the log (it notifies operators) when a person asked or when
    # it is news; a success only when a person asked. The scheduled checkpoint runs
    # every few minutes and must not add an event each time.
    if not outcome.ok and (user is not None or previous is None or previous.ok):
        audit.record(
            action="audit.chain_broken",
            actor=user,
            ip=ip,
            target_type="audit_chain",
            target_repr="audit chain",
            metadata={"reason": outcome.message[:500], "event": outcome.broken_event_id},
        )
    elif user is not None:
        audit.record(
            action="audit.chain_verified",
            actor=user,
            ip=ip,
            target_type="audit_chain",
            target_repr="audit chain",
            metadata={"checked": outcome.checked, "full": outcome.full},
        )
    return outcome


def last_verification() -> ChainVerification | None:
    return ChainVerification.objects.order_by("-at", "-id").first()


def chain_position(event: AuditEvent) -> int:
    """The event's 1-based place in the chain."""
    return AuditEvent.objects.filter(id__lte=event.id).count()
