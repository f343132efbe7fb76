"""The schedules API: make, read, pause, resume and cancel scheduled flag changes (a
change at a time, a rollout ramp, or a change request applied at a time) through the
services of flags.schedules. Operators only, as for change requests: a schedule
writes a flag later in its maker's name, and service tokens never write.

Shape errors are 400s naming the field; the services' refusals (a time that has
passed, percents that do not rise, nothing to change) are 422s with `field`, and
a schedule that cannot pause, resume or be cancelled in its state is a 409."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError, NotFound
from core.request_meta import client_ip
from flags import change_requests, schedules, selectors
from flags.api.serializers import (
    AwareDateTimeField,
    FlagValuesSerializer,
    OnlyDeclaredFields,
    model_errors_as_api,
    values_as_api,
    values_for_service,
)
from flags.models import FLAG_KEY_PATTERN, FlagSchedule, ScheduleKind, ScheduleState
from operators.permissions import IsOperator

STATE_FILTERS = ["live", "decision", *ScheduleState.values]
SEARCH_MAX = 100
MIN_HOURS = schedules.MIN_INTERVAL / timedelta(hours=1)
MAX_HOURS = schedules.MAX_INTERVAL / timedelta(hours=1)


# ------------------------------------------------------------------ shapes --


class ScheduleStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    at = serializers.DateTimeField()
    values = serializers.DictField(help_text="What the step writes, as the flag's PATCH takes it.")
    # Plain strings: a second enum named "state" would collide with the flag's.
    state = serializers.CharField(
        help_text="pending, waiting (for approval of its change request), applied, skipped, "
        "failed or cancelled"
    )
    outcome = serializers.CharField(allow_blank=True)
    change_request = serializers.IntegerField(
        allow_null=True, help_text="The change request this step proposed or applies."
    )
    applied_at = serializers.DateTimeField(allow_null=True)
    applied_version = serializers.IntegerField(allow_null=True)


class ScheduleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    flag = serializers.CharField(help_text="The flag's key.")
    kind = serializers.CharField(help_text="change, ramp or change_request")
    title = serializers.CharField()
    state = serializers.CharField(help_text="active, paused, held, done or cancelled")
    needs_decision = serializers.BooleanField(
        help_text="Held, or about to be: the flag changed since the version the next step "
        "expects. Resume keeps the schedule on top of the flag as it is now; cancel ends it."
    )
    held_reason = serializers.CharField(allow_blank=True)
    flag_version = serializers.IntegerField(help_text="The version the next step expects.")
    change_request = serializers.IntegerField(
        allow_null=True, help_text="The change request it applies (kind change_request)."
    )
    created_by = serializers.CharField(allow_blank=True, help_text="The maker's email.")
    created_at = serializers.DateTimeField()
    steps = ScheduleStepSerializer(many=True)
    next_step_at = serializers.DateTimeField(allow_null=True)


class SchedulePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ScheduleSerializer(many=True)


class HoursField(serializers.FloatField):
    """A number of hours; `true` is not one (FloatField would read it as 1)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScheduleChangeSerializer(OnlyDeclaredFields):
    """Write `values` on the flag at `at`."""

    kind = serializers.CharField(help_text="change")
    at = AwareDateTimeField(help_text="ISO 8601 with its offset.")
    values = FlagValuesSerializer(help_text="The fields to write, as in PATCH /api/flags/{key}/.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ScheduleRampSerializer(OnlyDeclaredFields):
    """State rollout at each percent in turn: the first at `start_at`, then one every
    `every_hours`."""

    kind = serializers.CharField(help_text="ramp")
    percents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=100),
        min_length=1,
        max_length=schedules.MAX_STEPS,
        help_text="Rising rollout percentages, one per step, e.g. [10, 25, 50, 100].",
    )
    start_at = AwareDateTimeField(help_text="The first step's time, ISO 8601 with its offset.")
    every_hours = HoursField(
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        help_text=f"Hours between steps, from {MIN_HOURS:.4g} (5 minutes) to {MAX_HOURS:g} "
        "(30 days); fractions allowed (0.5 is 30 minutes).",
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


ScheduleCreateSerializer = PolymorphicProxySerializer(
    component_name="ScheduleCreate",
    serializers={"change": ScheduleChangeSerializer, "ramp": ScheduleRampSerializer},
    resource_type_field_name="kind",
)


class ScheduleAtSerializer(OnlyDeclaredFields):
    """When to apply the change request."""

    at = AwareDateTimeField(help_text="When to apply it, ISO 8601 with its offset.")


def schedule_json(schedule: FlagSchedule) -> dict[str, Any]:
    """One schedule; its flag and steps already loaded (schedules.schedule_get and
    schedule_list do), so a page of them costs no query per schedule."""
    upcoming = schedules.next_step(schedule)
    return {
        "id": schedule.pk,
        "flag": schedule.flag.key,
        "kind": schedule.kind,
        "title": schedule.title,
        "state": schedule.state,
        "needs_decision": schedules.needs_decision(schedule),
        "held_reason": schedule.held_reason,
        "flag_version": schedule.flag_version,
        "change_request": schedule.change_request_id,
        "created_by": schedule.created_by_email,
        "created_at": schedule.created_at,
        "steps": [
            {
                "position": step.position,
                "at": step.at,
                "values": values_as_api(step.values),
                "state": step.state,
                "outcome": step.outcome,
                "change_request": step.change_request_id,
                "applied_at": step.applied_at,
                "applied_version": step.applied_version,
            }
            for step in schedule.steps.all()
        ],
        "next_step_at": upcoming.at if upcoming else None,
    }


# ----------------------------------------------------------------- helpers --


class SchedulePages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _answer(schedule_id: int, code: int = status.HTTP_200_OK) -> Response:
    found = ScheduleSerializer(schedule_json(schedules.schedule_get(schedule_id))).data
    return Response(found, status=code)


def _page(request: Request, view: APIView, found: Any) -> Response:
    pages = SchedulePages()
    page: list[FlagSchedule] | None = pages.paginate_queryset(found, request, view=view)
    rows = [schedule_json(s) for s in page or []]
    return pages.get_paginated_response(ScheduleSerializer(rows, many=True).data)


def _flag_key(key: str) -> str:
    """The flag of the URL, or a 404 (a string that cannot be a key never reaches the
    database: a NUL byte there is an error on PostgreSQL)."""
    if not re.fullmatch(FLAG_KEY_PATTERN, key):
        raise NotFound("There is no flag with this key.", field="key")
    return selectors.flag_get(key=key).key


def _state_filter(request: Request) -> str:
    wanted = request.query_params.get("state", "")
    if wanted and wanted not in STATE_FILTERS:
        raise serializers.ValidationError({"state": [f"Use one of {', '.join(STATE_FILTERS)}."]})
    return wanted


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return data


def _validated(serializer_class: type, data: Any) -> dict[str, Any]:
    body = serializer_class(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


STATE_PARAMETER = OpenApiParameter(
    "state",
    str,
    enum=STATE_FILTERS,
    description="live: active, paused or held; decision: held, or the flag changed since.",
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="1 to 200; 50."),
]


# ------------------------------------------------------------------- views --


class FlagSchedulesView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="A flag's schedules (newest first)",
        parameters=[STATE_PARAMETER, *PAGE_PARAMETERS],
        responses=SchedulePageSerializer,
        operation_id="flag_schedules_list",
    )
    def get(self, request: Request, key: str) -> Response:
        found = schedules.schedule_list(state=_state_filter(request), flag_key=_flag_key(key))
        return _page(request, self, found)

    @extend_schema(
        summary="Schedule a change or a rollout ramp of a flag",
        description='`{"kind": "change", "at", "values": {...}, "title"?}` writes the values '
        '(any of description, state, pct, scope) at `at`. `{"kind": "ramp", "percents", '
        '"start_at", "every_hours", "title"?}` sets state rollout at each percent in turn, the '
        "first at `start_at`, then one every `every_hours`. Each step runs through the approval "
        "policy as it is when it runs.",
        request=ScheduleCreateSerializer,
        responses={
            201: ScheduleSerializer,
            422: OpenApiResponse(
                description="Refused: a time that has passed or is over a year ahead, "
                "percents that do not rise, nothing to change (`field` names it)."
            ),
        },
        operation_id="flag_schedule_create",
    )
    def post(self, request: Request, key: str) -> Response:
        key = _flag_key(key)
        data = _as_dict(request.data)
        kind = data.get("kind")
        if kind == ScheduleKind.CHANGE:
            made = self._change(request, key, _validated(ScheduleChangeSerializer, data))
        elif kind == ScheduleKind.RAMP:
            made = self._ramp(request, key, _validated(ScheduleRampSerializer, data))
        else:
            raise serializers.ValidationError({"kind": [_kind_refused(kind)]})
        return _answer(made.pk, status.HTTP_201_CREATED)

    def _change(self, request: Request, key: str, body: dict[str, Any]) -> FlagSchedule:
        try:
            return schedules.schedule_change(
                key=key,
                at=body["at"],
                values=values_for_service(body["values"]),
                actor=request.user,
                ip=client_ip(request),
                title=body.get("title", ""),
            )
        except DjangoValidationError as error:
            raise _values_error("values", error) from None

    def _ramp(self, request: Request, key: str, body: dict[str, Any]) -> FlagSchedule:
        try:
            return schedules.schedule_ramp(
                key=key,
                percents=body["percents"],
                start_at=body["start_at"],
                every=timedelta(hours=body["every_hours"]),
                actor=request.user,
                ip=client_ip(request),
                title=body.get("title", ""),
            )
        except DjangoValidationError as error:
            raise _values_error("percents", error) from None
        except ApplicationError as error:
            if error.field == "every":  # the service's word for it
                error.field = "every_hours"
            raise


def _kind_refused(kind: Any) -> str:
    if kind is None:
        return "This field is required."
    if kind == ScheduleKind.CHANGE_REQUEST:
        return (
            "Use change or ramp. To apply a change request at a time, POST "
            '{"at"} to /api/flags/change-requests/{id}/schedule/.'
        )
    return "Use change or ramp."


def _values_error(field: str, error: DjangoValidationError) -> serializers.ValidationError:
    """The flag could not take a step's values (full_clean): a 400 under `field`."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError({field: model_errors_as_api(error)})
    return serializers.ValidationError({field: error.messages})


class ScheduleListView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Every schedule (newest first)",
        parameters=[
            STATE_PARAMETER,
            OpenApiParameter("flag", str, description="A flag's key."),
            OpenApiParameter("search", str, description="In the title or the flag's key."),
            *PAGE_PARAMETERS,
        ],
        responses=SchedulePageSerializer,
        operation_id="flag_schedules_list_all",
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        flag = query.get("flag", "")
        if flag and not re.fullmatch(FLAG_KEY_PATTERN, flag):
            raise serializers.ValidationError({"flag": ["Not a flag key."]})
        search = query.get("search", "").strip()
        if len(search) > SEARCH_MAX or "\x00" in search:
            raise serializers.ValidationError(
                {"search": [f"Up to {SEARCH_MAX} characters, without NUL bytes."]}
            )
        found = schedules.schedule_list(state=_state_filter(request), flag_key=flag, search=search)
        return _page(request, self, found)


class ScheduleDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="A schedule", responses=ScheduleSerializer, operation_id="flag_schedule_get"
    )
    def get(self, request: Request, schedule_id: int) -> Response:
        return _answer(schedule_id)


def _action_view(name: str, summary: str, service: Any, refused: str) -> type:
    class ActionView(APIView):
        permission_classes = [IsOperator]

        @extend_schema(
            summary=summary,
            request=None,
            responses={200: ScheduleSerializer, 409: OpenApiResponse(description=refused)},
            operation_id=f"flag_schedule_{name}",
        )
        def post(self, request: Request, schedule_id: int) -> Response:
            service(schedule_id=schedule_id, actor=request.user, ip=client_ip(request))
            return _answer(schedule_id)

    ActionView.__name__ = f"Schedule{name.title()}View"
    return ActionView


PauseView = _action_view(
    "pause",
    "Pause a schedule (no step runs until it is resumed)",
    schedules.schedule_pause,
    "Not active.",
)
ResumeView = _action_view(
    "resume",
    "Resume a paused or held schedule; its next steps apply on top of the flag as it is now",
    schedules.schedule_resume,
    "Neither paused, held nor waiting for a decision.",
)
CancelView = _action_view(
    "cancel",
    "Cancel a schedule for good (a change request a step proposed stays open)",
    schedules.schedule_cancel,
    "Already done or cancelled.",
)


class ChangeRequestScheduleView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Apply a change request at a time",
        description="Its approvals and the flag's version are checked when it is applied, "
        "as for an apply by hand.",
        request=ScheduleAtSerializer,
        responses={
            201: ScheduleSerializer,
            409: OpenApiResponse(description="The request is closed or already scheduled."),
            422: OpenApiResponse(description="A time that has passed or is over a year ahead."),
        },
        operation_id="flag_change_request_schedule",
    )
    def post(self, request: Request, request_id: int) -> Response:
        change_requests.change_request_get(request_id)  # an unknown one is a 404 first
        body = _validated(ScheduleAtSerializer, _as_dict(request.data))
        made = schedules.schedule_change_request(
            request_id=request_id, at=body["at"], actor=request.user, ip=client_ip(request)
        )
        return _answer(made.pk, status.HTTP_201_CREATED)
