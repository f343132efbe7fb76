"""OpenFeature Remote Evaluation Protocol (OFREP) v1, so any OpenFeature SDK can read
Dezky flags: POST /ofrep/v1/evaluate/flags/{key} and POST /ofrep/v1/evaluate/flags.

The context's `targetingKey` is the tenant's slug; an optional `environment`
property picks dev/staging/prod. An unknown (or deleted) tenant is an
INVALID_CONTEXT error, not a silent default: a service asking about a tenant
that does not exist has a bug worth seeing. Flags are booleans, variants "on"/"off".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flags import counters, engine
from flags.api.views import CanEvaluateFlags
from flags.snapshot import get_snapshot

PARSE_ERROR = "PARSE_ERROR"
TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
INVALID_CONTEXT = "INVALID_CONTEXT"
FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
GENERAL = "GENERAL"


class OfrepError(Exception):
    def __init__(self, code: str, details: str, http_status: int = 400) -> None:
        super().__init__(details)
        self.code, self.details, self.http_status = code, details, http_status


class _OfrepView(APIView):
    permission_classes = [CanEvaluateFlags]

    def handle_exception(self, exc: Exception) -> Response:
        # The protocol says 401 and 403 carry no body; providers read the status only.
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = Response(status=status.HTTP_401_UNAUTHORIZED)
            response["WWW-Authenticate"] = self.get_authenticate_header(self.request) or "Bearer"
            return response
        if isinstance(exc, exceptions.PermissionDenied):
            return Response(status=status.HTTP_403_FORBIDDEN)
        if isinstance(exc, exceptions.UnsupportedMediaType):
            # Not a status the protocol knows: a body that is not JSON is a PARSE_ERROR.
            body = {"errorCode": PARSE_ERROR, "errorDetails": "Send the body as application/json."}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, exceptions.APIException):
            # Any other refusal (405, 429, ...) in the protocol's error shape, not DRF's.
            body = {"errorCode": GENERAL, "errorDetails": str(exc.detail)}
            response = Response(body, status=exc.status_code)
            if isinstance(exc, exceptions.MethodNotAllowed):
                response["Allow"] = ", ".join(self.allowed_methods)
            return response
        return super().handle_exception(exc)

    def context_of(self, request: Request) -> engine.TenantContext:
        try:
            body = request.data
        except exceptions.ParseError as exc:
            raise OfrepError(PARSE_ERROR, f"The body is not valid JSON: {exc.detail}") from None
        if not isinstance(body, dict):
            raise OfrepError(PARSE_ERROR, "The body must be a JSON object.")
        context = body.get("context")
        if context is None:
            raise OfrepError(TARGETING_KEY_MISSING, "No context: send context.targetingKey.")
        if not isinstance(context, dict):
            raise OfrepError(INVALID_CONTEXT, "context must be an object.")
        slug = context.get("targetingKey")
        if slug is None or slug == "":
            raise OfrepError(
                TARGETING_KEY_MISSING, "context.targetingKey (the tenant slug) is missing."
            )
        if not isinstance(slug, str):
            raise OfrepError(INVALID_CONTEXT, "context.targetingKey must be a string.")
        environment = context.get("environment", settings.DEZKY_ENVIRONMENT)
        if environment not in settings.ENVIRONMENTS:
            raise OfrepError(
                INVALID_CONTEXT,
                f"context.environment must be one of {', '.join(settings.ENVIRONMENTS)}.",
            )
        tenant = get_snapshot().tenants.get(slug)
        if tenant is None:
            raise OfrepError(
                INVALID_CONTEXT, f"No tenant with the slug {slug!r} (unknown or deleted)."
            )
        return tenant.context(environment)


_REQUEST = inline_serializer(
    "OfrepEvaluationRequest",
    {"context": serializers.DictField(help_text="targetingKey = tenant slug; environment?")},
)
_SUCCESS = inline_serializer(
    "OfrepEvaluationSuccess",
    {
        "key": serializers.CharField(),
        "value": serializers.BooleanField(),
        "reason": serializers.CharField(),
        "variant": serializers.ChoiceField(choices=["on", "off"]),
        "metadata": serializers.DictField(),
    },
)
_FAILURE = inline_serializer(
    "OfrepEvaluationFailure",
    {
        "key": serializers.CharField(required=False),
        "errorCode": serializers.CharField(),
        "errorDetails": serializers.CharField(),
    },
)


def _success(result: engine.Result) -> dict[str, Any]:
    return {
        "key": result.key,
        "value": result.value,
        "reason": result.reason,
        "variant": "on" if result.value else "off",
        "metadata": {},
    }


class OfrepFlagView(_OfrepView):
    @extend_schema(
        summary="OFREP: evaluate one flag",
        request=_REQUEST,
        responses={200: _SUCCESS, 400: _FAILURE, 404: _FAILURE, 401: None, 403: None},
        operation_id="ofrep_evaluate_flag",
    )
    def post(self, request: Request, key: str) -> Response:
        try:
            ctx = self.context_of(request)
            flag = get_snapshot().flags_by_key.get(key)
            if flag is None:
                raise OfrepError(FLAG_NOT_FOUND, f"No flag with the key {key!r}.", 404)
        except OfrepError as err:
            return Response(
                {"key": key, "errorCode": err.code, "errorDetails": err.details},
                status=err.http_status,
            )
        result = engine.evaluate(flag, ctx)
        counters.record_one(result.key, result.value)  # a key of the snapshot, never the asked one
        return Response(_success(result))


class OfrepBulkView(_OfrepView):
    @extend_schema(
        summary="OFREP: evaluate every flag",
        request=_REQUEST,
        responses={
            200: inline_serializer("OfrepBulkSuccess", {"flags": _SUCCESS.__class__(many=True)}),
            304: OpenApiResponse(description="If-None-Match matched the ETag."),
            400: _FAILURE,
            401: None,
            403: None,
        },
        operation_id="ofrep_evaluate_flags",
    )
    def post(self, request: Request) -> Response:
        try:
            ctx = self.context_of(request)
        except OfrepError as err:
            return Response(
                {"errorCode": err.code, "errorDetails": err.details}, status=err.http_status
            )
        flags = get_snapshot().flags
        results = engine.explain_all(flags, ctx)
        counters.record_evaluation(flags, ctx, results)  # once per request, not per flag
        body = {"flags": [_success(r) for r in results.values()]}
        # The answer itself is the version: same flags, same tenant, same results.
        etag = (
            '"'
            + hashlib.sha256(
                json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()[:32]
            + '"'
        )
        if etag in _etags(request.headers.get("If-None-Match", "")):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response(body)
        response["ETag"] = etag
        return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
