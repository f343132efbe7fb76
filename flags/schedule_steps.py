"""The bookkeeping of a schedule's steps that both flags.schedules (which runs them)
and flags.change_requests (which applies the requests some steps propose) need.
Models and the audit log only, so neither of those imports the other."""

from __future__ import annotations

from django.utils import timezone

from audit import services as audit
from flags.models import (
    Flag,
    FlagChangeRequest,
    FlagSchedule,
    FlagScheduleStep,
    ScheduleState,
    StepState,
)

OPEN_STEP_STATES = (StepState.PENDING, StepState.WAITING)


def mark_applied(step: FlagScheduleStep, version: int, outcome: str) -> None:
    step.state = StepState.APPLIED
    step.applied_at = timezone.now()
    step.applied_version = version
    step.outcome = outcome[:500]
    step.save()


def mark_request_applied(request: FlagChangeRequest, flag: Flag) -> None:
    """`request` was just applied (inside its transaction): the steps waiting for it
    are applied, and their schedules expect the version it wrote."""
    steps = FlagScheduleStep.objects.select_related("schedule").filter(
        change_request=request, state__in=OPEN_STEP_STATES
    )
    for step in steps:
        mark_applied(
            step,
            flag.version,
            f"Applied with change request #{request.pk}: version {flag.version}.",
        )
        schedule = step.schedule
        schedule.flag_version = flag.version
        schedule.save(update_fields=["flag_version", "updated_at"])
        finish_if_done(schedule)


def finish_if_done(schedule: FlagSchedule) -> bool:
    """Close a live schedule none of whose steps is left to apply."""
    if not schedule.is_live or schedule.steps.filter(state__in=OPEN_STEP_STATES).exists():
        return False
    schedule.state = ScheduleState.DONE
    schedule.held_reason = ""
    schedule.save(update_fields=["state", "held_reason", "updated_at"])
    audit.record(
        action="flags.schedule_finished",
        actor=None,
        target=schedule,
        metadata={"flag": schedule.flag.key, "flag_version": schedule.flag_version},
    )
    return True
