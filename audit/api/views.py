"""`GET /api/audit/events/`: the audit log for operators and for services whose
credential carries `audit:read`, with the audit page's filters as query parameters
and keyset (cursor) pages, newest first. A bad filter is a 400 naming the field."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import selectors
from audit.api.serializers import AuditEventPageSerializer, AuditEventSerializer
from audit.forms import AuditFilterForm
from operators.models import TokenScope
from operators.permissions import operator_or_scope

OperatorOrAuditRead = operator_or_scope(TokenScope.AUDIT_READ.value)
MAX_PAGE_SIZE = 200


def _page_size(value: str | None) -> int:
    if value in (None, ""):
        return selectors.PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(value)


class AuditEventListView(APIView):
    permission_classes = [OperatorOrAuditRead]

    @extend_schema(
        summary="List audit events (newest first, keyset pages)",
        parameters=[
            OpenApiParameter("actor", str, description='An email, or "system".'),
            OpenApiParameter(
                "action", str, description='An action code, or "kind:<kind>" (e.g. kind:Tenants).'
            ),
            OpenApiParameter("tenant", str, description="A tenant's slug."),
            OpenApiParameter("target_type", str),
            OpenApiParameter("target_id", str),
            OpenApiParameter("target", str, description="Text in the target's name."),
            OpenApiParameter("since", str, description="From this date (YYYY-MM-DD, UTC)."),
            OpenApiParameter("until", str, description="Up to this date, included."),
            OpenApiParameter("q", str, description="Text in actor email, target or action."),
            OpenApiParameter("cursor", str, description="From a previous page's `cursor`."),
            OpenApiParameter("page_size", int, description=f"1 to {MAX_PAGE_SIZE}; 50."),
        ],
        responses=AuditEventPageSerializer,
    )
    def get(self, request: Request) -> Response:
        size = _page_size(request.query_params.get("page_size"))
        form = AuditFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        page = selectors.audit_page(form.filters(), form.cleaned_data["cursor"], size=size)
        cursor = page.older.token if page.older else None
        next_url = None
        if cursor:
            query = request.query_params.copy()
            query["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "next": next_url,
                "cursor": cursor,
                "searched": list(page.searched) if page.searched else None,
                "results": AuditEventSerializer(page.rows, many=True).data,
            }
        )
