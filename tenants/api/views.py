"""The tenants API.

Reads: operators, services with `tenants:read`, and signed-in members of the tenant
(a 404 for any other tenant, so slugs do not leak). Writes and lifecycle actions:
operators only. Refusals come from the services as ApplicationError (409 for the
lifecycle rules), mapped once in core.api_errors.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.request_meta import client_ip
from operators.permissions import IsOperator, TenantReader, operator_or_scope
from tenants import selectors, services
from tenants.api.serializers import (
    MemberSerializer,
    PartnerSerializer,
    ReconcileSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)
from tenants.reconcile import tenant_reconcile

OperatorOrTenantsRead = operator_or_scope(selectors.TENANTS_READ_SCOPE)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class TenantListView(APIView):
    permission_classes = [TenantReader]

    @extend_schema(
        summary="List tenants (newest first)",
        parameters=[
            OpenApiParameter("status", str, enum=["pending", "active", "suspended", "deleted"]),
            OpenApiParameter("plan", str),
            OpenApiParameter("partner", str, description="Partner slug."),
            OpenApiParameter("search", str, description="In slug or name."),
            OpenApiParameter("include_deleted", bool, description="Operators and services."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=TenantSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        q = request.query_params
        tenants = selectors.tenant_list(
            user=request.user,
            status=q.get("status", ""),
            plan=q.get("plan", ""),
            partner=q.get("partner", ""),
            search=q.get("search", "")[:100],
            include_deleted=_flag(q.get("include_deleted")),
        )
        paginator = Pages()
        page = paginator.paginate_queryset(tenants, request, view=self)
        return paginator.get_paginated_response(TenantSerializer(page, many=True).data)


class TenantDetailView(APIView):
    def get_permissions(self) -> list[Any]:
        return [TenantReader()] if self.request.method == "GET" else [IsOperator()]

    @extend_schema(summary="A tenant", responses=TenantSerializer, operation_id="tenant_get")
    def get(self, request: Request, slug: str) -> Response:
        return Response(TenantSerializer(selectors.tenant_get(user=request.user, slug=slug)).data)

    @extend_schema(
        summary="Change a tenant's name, plan, billing email or domains (operators)",
        request=TenantUpdateSerializer,
        responses=TenantSerializer,
    )
    def patch(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        body = TenantUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.tenant_update(
            tenant=tenant, actor=request.user, ip=client_ip(request), **body.validated_data
        )
        return Response(TenantSerializer(selectors.tenant_get(user=request.user, slug=slug)).data)

    @extend_schema(
        summary="Soft-delete a tenant (restorable from the admin; operators)",
        responses={204: None},
    )
    def delete(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        services.tenant_soft_delete(tenant=tenant, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantUsersView(APIView):
    permission_classes = [TenantReader]

    @extend_schema(
        summary="The tenant's members, most recent sign-in first",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=MemberSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        paginator = Pages()
        page = paginator.paginate_queryset(
            selectors.tenant_members(tenant=tenant), request, view=self
        )
        return paginator.get_paginated_response(MemberSerializer(page, many=True).data)


class TenantLifecycleView(APIView):
    """POST /suspend/ and /resume/: a 409 says why when the tenant's status forbids it."""

    permission_classes = [IsOperator]
    action = ""
    services = {"suspend": services.tenant_suspend, "resume": services.tenant_resume}

    @extend_schema(request=None, responses=TenantSerializer)
    def post(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        self.services[self.action](tenant=tenant, actor=request.user, ip=client_ip(request))
        return Response(TenantSerializer(selectors.tenant_get(user=request.user, slug=slug)).data)


class TenantReconcileView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Reconcile provisioning on every integration (409 while one is running)",
        request=None,
        responses=ReconcileSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        outcomes = tenant_reconcile(tenant=tenant, actor=request.user, ip=client_ip(request))
        fresh = selectors.tenant_get(user=request.user, slug=slug)
        return Response(
            {
                "results": [
                    {"integration": o.integration, "state": o.state, "error": o.error}
                    for o in outcomes
                ],
                "tenant": TenantSerializer(fresh).data,
            }
        )


class PartnerListView(APIView):
    permission_classes = [OperatorOrTenantsRead]

    @extend_schema(
        summary="List partners",
        parameters=[OpenApiParameter("search", str, description="In slug or name.")],
        responses=PartnerSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        partners = selectors.partner_list(search=request.query_params.get("search", "")[:100])
        paginator = Pages()
        page = paginator.paginate_queryset(partners, request, view=self)
        return paginator.get_paginated_response(PartnerSerializer(page, many=True).data)


class PartnerDetailView(APIView):
    permission_classes = [OperatorOrTenantsRead]

    @extend_schema(summary="A partner", responses=PartnerSerializer, operation_id="partner_get")
    def get(self, request: Request, slug: str) -> Response:
        return Response(PartnerSerializer(selectors.partner_get(slug=slug)).data)
