"""The change-requests API: propose, read, edit, approve, reject, withdraw and apply
flag changes that the approval policy holds for a second operator. Operators only;
service tokens never write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.request_meta import client_ip, if_match_version
from flags import change_requests as cr
from flags import selectors
from flags.api.serializers import FlagWriteSerializer
from flags.models import ChangeRequestState, FlagChangeRequest
from operators.permissions import IsOperator


class ChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ChangeRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    flag = serializers.CharField(help_text="The flag's key.")
    title = serializers.CharField()
    # A plain string: a second enum named "state" would collide with the flag's.
    state = serializers.CharField(help_text="open, approved, rejected, applied or withdrawn")
    changes = serializers.DictField(
        child=ChangeSerializer(), help_text='{"field": {"before": ..., "after": ...}}'
    )
    base_version = serializers.IntegerField()
    author = serializers.CharField(help_text="The author's email.")
    approvals = serializers.ListField(child=serializers.CharField(), help_text="Approvers' emails.")
    approvals_required = serializers.IntegerField(help_text="Under the policy as it is now.")
    closed_by = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    applied_version = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ChangeRequestListSerializer(serializers.Serializer):
    results = ChangeRequestSerializer(many=True)


class ProposeSerializer(FlagWriteSerializer):
    """The flag's new values (as in PATCH /api/flags/{key}/) and a title."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def service_fields(self) -> dict[str, Any]:
        data = super().service_fields()
        data.pop("title", None)
        return data


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


def change_request_json(request: FlagChangeRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "flag": request.flag.key,
        "title": request.title,
        "state": request.state,
        "changes": _api_changes(request.changes),
        "base_version": request.base_version,
        "author": request.author_email,
        "approvals": [a.approver_email for a in request.approvals.all()],
        "approvals_required": cr.requirement_of(request).approvals,
        "closed_by": request.closed_by_email,
        "reason": request.reason,
        "applied_version": request.applied_version,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


def _api_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Field names in the API's words (scope.environments), as the flag's PATCH takes them."""
    return {
        (f"scope.{f.removeprefix('scope_')}" if f.startswith("scope_") else f): change
        for f, change in changes.items()
    }


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    return data


def _get(request_id: int) -> FlagChangeRequest:
    found = (
        FlagChangeRequest.objects.select_related("flag")
        .prefetch_related("approvals")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound(f"There is no change request #{request_id}.")
    return found


def _answer(request_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(change_request_json(_get(request_id)), status=code)


class FlagChangeRequestsView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="A flag's change requests",
        parameters=[OpenApiParameter("state", str, enum=ChangeRequestState.values)],
        responses=ChangeRequestListSerializer,
        operation_id="flag_change_requests_list",
    )
    def get(self, request: Request, key: str) -> Response:
        flag = selectors.flag_get(key=key)
        found = flag.change_requests.select_related("flag").prefetch_related("approvals")
        wanted = request.query_params.get("state", "")
        if wanted:
            if wanted not in ChangeRequestState.values:
                raise serializers.ValidationError(
                    {"state": [f"Use one of {', '.join(ChangeRequestState.values)}."]}
                )
            found = found.filter(state=wanted)
        return Response({"results": [change_request_json(r) for r in found]})

    @extend_schema(
        summary="Propose a change of a flag",
        description="Makes a change request even where the policy would let the change be "
        "written directly. `version` (or If-Match) is the version the change is based on.",
        request=ProposeSerializer,
        responses={
            201: ChangeRequestSerializer,
            409: OpenApiResponse(description="The flag changed since your version."),
        },
    )
    def post(self, request: Request, key: str) -> Response:
        selectors.flag_get(key=key)
        body = ProposeSerializer(data={**_as_dict(request.data), "key": key}, partial=True)
        body.is_valid(raise_exception=True)
        try:
            header = if_match_version(request.headers.get("If-Match", ""))
        except ValueError:
            raise ValidationError({"If-Match": ['Use the flag\'s ETag, e.g. "3".']}) from None
        version = header if header is not None else body.validated_data.get("version")
        created = cr.change_request_create(
            key=key,
            actor=request.user,
            ip=client_ip(request),
            base_version=version,
            title=body.validated_data.get("title", ""),
            **body.service_fields(),
        )
        return _answer(created.pk, status.HTTP_201_CREATED)


class ChangeRequestDetailView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="A change request",
        responses=ChangeRequestSerializer,
        operation_id="flag_change_request_get",
    )
    def get(self, request: Request, request_id: int) -> Response:
        return _answer(request_id)

    @extend_schema(
        summary="Edit a change request (its author only)",
        description="The given values replace the proposed ones; the diff is taken again "
        "against the flag as it is now, which becomes the base version. Every approval is "
        "dropped.",
        request=ProposeSerializer,
        responses={
            200: ChangeRequestSerializer,
            403: OpenApiResponse(description="Not the author."),
            409: OpenApiResponse(description="The request is closed."),
        },
    )
    def patch(self, request: Request, request_id: int) -> Response:
        found = _get(request_id)
        data = {**_as_dict(request.data), "key": found.flag.key}
        body = ProposeSerializer(data=data, partial=True)
        body.is_valid(raise_exception=True)
        cr.change_request_edit(
            request_id=request_id,
            actor=request.user,
            ip=client_ip(request),
            title=body.validated_data.get("title"),
            **body.service_fields(),
        )
        return _answer(request_id)


def _action_view(name: str, summary: str, service: Any, body: type | None = None) -> type:
    class ActionView(APIView):
        permission_classes = [IsOperator]

        @extend_schema(
            summary=summary,
            request=body,
            responses={
                200: ChangeRequestSerializer,
                403: OpenApiResponse(description="Not allowed for you (e.g. your own request)."),
                409: OpenApiResponse(description="Closed, too few approvals, or a newer flag."),
            },
            operation_id=f"flag_change_request_{name}",
        )
        def post(self, request: Request, request_id: int) -> Response:
            extra: dict[str, Any] = {}
            if body is not None:
                checked = body(data=_as_dict(request.data or {}))
                checked.is_valid(raise_exception=True)
                extra = dict(checked.validated_data)
            service(request_id=request_id, actor=request.user, ip=client_ip(request), **extra)
            return _answer(request_id)

    ActionView.__name__ = f"ChangeRequest{name.title()}View"
    return ActionView


ApproveView = _action_view("approve", "Approve a change request", cr.change_request_approve)
RejectView = _action_view(
    "reject", "Reject a change request", cr.change_request_reject, RejectSerializer
)
ApplyView = _action_view(
    "apply",
    "Apply a change request (approvals are counted under the policy as it is now)",
    cr.change_request_apply,
)
WithdrawView = _action_view(
    "withdraw", "Withdraw a change request (its author only)", cr.change_request_withdraw
)
