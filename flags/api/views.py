"""The flags API: reads for operators and services, writes for operators, evaluation
from the in-memory snapshot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Conflict
from core.request_meta import client_ip, if_match_version
from flags import change_requests, counters, explain, selectors, services
from flags.api.change_requests import ChangeRequestSerializer, change_request_json
from flags.api.serializers import (
    EvaluateSerializer,
    FlagConflictSerializer,
    FlagDetailSerializer,
    FlagListSerializer,
    FlagWriteSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    flag_json,
    model_errors_as_api,
)
from flags.models import Flag
from flags.snapshot import get_snapshot
from operators.permissions import IsOperator, operator_or_scope

CanReadFlags = operator_or_scope("flags:read")
CanEvaluateFlags = operator_or_scope("flags:evaluate")


def etag_of(flag: Flag) -> str:
    return f'"{flag.version}"'


def _with_etag(response: Response, flag: Flag) -> Response:
    response["ETag"] = etag_of(flag)
    return response


def _validated(serializer_class: type, data: Any, **kwargs: Any) -> Any:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


class _ModelErrorsAsFields:
    """Service-side model validation (full_clean) answered as a 400 naming API fields."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
            exc = ValidationError(model_errors_as_api(exc))
        return super().handle_exception(exc)  # type: ignore[misc]


class FlagListView(_ModelErrorsAsFields, APIView):
    def get_permissions(self) -> list[Any]:
        return [IsOperator()] if self.request.method == "POST" else [CanReadFlags()]

    @extend_schema(
        summary="List flags",
        parameters=[OpenApiParameter("search", str, description="In key or description.")],
        responses=FlagListSerializer,
    )
    def get(self, request: Request) -> Response:
        flags = selectors.flag_list(search=request.query_params.get("search", ""))
        return Response({"results": [flag_json(f) for f in flags]})

    @extend_schema(
        summary="Create a flag", request=FlagWriteSerializer, responses={201: FlagDetailSerializer}
    )
    def post(self, request: Request) -> Response:
        body = _validated(FlagWriteSerializer, request.data)
        flag = services.flag_create(
            key=body.validated_data["key"],
            actor=request.user,
            ip=client_ip(request),
            **body.service_fields(),
        )
        return _with_etag(
            Response(flag_json(flag, with_history=True), status=status.HTTP_201_CREATED), flag
        )


class FlagDetailView(_ModelErrorsAsFields, APIView):
    def get_permissions(self) -> list[Any]:
        return [CanReadFlags()] if self.request.method == "GET" else [IsOperator()]

    @extend_schema(
        summary="A flag with its history", responses=FlagDetailSerializer, operation_id="flag_get"
    )
    def get(self, request: Request, key: str) -> Response:
        flag = selectors.flag_get(key=key)
        return _with_etag(Response(flag_json(flag, with_history=True)), flag)

    @extend_schema(
        summary="Change a flag",
        request=FlagWriteSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
        responses={
            200: FlagDetailSerializer,
            202: OpenApiResponse(
                ChangeRequestSerializer,
                "Touches an environment whose policy asks for approvals: nothing was "
                "written; this change request was made instead.",
            ),
            409: OpenApiResponse(FlagConflictSerializer, "Changed since your version."),
            428: OpenApiResponse(description="No version given."),
        },
    )
    def patch(self, request: Request, key: str) -> Response:
        """A change based on a version: `If-Match: "<version>"` or a `version` field.
        Without one it is refused (428), so nobody overwrites a change they never saw."""
        selectors.flag_get(key=key)  # an unknown key is a 404 before anything else
        body = _validated(FlagWriteSerializer, {**_as_dict(request.data), "key": key}, partial=True)
        expected = _expected_version(request, body.validated_data.get("version"))
        try:
            outcome = change_requests.flag_change(
                key=key,
                expected_version=expected,
                actor=request.user,
                ip=client_ip(request),
                **body.service_fields(),
            )
        except Conflict as conflict:
            latest = selectors.flag_get(key=key)
            return _with_etag(
                Response(
                    {"detail": conflict.message, "current": flag_json(latest, with_history=True)},
                    status=status.HTTP_409_CONFLICT,
                ),
                latest,
            )
        flag = outcome.flag
        if outcome.change_request is not None:
            # Held for approval: nothing was written, the flag keeps its ETag.
            proposal = change_request_json(outcome.change_request)
            return _with_etag(Response(proposal, status=status.HTTP_202_ACCEPTED), flag)
        return _with_etag(Response(flag_json(flag, with_history=True)), flag)

    @extend_schema(summary="Delete a flag (its key is retired)", responses={204: None})
    def delete(self, request: Request, key: str) -> Response:
        services.flag_delete(key=key, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlagKillView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(summary="Kill switch: off and 0 %", request=None, responses=FlagDetailSerializer)
    def post(self, request: Request, key: str) -> Response:
        flag = services.flag_kill(key=key, actor=request.user, ip=client_ip(request))
        flag = selectors.flag_get(key=flag.key)
        return _with_etag(Response(flag_json(flag, with_history=True)), flag)


# Keyed by flag key, so a map (additionalProperties), not an object with named fields.
EVALUATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "boolean", "description": "Without explain: on or off."},
            {
                "type": "object",
                "description": "With explain.",
                "properties": {
                    "value": {"type": "boolean"},
                    "reason": {
                        "type": "string",
                        "enum": ["DISABLED", "STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT"],
                    },
                    "detail": {"type": "object", "additionalProperties": True},
                },
                "required": ["value", "reason", "detail"],
            },
        ]
    },
    "example": {"saml_sso": True, "passkey_login": False},
}


class EvaluateView(APIView):
    """`{key: bool}` for one tenant; with `explain`, `{key: {"value", "reason", "detail"}}`
    (the rule that decided: the scope lists and which failed, bucket and pct)."""

    permission_classes = [CanEvaluateFlags]

    @extend_schema(
        summary="Evaluate every flag for a tenant",
        request=EvaluateSerializer,
        responses={
            200: OpenApiResponse(
                EVALUATION_SCHEMA,
                "{key: bool}, or {key: {value, reason, detail}} with explain.",
            ),
            404: OpenApiResponse(description="Unknown or deleted tenant."),
        },
    )
    def post(self, request: Request) -> Response:
        body = evaluate_body(request.data)
        if body["explain"]:
            results = explained_for_tenant(
                tenant_slug=body["tenantSlug"], environment=body.get("environment")
            )
            counters.record_results(results.values())
            return Response(
                {
                    k: {"value": e.value, "reason": e.reason, "detail": e.as_json()}
                    for k, e in results.items()
                }
            )
        found = selectors.flags_for_tenant(
            tenant_slug=body["tenantSlug"], environment=body.get("environment")
        )
        # Counted once for the request, not per flag; in memory, no query (flags.counters).
        counters.record_evaluation(found.flags, found.ctx, found.answers)
        return Response(found.answers)


class PreviewView(APIView):
    """What a proposed flag would do to the real tenants, before it is saved."""

    permission_classes = [IsOperator]

    @extend_schema(
        summary="Preview a flag on the real tenants",
        request=PreviewSerializer,
        responses=PreviewResultSerializer,
    )
    def post(self, request: Request) -> Response:
        body = _validated(PreviewSerializer, _as_dict(request.data)).validated_data
        preview = selectors.flag_preview(
            key=body["key"],
            state=body["state"],
            pct=body["pct"],
            scope=body["scope"],
            environment=body.get("environment"),
        )
        return Response(
            {
                "key": body["key"],
                "environment": preview.environment,
                "on": preview.on,
                "total": preview.total,
                "turned_on": preview.turned_on,
                "turned_off": preview.turned_off,
            }
        )


def explained_for_tenant(
    *, tenant_slug: str, environment: str | None
) -> dict[str, explain.Explanation]:
    """Every flag for one live tenant with the rule that decided it, from the same
    snapshot as the plain answer (and the same 404 for an unknown or deleted tenant)."""
    snapshot = get_snapshot()
    tenant = selectors.tenant_in_snapshot(snapshot, tenant_slug)
    ctx = tenant.context(environment or settings.DEZKY_ENVIRONMENT)
    return {flag.key: explain.explain(flag, ctx) for flag in snapshot.flags}


def evaluate_body(data: Any) -> dict[str, Any]:
    """The evaluate body, checked by hand: this is the hot path, and a DRF serializer
    (which deep-copies its fields per request) costs more than the evaluation itself.
    The errors are the ones EvaluateSerializer (the documented shape) would give."""
    data = _as_dict(data)
    errors: dict[str, list[str]] = {}
    slug = data.get("tenantSlug")
    if slug is None:
        errors["tenantSlug"] = ["This field is required."]
    elif not isinstance(slug, str) or not slug.strip() or len(slug) > 63:
        errors["tenantSlug"] = ["A tenant slug: a non-empty string of at most 63 characters."]
    environment = data.get("environment")
    if environment is not None and environment not in settings.ENVIRONMENTS:
        errors["environment"] = [f'"{environment}" is not a valid choice.']
    explain = data.get("explain", False)
    if not isinstance(explain, bool):
        errors["explain"] = ["Must be a valid boolean."]
    if errors:
        raise ValidationError(errors)
    return {"tenantSlug": slug, "environment": environment, "explain": explain}


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return data


def _expected_version(request: Request, body_version: int | None) -> int:
    try:
        version = if_match_version(request.headers.get("If-Match", ""))
    except ValueError:
        raise ValidationError({"If-Match": ['Use the flag\'s ETag, e.g. "3".']}) from None
    if version is not None:
        return version
    if body_version is not None:
        return body_version
    raise PreconditionRequired()


class PreconditionRequired(ValidationError):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED

    def __init__(self) -> None:
        super().__init__(
            {
                "version": [
                    "Say which version you changed: send If-Match with the flag's ETag "
                    "or a version field."
                ]
            }
        )
