"""Scheduled flag changes: a change at a time, a rollout that ramps in steps, or an
approved change request applied at a time; made, paused, resumed and cancelled by
operators, and run by `manage.py apply_scheduled_flag_changes` (`run_due`).

A step is written as the system acting for the operator who made the schedule
(audit.acting_for), through the same service as any flag change, so the approval
policy holds at the time the step runs: where it asks for approvals, the step is
proposed as a change request in that operator's name (so they cannot approve it
themselves) and the schedule waits for it; the next run applies it once approved.

A schedule never writes over a change made by other means: it remembers the version
its next step expects, and when the flag has another one it is held until an
operator keeps it (the next steps apply on top of the flag as it is then) or
cancels it. Running is idempotent: a step is marked in the same transaction as the
write, under the schedule's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from audit import services as audit
from core.changes import field_changes
from core.errors import ApplicationError, Conflict, NotFound
from flags import change_requests, policy, schedule_steps, services
from flags.models import (
    ChangeRequestState,
    Flag,
    FlagChangeRequest,
    FlagSchedule,
    FlagScheduleStep,
    ScheduleKind,
    SchedulerRun,
    ScheduleState,
    StepState,
)
from operators.models import User

MAX_STEPS = 10
MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(days=30)
MAX_AHEAD = timedelta(days=366)
# A time a little in the past is "now" (the form took a minute to fill in).
PAST_GRACE = timedelta(minutes=5)


@dataclass
class RunReport:
    """What one run of the scheduler did, one line per schedule it touched."""

    applied: int = 0
    proposed: int = 0
    held: int = 0
    lines: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ making --


@transaction.atomic
def schedule_change(
    *,
    key: str,
    at: datetime,
    values: dict[str, Any],
    actor: User,
    ip: str | None = None,
    title: str = "",
    now: datetime | None = None,
) -> FlagSchedule:
    """Write `values` (any editable fields) on the flag at `at`."""
    services.refuse_unknown_fields(values)
    flag = services.locked(key)
    _check_time(at, now, field="at")
    diff = field_changes(services.editable_snapshot(flag), values)
    if not diff:
        raise ApplicationError(
            "Nothing to schedule: the flag already has these values.", field="values"
        )
    services.validate_change(flag, diff)
    return _create(
        flag,
        ScheduleKind.CHANGE,
        [(at, values)],
        actor=actor,
        ip=ip,
        title=title or _default_title(flag, values),
    )


@transaction.atomic
def schedule_ramp(
    *,
    key: str,
    percents: list[int],
    start_at: datetime,
    every: timedelta,
    actor: User,
    ip: str | None = None,
    title: str = "",
    now: datetime | None = None,
) -> FlagSchedule:
    """A rollout in steps: state rollout at each percent in turn, the first at
    `start_at` and then one every `every`."""
    flag = services.locked(key)
    _check_percents(percents)
    if not MIN_INTERVAL <= every <= MAX_INTERVAL:
        raise ApplicationError(
            "The time between steps must be from 5 minutes to 30 days.", field="every"
        )
    _check_time(start_at, now, field="start_at")
    _check_time(start_at + every * (len(percents) - 1), now, field="every")
    steps = [
        (start_at + every * n, {"state": "rollout", "pct": pct}) for n, pct in enumerate(percents)
    ]
    for _, values in steps:
        services.validate_change(flag, field_changes(services.editable_snapshot(flag), values))
    title = title or f"Ramp {flag.key}: {' → '.join(f'{p} %' for p in percents)}"
    return _create(flag, ScheduleKind.RAMP, steps, actor=actor, ip=ip, title=title)


@transaction.atomic
def schedule_change_request(
    *,
    request_id: int,
    at: datetime,
    actor: User,
    ip: str | None = None,
    now: datetime | None = None,
) -> FlagSchedule:
    """Apply a change request at `at`. Its approvals and the flag's version are
    checked when it is applied, as for an apply by hand."""
    request = change_requests.change_request_get(request_id)
    if not request.is_live:
        raise Conflict(
            f"Change request #{request.pk} is {request.get_state_display().lower()}; "
            "only an open or approved request can be scheduled."
        )
    if request.schedules.filter(state__in=_LIVE).exists():
        raise Conflict(f"Change request #{request.pk} is already scheduled.")
    flag = services.locked(request.flag.key)
    _check_time(at, now, field="at")
    values = {f: c["after"] for f, c in request.changes.items()}
    return _create(
        flag,
        ScheduleKind.CHANGE_REQUEST,
        [(at, values)],
        actor=actor,
        ip=ip,
        title=f"Apply change request #{request.pk}: {request.title}"[:200],
        change_request=request,
    )


def _create(
    flag: Flag,
    kind: str,
    steps: list[tuple[datetime, dict[str, Any]]],
    *,
    actor: User,
    ip: str | None,
    title: str,
    change_request: FlagChangeRequest | None = None,
) -> FlagSchedule:
    schedule = FlagSchedule.objects.create(
        flag=flag,
        kind=kind,
        title=title.strip()[:200],
        flag_version=flag.version,
        change_request=change_request,
        created_by=actor if actor.pk else None,
        created_by_email=actor.email,
    )
    FlagScheduleStep.objects.bulk_create(
        FlagScheduleStep(
            schedule=schedule,
            position=n,
            at=at,
            values=values,
            change_request=change_request,
        )
        for n, (at, values) in enumerate(steps, start=1)
    )
    needs = requirement_of(schedule) if kind != ScheduleKind.CHANGE_REQUEST else None
    audit.record(
        action="flags.schedule_created",
        actor=actor,
        target=schedule,
        target_repr=target_repr(schedule),
        ip=ip,
        metadata={
            "flag": flag.key,
            "kind": kind,
            "title": schedule.title,
            "flag_version": flag.version,
            "steps": [{"at": at.isoformat(), "values": values} for at, values in steps],
            "change_request": change_request.pk if change_request else None,
            "approvals_required": needs.approvals if needs else 0,
        },
    )
    return schedule


# ------------------------------------------------------ pause, resume, cancel --


@transaction.atomic
def schedule_pause(*, schedule_id: int, actor: User, ip: str | None = None) -> FlagSchedule:
    schedule = _locked(schedule_id)
    if schedule.state != ScheduleState.ACTIVE:
        raise Conflict(f"{_name(schedule)} is {_state(schedule)}; only an active one can pause.")
    schedule.state = ScheduleState.PAUSED
    schedule.save(update_fields=["state", "updated_at"])
    _record(schedule, "flags.schedule_paused", actor, ip)
    return schedule


@transaction.atomic
def schedule_resume(*, schedule_id: int, actor: User, ip: str | None = None) -> FlagSchedule:
    """Go on with a paused or held schedule. Its next steps apply on top of the flag
    as it is now: resuming is the operator's answer to a flag changed meanwhile."""
    schedule = _locked(schedule_id)
    if schedule.state not in (ScheduleState.PAUSED, ScheduleState.HELD) and not needs_decision(
        schedule
    ):
        raise Conflict(f"{_name(schedule)} is {_state(schedule)}; there is nothing to resume.")
    flag = services.locked(schedule.flag.key)
    before = schedule.flag_version
    schedule.state = ScheduleState.ACTIVE
    schedule.held_reason = ""
    schedule.flag_version = flag.version
    schedule.save(update_fields=["state", "held_reason", "flag_version", "updated_at"])
    _record(
        schedule,
        "flags.schedule_resumed",
        actor,
        ip,
        {"flag_version_before": before, "flag_version": flag.version},
    )
    schedule_steps.finish_if_done(schedule)
    return schedule


@transaction.atomic
def schedule_cancel(*, schedule_id: int, actor: User, ip: str | None = None) -> FlagSchedule:
    """Stop for good. A change request a step already proposed stays open: it is a
    request of its own, withdrawn or rejected on its page."""
    schedule = _locked(schedule_id)
    if not schedule.is_live:
        raise Conflict(f"{_name(schedule)} is {_state(schedule)}; it can no longer be cancelled.")
    open_steps = schedule.steps.filter(state__in=schedule_steps.OPEN_STEP_STATES)
    cancelled = list(open_steps.values_list("position", flat=True))
    open_steps.update(state=StepState.CANCELLED, outcome="Cancelled with the schedule.")
    schedule.state = ScheduleState.CANCELLED
    schedule.closed_by_email = actor.email
    schedule.save(update_fields=["state", "closed_by_email", "updated_at"])
    _record(schedule, "flags.schedule_cancelled", actor, ip, {"steps_cancelled": cancelled})
    return schedule


# ---------------------------------------------------------------- running --


def run_due(*, now: datetime | None = None) -> RunReport:
    """Apply every step that is due (each schedule in its own transaction) and
    follow the change requests steps proposed. Safe to run again at any time, and
    from several hosts at once: a schedule another run holds is left to it."""
    now = now or timezone.now()
    report = RunReport()
    due = (
        FlagSchedule.objects.filter(state=ScheduleState.ACTIVE)
        .filter(
            Q(steps__state=StepState.PENDING, steps__at__lte=now)
            | Q(steps__state=StepState.WAITING)
        )
        .values_list("id", flat=True)
        .distinct()
        .order_by("id")
    )
    for schedule_id in list(due):
        _run_one(schedule_id, now, report)
    with transaction.atomic():
        run = SchedulerRun.objects.select_for_update().first() or SchedulerRun(last_run_at=now)
        run.last_run_at = now
        run.last_applied = report.applied
        run.save()
    return report


@transaction.atomic
def _run_one(schedule_id: int, now: datetime, report: RunReport) -> None:
    schedule = _locked_unless_taken(schedule_id)
    if schedule is None or schedule.state != ScheduleState.ACTIVE:
        return
    with audit.acting_for(schedule.created_by_email, schedule=schedule.pk):
        waiting = schedule.steps.filter(state=StepState.WAITING).first()
        if waiting is not None:
            _follow_request(schedule, waiting, report)
            return
        due = list(schedule.steps.filter(state=StepState.PENDING, at__lte=now))
        if not due:
            return
        flag = services.locked(schedule.flag.key)
        if flag.version != schedule.flag_version:
            _hold(
                schedule,
                f"Flag {flag.key} was changed after this schedule was made or last applied "
                f"(it is at version {flag.version}; the schedule expected version "
                f"{schedule.flag_version}). Keep the schedule to apply its next steps on top "
                "of the flag as it is now, or cancel it.",
                report,
            )
            return
        # Catching up after downtime: the newest due step is where the schedule should
        # be now (each step sets the whole rollout); the older ones are not replayed.
        step, older = due[-1], due[:-1]
        for skipped in older:
            skipped.state = StepState.SKIPPED
            skipped.outcome = (
                f"Not applied: step {step.position} was also due when the scheduler ran, "
                "and it takes the flag further."
            )
            skipped.save(update_fields=["state", "outcome"])
        if schedule.kind == ScheduleKind.CHANGE_REQUEST:
            _apply_request(schedule, step, report)
        else:
            _apply_values(schedule, step, flag, report, skipped=[s.position for s in older])


def _apply_values(
    schedule: FlagSchedule,
    step: FlagScheduleStep,
    flag: Flag,
    report: RunReport,
    *,
    skipped: list[int],
) -> None:
    before = flag.version
    try:
        outcome = change_requests.flag_change(
            key=flag.key,
            actor=None,
            expected_version=flag.version,
            title=f"{schedule.title} (step {step.position})",
            on_behalf_of=schedule.created_by,
            **step.values,
        )
    except (ApplicationError, ValidationError) as error:
        _fail(schedule, step, _sentence(error), report)
        return
    if outcome.change_request is not None:
        proposal = outcome.change_request
        reason = change_requests.requirement_of(proposal).reason
        step.state = StepState.WAITING
        step.change_request = proposal
        step.outcome = (
            f"Proposed as change request #{proposal.pk} ({reason}); the scheduler applies "
            "it once it is approved."
        )
        step.save(update_fields=["state", "change_request", "outcome"])
        report.proposed += 1
        report.lines.append(f"{_name(schedule)}: step {step.position} proposed as #{proposal.pk}")
        return
    written = outcome.flag.version != before
    text = (
        f"Applied: version {outcome.flag.version}."
        if written
        else "Nothing to write: the flag already had these values."
    )
    if skipped:
        text += f" Steps {', '.join(map(str, skipped))} were skipped (also due)."
    schedule_steps.mark_applied(step, outcome.flag.version, text)
    schedule.flag_version = outcome.flag.version
    schedule.save(update_fields=["flag_version", "updated_at"])
    report.applied += 1
    report.lines.append(f"{_name(schedule)}: step {step.position} {text[0].lower()}{text[1:]}")
    schedule_steps.finish_if_done(schedule)


def _apply_request(schedule: FlagSchedule, step: FlagScheduleStep, report: RunReport) -> None:
    request = step.change_request
    if request is None:
        _fail(schedule, step, "The change request this step applies is gone.", report)
        return
    try:
        change_requests.change_request_apply(request_id=request.pk, actor=None)
    except ApplicationError as error:
        _fail(schedule, step, _sentence(error), report)
        return
    report.applied += 1
    report.lines.append(f"{_name(schedule)}: applied change request #{request.pk}")


def _follow_request(schedule: FlagSchedule, step: FlagScheduleStep, report: RunReport) -> None:
    """A step proposed a change request: apply it once approved; a request closed
    without being applied holds the schedule."""
    request = step.change_request
    if request is None:
        _fail(schedule, step, "The change request this step proposed is gone.", report)
        return
    request.refresh_from_db()
    if request.state == ChangeRequestState.APPROVED:
        _apply_request(schedule, step, report)
    elif request.state in (ChangeRequestState.REJECTED, ChangeRequestState.WITHDRAWN):
        why = f": {request.reason}" if request.reason else ""
        _fail(
            schedule,
            step,
            f"Change request #{request.pk} was {request.get_state_display().lower()}{why}.",
            report,
        )


def _fail(schedule: FlagSchedule, step: FlagScheduleStep, reason: str, report: RunReport) -> None:
    step.state = StepState.FAILED
    step.outcome = f"Not applied: {reason}"[:500]
    step.save(update_fields=["state", "outcome"])
    _hold(schedule, f"Step {step.position} was not applied: {reason}", report)


def _hold(schedule: FlagSchedule, reason: str, report: RunReport) -> None:
    schedule.state = ScheduleState.HELD
    schedule.held_reason = reason[:500]
    schedule.save(update_fields=["state", "held_reason", "updated_at"])
    _record(schedule, "flags.schedule_held", None, None, {"reason": schedule.held_reason})
    report.held += 1
    report.lines.append(f"{_name(schedule)}: held. {reason}")


# ------------------------------------------------------------------ reads --


def needs_decision(schedule: FlagSchedule) -> bool:
    """Held, or about to be: the flag was changed since the version the next step
    expects (the scheduler holds it at its next run)."""
    if schedule.state == ScheduleState.HELD:
        return True
    return schedule.state == ScheduleState.ACTIVE and schedule.flag.version != (
        schedule.flag_version
    )


def requirement_of(schedule: FlagSchedule) -> policy.Requirement:
    """What the schedule's steps need under the policy now (the steps are checked
    again when they run)."""
    flag = schedule.flag
    most = policy.Requirement(approvals=0, environments=())
    for step in schedule.steps.all():
        diff = field_changes(services.editable_snapshot(flag), step.values)
        needs = policy.requirement_for_change(flag, diff) if diff else most
        if needs.approvals > most.approvals:
            most = needs
    return most


STATE_FILTERS = (
    ("", "All"),
    ("live", "Not finished"),
    ("decision", "Needs a decision"),
    *ScheduleState.choices,
)


def schedule_list(*, state: str = "", flag_key: str = "", search: str = "") -> QuerySet:
    found = FlagSchedule.objects.select_related("flag").prefetch_related("steps")
    if state == "live":
        found = found.filter(state__in=_LIVE)
    elif state == "decision":
        found = found.filter(
            Q(state=ScheduleState.HELD)
            | (Q(state=ScheduleState.ACTIVE) & ~Q(flag_version=F("flag__version")))
        )
    elif state:
        found = found.filter(state=state)
    if flag_key:
        found = found.filter(flag__key=flag_key)
    if search:
        found = found.filter(Q(title__icontains=search) | Q(flag__key__icontains=search))
    return found.order_by("-created_at", "-id")


def live_schedules_of(flag: Flag) -> list[FlagSchedule]:
    return list(
        flag.schedules.filter(state__in=_LIVE)
        .select_related("flag")
        .prefetch_related("steps")
        .order_by("id")
    )


def schedule_get(schedule_id: int) -> FlagSchedule:
    found = (
        FlagSchedule.objects.select_related("flag", "change_request")
        .prefetch_related("steps__change_request")
        .filter(pk=schedule_id)
        .first()
    )
    if found is None:
        raise NotFound(f"There is no schedule #{schedule_id}.")
    return found


def next_step(schedule: FlagSchedule) -> FlagScheduleStep | None:
    for step in schedule.steps.all():
        if step.state in schedule_steps.OPEN_STEP_STATES:
            return step
    return None


def last_run() -> SchedulerRun | None:
    return SchedulerRun.objects.first()


def target_repr(schedule: FlagSchedule) -> str:
    return f"schedule #{schedule.pk} of {schedule.flag.key}"


# ---------------------------------------------------------------- helpers --

_LIVE = (ScheduleState.ACTIVE, ScheduleState.PAUSED, ScheduleState.HELD)


def _check_time(at: datetime, now: datetime | None, *, field: str) -> None:
    now = now or timezone.now()
    if timezone.is_naive(at):
        raise ApplicationError("Give the time with its time zone (UTC).", field=field)
    if at < now - PAST_GRACE:
        raise ApplicationError(
            f"{at:%Y-%m-%d %H:%M} UTC has passed; choose a time from now on.", field=field
        )
    if at > now + MAX_AHEAD:
        raise ApplicationError("Schedule at most a year ahead.", field=field)


def _check_percents(percents: list[int]) -> None:
    if not 1 <= len(percents) <= MAX_STEPS:
        raise ApplicationError(f"Give 1 to {MAX_STEPS} steps.", field="percents")
    if any(isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 100 for p in percents):
        raise ApplicationError("Each step is a whole percentage from 1 to 100.", field="percents")
    if any(b <= a for a, b in pairwise(percents)):
        raise ApplicationError(
            "Each step must reach more tenants than the one before (for example 10, 25, 50, 100).",
            field="percents",
        )


def _default_title(flag: Flag, values: dict[str, Any]) -> str:
    parts = [
        f"{name.replace('scope_', '').replace('_', ' ')} {value}" for name, value in values.items()
    ]
    return f"Set {', '.join(parts)} on {flag.key}"[:200]


def _sentence(error: ApplicationError | ValidationError) -> str:
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(error.messages)


def _name(schedule: FlagSchedule) -> str:
    return f"Schedule #{schedule.pk} of {schedule.flag.key}"


def _state(schedule: FlagSchedule) -> str:
    return schedule.get_state_display().lower()


def _record(
    schedule: FlagSchedule,
    action: str,
    actor: User | None,
    ip: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action=action,
        actor=actor,
        target=schedule,
        target_repr=target_repr(schedule),
        ip=ip,
        metadata={"flag": schedule.flag.key, **(extra or {})},
    )


def _locked(schedule_id: int) -> FlagSchedule:
    """The schedule, its row locked for the rest of the transaction."""
    try:
        return (
            FlagSchedule.objects.select_related("flag", "created_by")
            .select_for_update(of=("self",))
            .get(pk=schedule_id)
        )
    except FlagSchedule.DoesNotExist:
        raise NotFound(f"There is no schedule #{schedule_id}.") from None


def _locked_unless_taken(schedule_id: int) -> FlagSchedule | None:
    """The schedule locked, or None when it is gone or (PostgreSQL) another run holds
    it: that run applies its steps, this one moves on instead of waiting."""
    query = FlagSchedule.objects.select_related("flag", "created_by")
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(of=("self",), skip_locked=True)
    else:
        query = query.select_for_update(of=("self",))
    return query.filter(pk=schedule_id).first()
