"""Writes about flags. Each appends to the flag's history (the newest HISTORY_KEPT
are kept) and records an audit event in one transaction, so the audit log keeps
every change after the history has rolled past it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from core import versions
from core.changes import field_changes
from core.errors import Conflict, NotFound
from flags import policy
from flags.models import (
    HISTORY_KEPT,
    RESERVED_FLAG_KEYS,
    SCOPE_AXES,
    Flag,
    FlagChange,
    FlagState,
    RetiredFlagKey,
)
from operators.models import User

FLAG_EDITABLE_FIELDS = ("description", "state", "pct", *(f"scope_{a}" for a in SCOPE_AXES))


@transaction.atomic
def flag_create(
    *,
    key: str,
    description: str = "",
    state: str = FlagState.OFF,
    pct: int = 0,
    actor: User | None,
    ip: str | None = None,
    source: str = "",
    **scope: list[str],
) -> Flag:
    _refuse_unknown(scope, tuple(f"scope_{a}" for a in SCOPE_AXES))
    if key in RESERVED_FLAG_KEYS:
        raise Conflict(
            f"The key {key} is reserved: /api/flags/{key}/ is an endpoint of its own.",
            field="key",
        )
    if Flag.objects.filter(key=key).exists():
        raise Conflict(f"A flag with the key {key} already exists.", field="key")
    if RetiredFlagKey.objects.filter(key=key).exists():
        raise Conflict(
            f"The key {key} belonged to a deleted flag and is never reused; choose another.",
            field="key",
        )
    flag = Flag(key=key, description=description, state=state, pct=pct, **scope)
    flag.full_clean()
    if flag.state != FlagState.OFF:
        # A new flag that is on where approvals are asked for would skip them.
        needs = policy.requirement(policy.touched_environments(flag.scope_environments))
        if needs.needed:
            raise policy.ApprovalRequired(
                needs,
                f"A new flag that is on there needs approval ({needs.reason}): create it "
                "off, then propose turning it on.",
            )
    flag.save()
    snapshot = _editable_snapshot(flag)
    _append_history(flag, actor, {f: {"before": None, "after": v} for f, v in snapshot.items()})
    metadata: dict[str, Any] = {"after": snapshot}
    if source:
        metadata["source"] = source
    audit.record(action="flag.created", actor=actor, target=flag, ip=ip, metadata=metadata)
    versions.bump("flags")
    return flag


@transaction.atomic
def flag_update(
    *,
    key: str,
    actor: User | None,
    ip: str | None = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Flag:
    """Change a flag. With `expected_version`, a flag changed since then is a Conflict
    carrying the current flag, never a silent overwrite."""
    _refuse_unknown(changes, FLAG_EDITABLE_FIELDS)
    flag = _locked(key)
    check_version(flag, expected_version)
    diff = field_changes(_editable_snapshot(flag), changes)
    if not diff:
        return flag
    validate_change(flag, diff)
    # TRICKY: this check is what makes approvals impossible to bypass: every writer
    # (panel, API, admin, scripts) ends here, and only an applied change request
    # (write_approved_change) skips it.
    needs = policy.requirement_for_change(flag, diff)
    if needs.needed:
        raise policy.ApprovalRequired(needs)
    return _write(flag, diff, actor=actor, ip=ip)


def write_approved_change(
    *, flag: Flag, diff: dict[str, Any], actor: User | None, ip: str | None, change_request: int
) -> Flag:
    """Write an approved change request's diff on `flag`, which the caller has locked
    and checked is still at the request's base version. Only
    flags.change_requests.change_request_apply calls this."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write_approved_change runs inside the apply's transaction")
    return _write(flag, diff, actor=actor, ip=ip, extra={"change_request": change_request})


def validate_change(flag: Flag, diff: dict[str, Any]) -> None:
    """Refuse (ValidationError naming the field) a diff the flag could not take, so a
    change request never holds values that could not be applied."""
    trial = Flag(**{f: getattr(flag, f) for f in ("key", "version", *FLAG_EDITABLE_FIELDS)})
    for field, change in diff.items():
        setattr(trial, field, change["after"])
    trial.full_clean(exclude=["key"], validate_unique=False)


def check_version(flag: Flag, expected: int | None) -> None:
    """A flag changed since the version the caller edited is a Conflict carrying the
    current version, never a silent overwrite."""
    if expected is not None and expected != flag.version:
        raise Conflict(
            f"Flag {flag.key} was changed by someone else (version {flag.version}, "
            f"you edited version {expected}). Reload it and apply your change again.",
            extra={"current_version": flag.version},
        )


def locked(key: str) -> Flag:
    """The flag, its row locked for the rest of the transaction."""
    return _locked(key)


def editable_snapshot(flag: Flag) -> dict[str, Any]:
    return _editable_snapshot(flag)


def _write(
    flag: Flag,
    diff: dict[str, Any],
    *,
    actor: User | None,
    ip: str | None,
    extra: dict[str, Any] | None = None,
) -> Flag:
    kill_switch = policy.is_kill_switch(flag, diff)
    for field, change in diff.items():
        setattr(flag, field, change["after"])
    flag.version += 1
    flag.full_clean()
    flag.save()
    _append_history(flag, actor, diff)
    metadata: dict[str, Any] = {"changes": diff, "version": flag.version, **(extra or {})}
    if kill_switch:
        metadata["kill_switch"] = True  # written without asking for approval
    audit.record(
        action="flag.killed" if _is_kill(flag, diff) else "flag.updated",
        actor=actor,
        target=flag,
        ip=ip,
        metadata=metadata,
    )
    versions.bump("flags")
    return flag


@transaction.atomic
def flag_delete(*, key: str, actor: User | None, ip: str | None = None) -> None:
    flag = _locked(key)
    if flag.state != FlagState.OFF:
        # Deleting a live flag changes what tenants get as much as switching it off
        # and back. Off first (the kill switch never waits), then delete.
        needs = policy.requirement(policy.touched_environments(flag.scope_environments))
        if needs.needed:
            raise policy.ApprovalRequired(
                needs,
                f"Flag {key} is {flag.get_state_display().lower()} where changes need "
                f"approval ({needs.reason}). Turn it off first (the kill switch needs no "
                "approval), then delete it.",
            )
    snapshot = _editable_snapshot(flag)
    flag_id = str(flag.pk)
    flag.delete()
    RetiredFlagKey.objects.create(key=key, retired_by_email=actor.email if actor else "")
    audit.record(
        action="flag.deleted",
        actor=actor,
        target_type="flag",
        target_id=flag_id,
        target_repr=key,
        ip=ip,
        metadata={"before": snapshot},
    )
    versions.bump("flags")


@transaction.atomic
def flag_kill(*, key: str, actor: User | None, ip: str | None = None) -> Flag:
    """The kill switch: off and 0 % in one step, whatever version the caller saw.

    An emergency must not lose a race, so no version is checked.
    """
    return flag_update(key=key, state=FlagState.OFF, pct=0, actor=actor, ip=ip)


def _is_kill(flag: Flag, diff: dict[str, Any]) -> bool:
    """Switching a live flag fully off (off and 0 %) is recorded as a kill."""
    return flag.state == FlagState.OFF and flag.pct == 0 and bool({"state", "pct"} & diff.keys())


def _locked(key: str) -> Flag:
    try:
        return Flag.objects.select_for_update().get(key=key)
    except Flag.DoesNotExist:
        raise NotFound(f"There is no flag with the key {key}.", field="key") from None


def _editable_snapshot(flag: Flag) -> dict[str, Any]:
    return {f: getattr(flag, f) for f in FLAG_EDITABLE_FIELDS}


def _append_history(flag: Flag, actor: User | None, changes: dict[str, Any]) -> None:
    FlagChange.objects.create(
        flag=flag, actor_email=actor.email if actor is not None else "", changes=changes
    )
    stale = list(flag.history.values_list("id", flat=True)[HISTORY_KEPT:])
    if stale:
        FlagChange.objects.filter(id__in=stale).delete()


def _refuse_unknown(changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a flag")


def refuse_unknown_fields(changes: dict[str, Any]) -> None:
    _refuse_unknown(changes, FLAG_EDITABLE_FIELDS)
