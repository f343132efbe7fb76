"""Every action the platform records, named once, with the sentence a person reads.

`record()` refuses a code that is not here, so a typo never becomes a new kind of
event nobody can filter for. A row whose code was later removed still renders: it
reads as "<actor> did <code> on <target>".

Sentences are written like Django admin's change messages: who did what to what,
in the past tense, with the detail an operator needs to act (which fields changed,
which status it left). `{actor}` and `{target}` are filled in; anything else comes
from the event's metadata through the action's `detail`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


class EventLike(Protocol):
    action: str
    actor_email: str
    target_repr: str
    metadata: Any


Detail = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Action:
    code: str
    kind: str
    sentence: str
    tone: str = "neutral"
    detail: Detail | None = field(default=None, compare=False)


def _changes(metadata: dict[str, Any]) -> str:
    changes = metadata.get("changes")
    if isinstance(changes, dict) and changes:
        names = ", ".join(str(name).replace("_", " ") for name in sorted(changes))
        return f"changed {names}"
    return ""


def _policy(metadata: dict[str, Any]) -> str:
    if "before" in metadata and "after" in metadata:
        return f"{metadata['before']} → {metadata['after']}"
    return ""


def _approvals_dropped(metadata: dict[str, Any]) -> str:
    dropped = metadata.get("approvals_dropped")
    if isinstance(dropped, list) and dropped:
        return f"dropped {len(dropped)} approval{'s' if len(dropped) != 1 else ''}"
    return ""


def _steps(metadata: dict[str, Any]) -> str:
    steps = metadata.get("steps")
    if not isinstance(steps, list) or not steps:
        return ""
    first = steps[0].get("at", "?") if isinstance(steps[0], dict) else "?"
    return f"{len(steps)} step{'s' if len(steps) != 1 else ''}, first at {first}"


def _held(metadata: dict[str, Any]) -> str:
    return str(metadata.get("reason") or "")[:160]


def _previous_status(metadata: dict[str, Any]) -> str:
    previous = metadata.get("previous_status")
    return f"was {previous}" if previous else ""


def _reconciled(metadata: dict[str, Any]) -> str:
    outcomes = metadata.get("outcomes")
    if not isinstance(outcomes, dict) or not outcomes:
        return ""
    failed = sorted(
        name
        for name, outcome in outcomes.items()
        if isinstance(outcome, dict) and outcome.get("state") == "error"
    )
    if failed:
        return "failed for " + ", ".join(failed)
    return "all integrations ready"


def _window(metadata: dict[str, Any]) -> str:
    try:
        minutes = max(1, int(metadata.get("window_seconds") or 60) // 60)
    except (TypeError, ValueError):
        minutes = 1
    return f"{minutes}-minute window"


def _login_failed(metadata: dict[str, Any]) -> str:
    reason = metadata.get("reason")
    if reason == "rate_limited":  # written before refusals were counted
        return "refused by the rate limit"
    attempts = metadata.get("attempts")
    if attempts is not None:
        return f"{reason or 'failed'}; attempt {attempts} in this {_window(metadata)}"
    return str(reason or "")


def _throttled(metadata: dict[str, Any]) -> str:
    attempts = metadata.get("attempts") or 1
    noun = "attempt" if attempts == 1 else "attempts"
    return f"rate limit: {attempts} {noun} refused so far in this {_window(metadata)}"


def _role(metadata: dict[str, Any]) -> str:
    role, previous = metadata.get("role"), metadata.get("previous_role")
    if role and previous:
        return f"{previous} → {role}"
    return f"as {role}" if role else ""


def _handoff(metadata: dict[str, Any]) -> str:
    handoff = metadata.get("handoff")
    return {"link": "a recovery link", "temp-password": "a temporary password"}.get(handoff, "")


def _invite_failed(metadata: dict[str, Any]) -> str:
    error = str(metadata.get("error") or "")
    return error[:160]


def _chain(metadata: dict[str, Any]) -> str:
    checked = metadata.get("checked")
    return f"{checked} events checked" if checked is not None else ""


def _chain_broken(metadata: dict[str, Any]) -> str:
    return str(metadata.get("reason") or "")[:200]


def _exported(metadata: dict[str, Any]) -> str:
    export_format = str(metadata.get("format") or "").upper()
    return f"as {export_format}" if export_format else ""


def _impersonation_reason(metadata: dict[str, Any]) -> str:
    reason = str(metadata.get("reason") or "")[:160]
    return f"reason: {reason}" if reason else ""


def _impersonation_ended(metadata: dict[str, Any]) -> str:
    how = {"exit": "exited", "expired": "time limit reached", "new session": "new sign-in"}
    return how.get(str(metadata.get("ended_reason") or ""), "")


def _impersonation_page(metadata: dict[str, Any]) -> str:
    path = str(metadata.get("path") or "")[:120]
    reason = _impersonation_reason(metadata)
    return "; ".join(part for part in (path, reason) if part)


def _sessions_ended(metadata: dict[str, Any]) -> str:
    count = metadata.get("count")
    if not isinstance(count, int):
        return ""
    return f"{count} session" if count == 1 else f"{count} sessions"


def _severity(metadata: dict[str, Any]) -> str:
    severity = metadata.get("severity")
    return f"severity {severity}" if severity else ""


def _incident_status(metadata: dict[str, Any]) -> str:
    status = metadata.get("status")
    return f"status {status}" if status else ""


_ALL: tuple[Action, ...] = (
    # Tenants
    Action("tenant.created", "Tenants", "{actor} created tenant {target}", "success"),
    Action("tenant.updated", "Tenants", "{actor} edited tenant {target}", detail=_changes),
    Action(
        "tenant.suspended", "Tenants", "{actor} suspended tenant {target}", "warning",
        _previous_status,
    ),
    Action("tenant.resumed", "Tenants", "{actor} resumed tenant {target}", "success"),
    Action(
        "tenant.deleted", "Tenants", "{actor} deleted tenant {target}", "danger", _previous_status
    ),
    Action("tenant.restored", "Tenants", "{actor} restored tenant {target}", "warning"),
    Action(
        "tenant.reconciled", "Tenants", "{actor} reconciled tenant {target}", detail=_reconciled
    ),
    Action("tenant.member_added", "Tenants", "{actor} added {target}", detail=_role),
    Action("tenant.member_invited", "Tenants", "{actor} invited {target}", "success", _role),
    Action(
        "tenant.member_invite_failed", "Tenants", "{actor} could not invite {target}", "danger",
        _invite_failed,
    ),
    Action(
        "tenant.member_role_changed", "Tenants", "{actor} changed the role of {target}",
        detail=_role,
    ),
    Action("tenant.member_removed", "Tenants", "{actor} removed {target}", "warning", _role),
    # Partners
    Action("partner.created", "Partners", "{actor} created partner {target}", "success"),
    Action("partner.updated", "Partners", "{actor} edited partner {target}", detail=_changes),
    # Flags
    Action("flag.created", "Flags", "{actor} created flag {target}", "success"),
    Action("flag.updated", "Flags", "{actor} changed flag {target}", detail=_changes),
    Action("flag.killed", "Flags", "{actor} turned off flag {target} (kill switch)", "danger"),
    Action("flag.deleted", "Flags", "{actor} deleted flag {target}", "danger"),
    Action(
        "flags.approval_policy_changed", "Flags",
        "{actor} changed the approvals flag changes in {target} need", "warning", _policy,
    ),
    Action(
        "flags.change_requested", "Flags", "{actor} asked for approval of {target}",
        detail=_changes,
    ),
    Action(
        "flags.change_request_edited", "Flags", "{actor} edited {target}", "warning",
        _approvals_dropped,
    ),
    Action("flags.change_approved", "Flags", "{actor} approved {target}", "success"),
    Action("flags.change_rejected", "Flags", "{actor} rejected {target}", "danger"),
    Action("flags.change_applied", "Flags", "{actor} applied {target}", "success", _changes),
    Action("flags.change_request_withdrawn", "Flags", "{actor} withdrew {target}"),
    Action("flags.schedule_created", "Flags", "{actor} scheduled {target}", detail=_steps),
    Action("flags.schedule_paused", "Flags", "{actor} paused {target}", "warning"),
    Action("flags.schedule_resumed", "Flags", "{actor} resumed {target}", "success"),
    Action("flags.schedule_cancelled", "Flags", "{actor} cancelled {target}", "danger"),
    Action(
        "flags.schedule_held", "Flags", "{actor} held {target} for a decision", "warning",
        _held,
    ),
    Action("flags.schedule_finished", "Flags", "{actor} finished {target}", "success"),
    # Operators and users
    Action("user.created", "Users", "{actor} created user {target}", "success"),
    Action("user.updated", "Users", "{actor} edited user {target}", detail=_changes),
    Action("user.password_set", "Users", "{actor} set the password of {target}"),
    Action("user.password_changed", "Users", "{actor} changed the password of {target}"),
    Action("user.oidc_linked", "Users", "{actor} linked {target} to their Authentik account"),
    Action("platform.user_invited", "Operators", "{actor} invited operator {target}", "success"),
    Action(
        "platform.user_invite_failed", "Operators", "{actor} could not invite {target}",
        "danger", _invite_failed,
    ),
    Action("platform.invite_discarded", "Operators", "{actor} discarded the invite of {target}"),
    Action(
        "platform.operator_granted", "Operators",
        "{actor} made {target} an operator (manage.py make_operator)", "success",
    ),
    Action(
        "platform.operator_deactivated", "Operators", "{actor} deactivated operator {target}",
        "warning",
    ),
    Action(
        "platform.operator_reactivated", "Operators", "{actor} reactivated operator {target}",
        "success",
    ),
    Action(
        "platform.operator_change_partial", "Operators",
        "{actor}'s change of operator {target} stopped part-way in Authentik", "danger",
        detail=lambda m: str(m.get("error") or ""),
    ),
    Action(
        "platform.invite_resent", "Operators",
        "{actor} handed operator {target} a new first sign-in credential", detail=_handoff,
    ),
    # Impersonation: an operator viewing the console as a tenant member sees it
    Action(
        "impersonation.started", "Impersonation", "{actor} started viewing the console as {target}",
        "warning", _impersonation_reason,
    ),
    Action(
        "impersonation.ended", "Impersonation", "{actor} stopped viewing the console as {target}",
        detail=_impersonation_ended,
    ),
    Action(
        "impersonation.page_viewed", "Impersonation", "{actor} viewed a page as {target}",
        detail=_impersonation_page,
    ),
    # Sign-in
    Action("user.logged_in", "Sign-in", "{actor} signed in"),
    Action("user.logged_out", "Sign-in", "{actor} signed out"),
    Action(
        "user.sessions_ended", "Sign-in", "{actor} signed out their other sessions",
        detail=_sessions_ended,
    ),
    Action(
        "user.login_failed", "Sign-in", "A sign-in as {target} failed", "warning", _login_failed
    ),
    Action(
        "user.login_throttled", "Sign-in", "Sign-ins as {target} were refused", "danger",
        _throttled,
    ),
    # Service tokens
    Action("service_token.created", "Service tokens", "{actor} created service token {target}"),
    Action(
        "service_token.revoked", "Service tokens", "{actor} revoked service token {target}",
        "warning",
    ),
    # The audit log itself
    Action("audit.chain_verified", "Audit", "{actor} verified the audit chain", "success", _chain),
    Action(
        "audit.chain_broken", "Audit", "{actor} found the audit chain broken", "danger",
        _chain_broken,
    ),
    Action("audit.exported", "Audit", "{actor} exported audit events", detail=_exported),
    # Incidents
    Action("incident.opened", "Incidents", "{actor} opened incident {target}", "danger", _severity),
    Action(
        "incident.updated", "Incidents", "{actor} posted an update on incident {target}",
        "warning", _incident_status,
    ),
    Action("incident.resolved", "Incidents", "{actor} resolved incident {target}", "success"),
)  # fmt: skip

ACTIONS: dict[str, Action] = {action.code: action for action in _ALL}


def is_known(code: str) -> bool:
    return code in ACTIONS


def get(code: str) -> Action | None:
    return ACTIONS.get(code)


def kinds() -> list[tuple[str, list[Action]]]:
    """Actions grouped by kind, in registry order: what an action filter offers."""
    grouped: dict[str, list[Action]] = {}
    for action in _ALL:
        grouped.setdefault(action.kind, []).append(action)
    return list(grouped.items())


def codes_of_kind(kind: str) -> list[str]:
    return [action.code for action in _ALL if action.kind == kind]


def tone(code: str) -> str:
    action = ACTIONS.get(code)
    return action.tone if action else "neutral"


def _system(metadata: dict[str, Any]) -> str:
    for_whom = metadata.get("on_behalf_of")
    return f"The system (for {for_whom})" if for_whom else "The system"


def describe(event: EventLike) -> str:
    """The sentence for one event, e.g. "ops@example.test suspended tenant Acme (was active)"."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    actor = event.actor_email or _system(metadata)
    target = event.target_repr or "(unnamed)"
    action = ACTIONS.get(event.action)
    if action is None:
        return f"{actor} did {event.action} on {target}"
    sentence = action.sentence.format(actor=actor, target=target)
    detail = action.detail(metadata) if action.detail else ""
    return f"{sentence} ({detail})" if detail else sentence


def require_known(codes: Iterable[str]) -> None:
    """Raise if any of `codes` is not a registered action (for lists kept elsewhere)."""
    unknown = sorted(set(codes) - ACTIONS.keys())
    if unknown:
        raise ValueError(f"unknown audit actions: {', '.join(unknown)}")
