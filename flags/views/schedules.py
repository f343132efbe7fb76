"""Scheduled flag changes: the list (state, flag, search) with whether the scheduler
runs at all, a schedule's page with its steps and actions, the form that makes one
for a flag, and scheduling a change request's apply.

Every write is one audited service of flags.schedules. With htmx an action answers
the schedule's region (`#sched-detail`) with its true status and a toast; without
JavaScript it redirects (303) with a message, to the schedule's page or, when it was
sent from the flag's panel (`?back=flag`), to the flag. A refusal is shown on the
schedule's page with the service's sentence and its status (404, 409).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from console.lists import Filter, ListSpec, ListState
from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError, NotFound
from core.request_meta import client_ip
from flags import change_requests as cr
from flags import policy, schedules
from flags.forms import FIELD_LABELS
from flags.models import (
    Flag,
    FlagChangeRequest,
    FlagSchedule,
    FlagScheduleStep,
    FlagState,
    ScheduleKind,
    ScheduleState,
    StepState,
)
from flags.presentation import ago, display_value
from operators.permissions import operator_required

LIST_TEMPLATE = "flags/schedules.html"
DETAIL_TEMPLATE = "flags/schedule.html"
FORM_TEMPLATE = "flags/schedule_form.html"
REQUEST_TEMPLATE = "flags/schedule_request.html"

# The scheduler runs every minute (README); longer than this without a run means it
# is not running, and schedules wait.
SCHEDULER_LATE = timedelta(minutes=10)
SCHEDULER_HINT = (
    "Schedules are applied only when manage.py apply_scheduled_flag_changes runs (see README)."
)

STATE_TONES: dict[str, str] = {
    ScheduleState.ACTIVE: "info",
    ScheduleState.PAUSED: "neutral",
    ScheduleState.HELD: "warning",
    ScheduleState.DONE: "success",
    ScheduleState.CANCELLED: "neutral",
}
STEP_TONES: dict[str, str] = {
    StepState.PENDING: "neutral",
    StepState.WAITING: "warning",
    StepState.APPLIED: "success",
    StepState.SKIPPED: "neutral",
    StepState.FAILED: "danger",
    StepState.CANCELLED: "neutral",
}
# "held" and "decision" are both "Needs a decision" in the services' words; as chips
# side by side they need telling apart ("decision" also counts a flag changed since).
STATE_CHIPS = tuple(
    (value, "Held" if value == ScheduleState.HELD else label)
    for value, label in schedules.STATE_FILTERS
)
SCHEDULE_LIST = ListSpec(
    filters=(Filter("state", "State", schedules.STATE_FILTERS), Filter("flag", "Flag")),
    page_size=25,
)
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


# ------------------------------------------------------------ presentation --


def values_text(values: dict[str, Any]) -> str:
    """What a step sets, in words: "rollout 25 %", "State on, Rollout % 0 %"."""
    if set(values) == {"state", "pct"} and values["state"] == FlagState.ROLLOUT:
        return f"rollout {values['pct']} %"
    return ", ".join(f"{FIELD_LABELS.get(f, f)} {display_value(f, v)}" for f, v in values.items())


def step_when(step: FlagScheduleStep) -> str:
    return f"{step.at:%Y-%m-%d %H:%M} UTC"


def decision_reason(schedule: FlagSchedule) -> str:
    """Why the schedule waits for an operator (held, or about to be)."""
    if schedule.held_reason:
        return schedule.held_reason
    return (
        f"Flag {schedule.flag.key} was changed after schedule #{schedule.pk} was made or last "
        f"applied (it is at version {schedule.flag.version}; the schedule expected version "
        f"{schedule.flag_version}). Keep the schedule to apply its next steps on top of the "
        "flag as it is now, or cancel it."
    )


def decision_prompt(schedule: FlagSchedule) -> str:
    """The decision prompt's line in the flag's panel."""
    if schedule.flag.version != schedule.flag_version:
        return (
            f"This flag was changed after schedule #{schedule.pk} was made. Keep it to apply "
            "its next steps on top of the flag as it is now, or cancel it."
        )
    return f"Schedule #{schedule.pk} is held: {schedule.held_reason}"


def progress(schedule: FlagSchedule) -> str:
    steps = list(schedule.steps.all())
    done = sum(1 for s in steps if s.state == StepState.APPLIED)
    return f"{done} of {len(steps)} step{'s' if len(steps) != 1 else ''}"


@dataclass(frozen=True)
class SchedulerStatus:
    """Whether the scheduler command runs: a line, and a warning when it does not."""

    text: str
    late: bool


def scheduler_status(now: datetime | None = None) -> SchedulerStatus:
    run = schedules.last_run()
    now = now or timezone.now()
    if run is None:
        return SchedulerStatus(f"The scheduler has never run. {SCHEDULER_HINT}", late=True)
    when = f"{run.last_run_at:%Y-%m-%d %H:%M} UTC ({ago(run.last_run_at, now)})"
    if now - run.last_run_at > SCHEDULER_LATE:
        return SchedulerStatus(
            f"The scheduler last ran at {when}, more than 10 minutes ago. {SCHEDULER_HINT}",
            late=True,
        )
    steps = f"{run.last_applied} step{'s' if run.last_applied != 1 else ''}"
    return SchedulerStatus(f"The scheduler last ran at {when} and applied {steps}.", late=False)


def schedule_url(schedule_id: int) -> str:
    return reverse("flags:schedule", kwargs={"schedule_id": schedule_id})


def summary(schedule: FlagSchedule) -> dict[str, Any]:
    """One schedule as the list and the flag's panel show it."""
    step = schedules.next_step(schedule)
    decide = schedules.needs_decision(schedule)
    return {
        "schedule": schedule,
        "url": schedule_url(schedule.pk),
        "tone": STATE_TONES[schedule.state],
        "needs_decision": decide,
        "decision_prompt": decision_prompt(schedule) if decide else "",
        "next_when": step_when(step) if step else "",
        "next_at": step.at if step else None,
        "next_what": values_text(step.values) if step else "",
        "next_waiting": bool(step and step.state == StepState.WAITING),
        "progress": progress(schedule),
        "keep_url": action_url(schedule.pk, "resume"),
        "cancel_url": action_url(schedule.pk, "cancel"),
    }


def action_url(schedule_id: int, name: str) -> str:
    return reverse(f"flags:schedule_{name}", kwargs={"schedule_id": schedule_id})


# ------------------------------------------------------------------- list --


@operator_required
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, SCHEDULE_LIST)
    found = schedules.schedule_list(
        state=state.filter("state"), flag_key=state.filter("flag"), search=state.q
    )
    page = state.paginate(found)
    context = {
        "state": state,
        "page": page,
        "rows": [summary(s) for s in page.object_list],
        "state_chips": state.chips("state", STATE_CHIPS),
        "flag_filter": state.filter("flag"),
        "clear_flag_url": state.url(flag=""),
        "scheduler": scheduler_status(),
        "empty_text": "No schedule matches." if state.narrowed else "No scheduled changes yet.",
    }
    return respond(request, LIST_TEMPLATE, context, partial="results")


# ----------------------------------------------------------------- detail --


@operator_required
@require_GET
def schedule_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = schedules.schedule_get(schedule_id)
    return respond(request, DETAIL_TEMPLATE, detail_context(schedule), partial="detail")


def detail_context(schedule: FlagSchedule, *, error: str = "") -> dict[str, Any]:
    live = schedule.is_live
    decide = schedules.needs_decision(schedule)
    needs = (
        schedules.requirement_of(schedule)
        if live and schedule.kind != ScheduleKind.CHANGE_REQUEST
        else None
    )
    return {
        "schedule": schedule,
        "flag": schedule.flag,
        "tone": STATE_TONES[schedule.state],
        "url": schedule_url(schedule.pk),
        "live": live,
        "needs_decision": decide,
        "decision_reason": decision_reason(schedule) if decide else "",
        "needs": needs,
        "progress": progress(schedule),
        "steps": [
            {
                "step": step,
                "when": step_when(step),
                "what": values_text(step.values),
                "tone": STEP_TONES[step.state],
            }
            for step in schedule.steps.all()
        ],
        "pause_reason": _pause_reason(schedule, decide),
        "resume_reason": "" if _resumable(schedule, decide) else "It is running.",
        "dialogs": {name: _dialog(schedule, name) for name in ACTIONS},
        "scheduler": scheduler_status(),
        "error": error,
    }


def _resumable(schedule: FlagSchedule, decide: bool) -> bool:
    return schedule.state in (ScheduleState.PAUSED, ScheduleState.HELD) or decide


def _pause_reason(schedule: FlagSchedule, decide: bool) -> str:
    if schedule.state == ScheduleState.PAUSED:
        return "It is paused."
    if decide:
        return "It waits for a decision: keep it or cancel it."
    return ""


# ---------------------------------------------------------------- actions --

ACTIONS = ("pause", "resume", "cancel")
DONE = {
    "pause": "Paused schedule #{pk}; no step is applied until it is resumed.",
    "resume": "Schedule #{pk} goes on from version {version} of {key}.",
    "cancel": "Cancelled schedule #{pk}; its remaining steps will not be applied.",
}
SERVICES: dict[str, Callable[..., FlagSchedule]] = {
    "pause": schedules.schedule_pause,
    "resume": schedules.schedule_resume,
    "cancel": schedules.schedule_cancel,
}


def _dialog(schedule: FlagSchedule, name: str, *, back: str = "") -> dict[str, str]:
    url = action_url(schedule.pk, name) + (f"?back={back}" if back else "")
    common = {"id": f"sched-{name}-dialog", "url": url}
    if name == "pause":
        return {
            **common,
            "title": "Pause this schedule?",
            "text": "No step is applied while it is paused. Resume it to go on.",
            "confirm": "Pause",
            "tone": "primary",
            "icon": "clock",
        }
    if name == "resume":
        if schedules.needs_decision(schedule):
            return {
                **common,
                "title": "Keep this schedule?",
                "text": (
                    f"Its next steps apply on top of {schedule.flag.key} as it is now "
                    f"(version {schedule.flag.version}), including the change made meanwhile."
                ),
                "confirm": "Keep schedule",
                "tone": "primary",
                "icon": "check",
            }
        return {
            **common,
            "title": "Resume this schedule?",
            "text": (
                "It goes on at the scheduler's next run. Of the steps that fell due while "
                "it was paused, only the newest is applied."
            ),
            "confirm": "Resume",
            "tone": "primary",
            "icon": "check",
        }
    return {
        **common,
        "title": "Cancel this schedule?",
        "text": (
            "Its remaining steps are never applied; what was applied stays. A change "
            "request a step proposed stays open on its own page."
        ),
        "confirm": "Cancel schedule",
        "tone": "danger",
        "icon": "circle-x",
    }


def _action(name: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @operator_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, schedule_id: int) -> HttpResponse:
        schedule = schedules.schedule_get(schedule_id)
        back = "flag" if request.GET.get("back") == "flag" else ""
        if request.method == "GET":
            cancel_url = (
                reverse("flags:detail", args=[schedule.flag.key])
                if back
                else schedule_url(schedule.pk)
            )
            return confirm_page(
                request, **_dialog(schedule, name, back=back), cancel_url=cancel_url
            )
        try:
            done = SERVICES[name](
                schedule_id=schedule.pk, actor=request.user, ip=client_ip(request)
            )
        except ApplicationError as error:
            return refused(request, schedule.pk, error)
        text = DONE[name].format(pk=done.pk, key=done.flag.key, version=done.flag_version)
        if done.state == ScheduleState.DONE:
            text = f"Schedule #{done.pk} has no step left to apply; it is done."
        notice = Notice("success", text)
        if back and not is_fragment(request):
            flag_url = reverse("flags:detail", args=[done.flag.key])
            return redirect_with_notice(request, flag_url, notice)
        return answer(request, done.pk, notice)

    view.__name__ = f"schedule_{name}"
    return view


pause = _action("pause")
resume = _action("resume")
cancel = _action("cancel")


def answer(request: HttpRequest, schedule_id: int, notice: Notice) -> HttpResponse:
    if not is_fragment(request):
        return redirect_with_notice(request, schedule_url(schedule_id), notice)
    context = detail_context(schedules.schedule_get(schedule_id))
    return respond(request, DETAIL_TEMPLATE, context, partial="detail", notice=notice)


def refused(request: HttpRequest, schedule_id: int, error: ApplicationError) -> HttpResponse:
    """The schedule's page with the refusal above the actions, in its true status."""
    context = detail_context(schedules.schedule_get(schedule_id), error=error.message)
    partial = "detail" if is_fragment(request) else None
    return respond(request, DETAIL_TEMPLATE, context, partial=partial, status=error.status_code)


# ------------------------------------------------------------ the new form --

KINDS = (
    (ScheduleKind.CHANGE.value, "One change at a time"),
    (ScheduleKind.RAMP.value, "Rollout ramp"),
)
UNITS = (("hours", "hours"), ("days", "days"))


class ScheduleForm(forms.Form):
    """The shape of a schedule; the service checks times, percents and values and
    names the field it refuses."""

    kind = forms.ChoiceField(label="What to schedule", choices=KINDS)
    title = forms.CharField(label="Title", max_length=200, required=False)
    at = forms.DateTimeField(label="Time (UTC)", required=False, input_formats=DATETIME_FORMATS)
    state = forms.ChoiceField(label="State", choices=FlagState.choices, required=False)
    pct = forms.IntegerField(label="Rollout %", min_value=0, max_value=100, required=False)
    percents = forms.CharField(label="Rollout steps (%)", max_length=100, required=False)
    start_at = forms.DateTimeField(
        label="First step (UTC)", required=False, input_formats=DATETIME_FORMATS
    )
    every = forms.IntegerField(label="Every", min_value=1, max_value=9999, required=False)
    every_unit = forms.ChoiceField(label="Unit", choices=UNITS, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == ScheduleKind.CHANGE:
            self._require("at", "give the time of the change")
            self._require("state", "choose a state")
            self._require("pct", "give a rollout % from 0 to 100")
        elif data.get("kind") == ScheduleKind.RAMP:
            self._require("start_at", "give the time of the first step")
            self._require("every", "give the time between steps")
            if self._require("percents", "give the steps, for example 10, 25, 50, 100"):
                data["percent_list"] = self._percents(data["percents"])
        return data

    def _require(self, name: str, message: str) -> bool:
        if name in self.errors:
            return False
        if self.cleaned_data.get(name) in (None, ""):
            self.add_error(name, message)
            return False
        return True

    def _percents(self, text: str) -> list[int]:
        parts = [p for p in text.replace(",", " ").replace("%", " ").split() if p]
        if not all(p.isdigit() and len(p) <= 3 for p in parts):
            self.add_error(
                "percents", "whole percentages separated by commas, for example 10, 25, 50, 100"
            )
            return []
        return [int(p) for p in parts]

    def interval(self) -> timedelta:
        data = self.cleaned_data
        unit = data.get("every_unit") or "days"
        return timedelta(**{unit: data["every"]})


# The services' `field` on a refusal, as this form's field.
SERVICE_FIELDS = {
    "at": "at",
    "start_at": "start_at",
    "every": "every",
    "percents": "percents",
    "values": "state",
    "state": "state",
    "pct": "pct",
}


def _minute(at: datetime) -> str:
    return f"{at:%Y-%m-%dT%H:%M}"


def form_context(flag: Flag, form: ScheduleForm) -> dict[str, Any]:
    needs = policy.requirement(policy.touched_environments(flag.scope_environments))
    kind = form["kind"].value() or ScheduleKind.CHANGE
    return {
        "flag": flag,
        "form": form,
        "kind": kind,
        "kinds": KINDS,
        "states": FlagState.choices,
        "units": UNITS,
        "needs": needs,
        "live": [summary(s) for s in schedules.live_schedules_of(flag)],
        "scheduler": scheduler_status(),
    }


@operator_required
@require_http_methods(["GET", "POST"])
def schedule_new(request: HttpRequest, key: str) -> HttpResponse:
    flag = Flag.objects.filter(key=key).first()
    if flag is None:
        raise NotFound(f"There is no flag with the key {key}.")
    if request.method == "GET":
        now = _minute(timezone.now())
        kind = request.GET.get("kind")
        form = ScheduleForm(
            initial={
                "kind": kind if kind in dict(KINDS) else ScheduleKind.CHANGE,
                "at": now,
                "start_at": now,
                "state": flag.state,
                "pct": flag.pct,
                "percents": "10, 25, 50, 100",
                "every": 1,
                "every_unit": "days",
            },
            auto_id="sched-%s",
        )
        return respond(request, FORM_TEMPLATE, form_context(flag, form), partial="form")
    form = ScheduleForm(request.POST, auto_id="sched-%s")
    if not form.is_valid():
        return _form_refused(request, flag, form, 400)
    try:
        schedule = _create(request, flag, form)
    except ApplicationError as error:
        if error.status_code == 404:
            raise
        form.add_error(SERVICE_FIELDS.get(error.field or ""), error.message)
        return _form_refused(request, flag, form, error.status_code)
    except ValidationError as error:
        for field, messages in _validation_errors(error).items():
            form.add_error(SERVICE_FIELDS.get(field), messages)
        return _form_refused(request, flag, form, 400)
    steps = schedule.steps.count()
    notice = Notice(
        "success",
        f"Scheduled #{schedule.pk} on {flag.key}: {steps} step{'s' if steps != 1 else ''}.",
    )
    return created(request, schedule, notice)


def created(request: HttpRequest, schedule: FlagSchedule, notice: Notice) -> HttpResponse:
    """A new schedule opens its own page, with the notice as its message: a 303
    without JavaScript, a whole-page navigation (HX-Redirect) after a swap."""
    url = schedule_url(schedule.pk)
    response = redirect_with_notice(request, url, notice)
    if is_fragment(request):
        return HttpResponseClientRedirect(url)
    return response


def _create(request: HttpRequest, flag: Flag, form: ScheduleForm) -> FlagSchedule:
    data = form.cleaned_data
    common = {"key": flag.key, "actor": request.user, "ip": client_ip(request)}
    if data["kind"] == ScheduleKind.RAMP:
        return schedules.schedule_ramp(
            **common,
            percents=data["percent_list"],
            start_at=data["start_at"],
            every=form.interval(),
            title=data["title"],
        )
    wanted = {"state": data["state"], "pct": data["pct"]}
    # Only what differs from the flag now, so the step (and its title) says what it does.
    values = {f: v for f, v in wanted.items() if getattr(flag, f) != v} or wanted
    return schedules.schedule_change(**common, at=data["at"], values=values, title=data["title"])


def _validation_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            f: [str(m) for e in errs for m in e.messages] for f, errs in error.error_dict.items()
        }
    return {"": list(error.messages)}


def _form_refused(
    request: HttpRequest, flag: Flag, form: ScheduleForm, status: int
) -> HttpResponse:
    return respond(request, FORM_TEMPLATE, form_context(flag, form), partial="form", status=status)


# ---------------------------------------------- a change request, at a time --


class RequestScheduleForm(forms.Form):
    at = forms.DateTimeField(label="Apply at (UTC)", input_formats=DATETIME_FORMATS)


def request_context(found: FlagChangeRequest, form: RequestScheduleForm) -> dict[str, Any]:
    live = [s for s in found.schedules.all() if s.is_live]
    return {
        "cr": found,
        "flag": found.flag,
        "form": form,
        "scheduled": live[0] if live else None,
        "request_url": reverse("flags:change_request", kwargs={"request_id": found.pk}),
        "back_label": f"Change request #{found.pk}",
        "scheduler": scheduler_status(),
    }


@operator_required
@require_http_methods(["GET", "POST"])
def change_request_schedule(request: HttpRequest, request_id: int) -> HttpResponse:
    """Apply an open or approved change request at a time. The GET is the form as a
    page; the request's own page carries the same small form."""
    found = cr.change_request_get(request_id)
    if request.method == "GET":
        form = RequestScheduleForm(initial={"at": _minute(timezone.now())}, auto_id="cr-sched-%s")
        return respond(request, REQUEST_TEMPLATE, request_context(found, form), partial="form")
    form = RequestScheduleForm(request.POST, auto_id="cr-sched-%s")
    status = 400
    if form.is_valid():
        try:
            schedule = schedules.schedule_change_request(
                request_id=found.pk,
                at=form.cleaned_data["at"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ApplicationError as error:
            if error.status_code == 404:
                raise
            form.add_error("at" if error.field == "at" else None, error.message)
            status = error.status_code
        else:
            notice = Notice(
                "success",
                f"Scheduled change request #{found.pk} to be applied at "
                f"{form.cleaned_data['at']:%Y-%m-%d %H:%M} UTC (schedule #{schedule.pk}).",
            )
            return created(request, schedule, notice)
    context = request_context(found, form)
    return respond(request, REQUEST_TEMPLATE, context, partial="form", status=status)
