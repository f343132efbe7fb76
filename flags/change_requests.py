"""Four eyes on flags: the one service every flag change goes through (`flag_change`
writes it now or makes it a change request), the approval policy, and the life of a
change request (edit, approve, reject, withdraw, apply).

Each write records one audit event in its own transaction. Applying writes the flag
through flags.services (which records the flag's own `flag.updated` as every flag
write does) and records `flags.change_applied`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from audit import services as audit
from core.changes import field_changes
from core.errors import ApplicationError, Conflict, NotFound
from flags import policy, schedule_steps, services
from flags.forms import FIELD_LABELS
from flags.models import (
    CHANGE_REQUEST_LIVE_STATES,
    MAX_APPROVALS,
    ApprovalPolicy,
    ChangeRequestState,
    Flag,
    FlagChangeApproval,
    FlagChangeRequest,
)
from operators.models import User


class NotAllowed(ApplicationError):
    """The operator may not do this to this change request (their own, or not theirs)."""

    status_code = 403


@dataclass(frozen=True)
class ChangeOutcome:
    """What `flag_change` did: wrote the flag, or (change_request set) proposed it."""

    flag: Flag
    change_request: FlagChangeRequest | None = None

    @property
    def proposed(self) -> bool:
        return self.change_request is not None


# ------------------------------------------------------------------ policy --


@transaction.atomic
def approval_policy_set(
    *, environment: str, approvals_required: int, actor: User | None, ip: str | None = None
) -> bool:
    """Set how many approvals a change touching `environment` needs; False if it
    already needed that many."""
    current = policy.approvals_by_environment()
    if environment not in current:
        raise ApplicationError(f"There is no environment {environment}.", field="environment")
    if not 0 <= approvals_required <= MAX_APPROVALS:
        raise ApplicationError(
            f"Approvals must be from 0 to {MAX_APPROVALS}.", field="approvals_required"
        )
    row = ApprovalPolicy.objects.select_for_update().filter(environment=environment).first()
    before = row.approvals_required if row else current[environment]
    if row is None:
        row = ApprovalPolicy(environment=environment)
    elif before == approvals_required:
        return False
    row.approvals_required = approvals_required
    row.updated_by_email = actor.email if actor is not None else ""
    row.save()
    if before == approvals_required:  # a default written down as it was: no change
        return False
    audit.record(
        action="flags.approval_policy_changed",
        actor=actor,
        target_type="approval_policy",
        target_id=environment,
        target_repr=environment,
        ip=ip,
        metadata={"environment": environment, "before": before, "after": approvals_required},
    )
    return True


# ----------------------------------------------------------- the one entry --


@transaction.atomic
def flag_change(
    *,
    key: str,
    actor: User | None,
    ip: str | None = None,
    expected_version: int | None = None,
    title: str = "",
    on_behalf_of: User | None = None,
    **changes: Any,
) -> ChangeOutcome:
    """Change a flag as the policy allows: written now when no environment it touches
    asks for approval (or it is the kill switch), else proposed as a change request
    based on the flag's current version. A stale `expected_version` is the same
    Conflict as flags.services.flag_update gives.

    `on_behalf_of` is the operator the system acts for (a schedule's author): a
    proposal is theirs, so they can never approve it themselves."""
    try:
        return ChangeOutcome(
            flag=services.flag_update(
                key=key, actor=actor, ip=ip, expected_version=expected_version, **changes
            )
        )
    except policy.ApprovalRequired:
        pass
    flag = services.locked(key)
    diff = field_changes(services.editable_snapshot(flag), changes)
    request = _propose(flag, diff, actor=actor, ip=ip, title=title, author=on_behalf_of)
    return ChangeOutcome(flag=flag, change_request=request)


@transaction.atomic
def change_request_create(
    *,
    key: str,
    actor: User | None,
    ip: str | None = None,
    base_version: int | None = None,
    title: str = "",
    **changes: Any,
) -> FlagChangeRequest:
    """Propose a change for review even where the policy would let it be written."""
    services.refuse_unknown_fields(changes)
    flag = services.locked(key)
    services.check_version(flag, base_version)
    diff = field_changes(services.editable_snapshot(flag), changes)
    if not diff:
        raise ApplicationError("Nothing to propose: the flag already has these values.")
    return _propose(flag, diff, actor=actor, ip=ip, title=title)


def _propose(
    flag: Flag,
    diff: dict[str, Any],
    *,
    actor: User | None,
    ip: str | None,
    title: str,
    author: User | None = None,
) -> FlagChangeRequest:
    services.validate_change(flag, diff)
    author = author or actor
    request = FlagChangeRequest.objects.create(
        flag=flag,
        title=_title(title, flag, diff),
        changes=diff,
        base_version=flag.version,
        author=author if author is not None and author.pk else None,
        author_email=author.email if author is not None else "",
    )
    needs = policy.requirement_for_change(flag, diff)
    audit.record(
        action="flags.change_requested",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={
            "flag": flag.key,
            "title": request.title,
            "changes": diff,
            "base_version": flag.version,
            "approvals_required": needs.approvals,
        },
    )
    return request


# ---------------------------------------------------------------- its life --


@transaction.atomic
def change_request_edit(
    *,
    request_id: int,
    actor: User | None,
    ip: str | None = None,
    title: str | None = None,
    **changes: Any,
) -> FlagChangeRequest:
    """The author changes what they propose. The diff is taken again against the flag
    as it is now (which becomes the base version), and every approval is dropped:
    an approval is of the change as it was when given."""
    services.refuse_unknown_fields(changes)
    request = _locked(request_id)
    _refuse_closed(request, "edited")
    if not _is_author(request, actor):
        raise NotAllowed("Only the author of a change request can edit it.")
    flag = request.flag
    proposed = {field: change["after"] for field, change in request.changes.items()}
    proposed.update(changes)
    diff = field_changes(services.editable_snapshot(flag), proposed)
    if not diff:
        raise ApplicationError(
            "Nothing would change: the flag already has these values. Withdraw the request instead."
        )
    services.validate_change(flag, diff)
    new_title = _title(title, flag, diff) if title is not None else request.title
    if (
        diff == request.changes
        and new_title == request.title
        and flag.version == request.base_version
    ):
        return request
    dropped = list(request.approvals.values_list("approver_email", flat=True))
    request.approvals.all().delete()
    request.changes = diff
    request.title = new_title
    request.base_version = flag.version
    request.state = ChangeRequestState.OPEN
    request.save()
    audit.record(
        action="flags.change_request_edited",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={
            "flag": flag.key,
            "title": request.title,
            "changes": diff,
            "base_version": flag.version,
            "approvals_dropped": dropped,
        },
    )
    return request


@transaction.atomic
def change_request_approve(
    *, request_id: int, actor: User, ip: str | None = None
) -> FlagChangeRequest:
    request = _locked(request_id)
    _refuse_closed(request, "approved")
    if _is_author(request, actor):
        raise NotAllowed("You wrote this change request; another operator has to approve it.")
    if request.approvals.filter(approver=actor).exists():
        raise Conflict("You have already approved this change request.")
    FlagChangeApproval.objects.create(request=request, approver=actor, approver_email=actor.email)
    count = request.approvals.count()
    needs = requirement_of(request)
    request.state = (
        ChangeRequestState.APPROVED if count >= needs.approvals else ChangeRequestState.OPEN
    )
    request.save(update_fields=["state", "updated_at"])
    audit.record(
        action="flags.change_approved",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={"flag": request.flag.key, "approvals": count, "required": needs.approvals},
    )
    return request


@transaction.atomic
def change_request_reject(
    *, request_id: int, actor: User, ip: str | None = None, reason: str = ""
) -> FlagChangeRequest:
    request = _locked(request_id)
    _refuse_closed(request, "rejected")
    if _is_author(request, actor):
        raise NotAllowed("You wrote this change request: withdraw it instead of rejecting it.")
    request.state = ChangeRequestState.REJECTED
    request.closed_by_email = actor.email
    request.reason = reason.strip()[:500]
    request.save()
    audit.record(
        action="flags.change_rejected",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={"flag": request.flag.key, "reason": request.reason},
    )
    return request


@transaction.atomic
def change_request_withdraw(
    *, request_id: int, actor: User | None, ip: str | None = None
) -> FlagChangeRequest:
    request = _locked(request_id)
    _refuse_closed(request, "withdrawn")
    if not _is_author(request, actor):
        raise NotAllowed("Only the author of a change request can withdraw it.")
    request.state = ChangeRequestState.WITHDRAWN
    request.closed_by_email = actor.email if actor is not None else ""
    request.save()
    audit.record(
        action="flags.change_request_withdrawn",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={"flag": request.flag.key},
    )
    return request


@transaction.atomic
def change_request_apply(
    *, request_id: int, actor: User | None, ip: str | None = None
) -> FlagChangeRequest:
    """Write the request's change on its flag. The approvals are counted against the
    policy as it is now, and the flag must still be at the request's base version: a
    request based on an older version never overwrites a newer change (Conflict with
    `current_version`)."""
    # TRICKY: the request's row lock is taken first, so of two applies at once the
    # second waits here and then finds the request applied.
    request = _locked(request_id)
    _refuse_closed(request, "applied")
    flag = services.locked(request.flag.key)
    needs = requirement_of(request, flag)
    count = request.approvals.count()
    if count < needs.approvals:
        raise Conflict(
            f"Not applied: {needs.reason} and this request has {count}. "
            "The policy is read when the change is applied.",
            extra={"approvals": count, "approvals_required": needs.approvals},
        )
    if flag.version != request.base_version:
        raise Conflict(
            f"Not applied: flag {flag.key} was changed after this request was made "
            f"(version {flag.version}, the request is based on version "
            f"{request.base_version}). Edit the request to base it on the new version.",
            extra={"current_version": flag.version, "base_version": request.base_version},
        )
    flag = services.write_approved_change(
        flag=flag, diff=request.changes, actor=actor, ip=ip, change_request=request.pk
    )
    request.state = ChangeRequestState.APPLIED
    request.applied_version = flag.version
    request.closed_by_email = actor.email if actor is not None else ""
    request.save()
    # A schedule step that proposed or applies this request is done with it, and
    # its schedule now expects the version this wrote (it is not a change by hand).
    schedule_steps.mark_request_applied(request, flag)
    audit.record(
        action="flags.change_applied",
        actor=actor,
        target=request,
        target_repr=target_repr(request),
        ip=ip,
        metadata={
            "flag": flag.key,
            "changes": request.changes,
            "version": flag.version,
            "approved_by": list(request.approvals.values_list("approver_email", flat=True)),
        },
    )
    return request


# ---------------------------------------------------------------- helpers --


def requirement_of(request: FlagChangeRequest, flag: Flag | None = None) -> policy.Requirement:
    """What the request needs under the policy as it is now."""
    return policy.requirement_for_change(flag or request.flag, request.changes)


def target_repr(request: FlagChangeRequest) -> str:
    return f"change request #{request.pk} to {request.flag.key}"


def _title(title: str | None, flag: Flag, diff: dict[str, Any]) -> str:
    title = (title or "").strip()
    if title:
        return title[:200]
    labels = ", ".join(FIELD_LABELS.get(field, field).lower() for field in diff)
    return f"Change {labels} of {flag.key}"[:200]


def _is_author(request: FlagChangeRequest, actor: User | None) -> bool:
    if actor is None or request.author_id is None:
        return False
    return request.author_id == actor.pk


def _refuse_closed(request: FlagChangeRequest, verb: str) -> None:
    if not request.is_live:
        raise Conflict(
            f"Change request #{request.pk} is {request.get_state_display().lower()}; "
            f"it can no longer be {verb}."
        )


def _locked(request_id: int) -> FlagChangeRequest:
    try:
        return (
            FlagChangeRequest.objects.select_for_update(of=("self",))
            .select_related("flag")
            .get(pk=request_id)
        )
    except FlagChangeRequest.DoesNotExist:
        raise NotFound(f"There is no change request #{request_id}.") from None


# ------------------------------------------------------------------ reads --
# (The selectors of change requests; few and small, so beside the writes.)

WHO_CHOICES = (("", "Everyone's"), ("mine", "Mine"), ("waiting", "Waiting for me"))


def change_request_list(
    *, viewer: User, state: str = "", flag_key: str = "", who: str = "", search: str = ""
) -> Any:
    found = FlagChangeRequest.objects.select_related("flag").prefetch_related("approvals")
    if state:
        found = found.filter(state=state)
    if flag_key:
        found = found.filter(flag__key=flag_key)
    if search:
        found = found.filter(title__icontains=search) | found.filter(flag__key__icontains=search)
    if who == "mine":
        found = found.filter(author=viewer)
    elif who == "waiting":
        found = (
            found.filter(state__in=CHANGE_REQUEST_LIVE_STATES)
            .exclude(author=viewer)
            .exclude(approvals__approver=viewer)
        )
    return found.order_by("-created_at", "-id")


def open_requests_of(flag: Flag) -> list[FlagChangeRequest]:
    return list(
        flag.change_requests.filter(state__in=CHANGE_REQUEST_LIVE_STATES)
        .prefetch_related("approvals")
        .order_by("-created_at", "-id")
    )


def change_request_get(request_id: int) -> FlagChangeRequest:
    found = (
        FlagChangeRequest.objects.select_related("flag", "author")
        .prefetch_related("approvals")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound(f"There is no change request #{request_id}.")
    return found
