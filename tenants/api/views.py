"""The tenants API.

Reads: operators, services with `tenants:read`, and signed-in members of the tenant
(a 404 for any other tenant, so slugs do not leak). Writes and lifecycle actions:
operators only. Refusals come from the services as ApplicationError (409 for the
lifecycle rules), mapped once in core.api_errors.

Members: inviting one (POST .../members/invite/), changing a role (PATCH
.../members/{user_id}/) and removing one (DELETE), operators only, through the
services of tenants/members.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.request_meta import client_ip
from operators.permissions import IsOperator, TenantReader, operator_or_scope
from tenants import selectors, services
from tenants.api.serializers import (
    MemberInviteResultSerializer,
    MemberInviteSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    PartnerSerializer,
    ReconcileSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)
from tenants.members import member_invite, member_remove, member_set_role
from tenants.models import Membership, Plan, TenantStatus
from tenants.reconcile import tenant_reconcile

OperatorOrTenantsRead = operator_or_scope(selectors.TENANTS_READ_SCOPE)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class TenantListView(APIView):
    pagination_class = Pages  # so the schema documents the page object
    permission_classes = [TenantReader]

    @extend_schema(
        summary="List tenants (newest first)",
        parameters=[
            OpenApiParameter("status", str, enum=["pending", "active", "suspended", "deleted"]),
            OpenApiParameter("plan", str, enum=list(Plan.values)),
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
            status=_choice(q, "status", TenantStatus.values),
            plan=_choice(q, "plan", Plan.values),
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
    pagination_class = Pages  # so the schema documents the page object
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
    pagination_class = Pages  # so the schema documents the page object
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


class TenantMemberInviteView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Invite a member into a tenant (operators)",
        request=MemberInviteSerializer,
        responses={
            201: OpenApiResponse(MemberInviteResultSerializer, "A new account and its credential."),
            200: OpenApiResponse(
                MemberInviteResultSerializer,
                "The person had an account already: it was added, no credential.",
            ),
            400: OpenApiResponse(description="A bad field, named."),
            404: OpenApiResponse(description="No such tenant."),
            409: OpenApiResponse(description="An operator, a member already, or a deleted tenant."),
            429: OpenApiResponse(description="Too many invites this minute."),
            502: OpenApiResponse(description="Authentik failed; the invite was kept for a retry."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        body = MemberInviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = member_invite(tenant=tenant, actor=request.user, ip=client_ip(request),
                               **body.validated_data)  # fmt: skip
        payload: dict[str, Any] = {
            "user_id": result.user_id,
            "email": result.email,
            "role": result.role,
            "tenant": result.tenant_slug,
            "handoff": result.handoff,
        }
        if result.link:
            payload["link"] = result.link
        elif result.temp_password:
            payload["temp_password"] = result.temp_password
        code = status.HTTP_200_OK if result.existing_account else status.HTTP_201_CREATED
        response = Response(payload, status=code)
        response["Cache-Control"] = "no-store"  # a credential: no cache may keep it
        return response


class TenantMemberView(APIView):
    permission_classes = [IsOperator]

    def _membership(self, request: Request, slug: str, user_id: int) -> Membership:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        membership = (
            Membership.objects.select_related("user", "tenant")
            .filter(tenant=tenant, user_id=user_id)
            .first()
        )
        if membership is None:
            raise NotFound(f"User {user_id} is not a member of {tenant.slug}.")
        return membership

    @extend_schema(
        summary="Change a member's role (operators; the last owner cannot be demoted)",
        request=MemberRoleSerializer,
        responses={
            200: MemberSerializer,
            400: OpenApiResponse(description="A bad field, named."),
            404: OpenApiResponse(description="No such tenant or member."),
            409: OpenApiResponse(description="The last owner cannot be demoted."),
        },
    )
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        membership = self._membership(request, slug, user_id)
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fresh, _ = member_set_role(membership=membership, role=body.validated_data["role"],
                                   actor=request.user, ip=client_ip(request))  # fmt: skip
        return Response(MemberSerializer(fresh).data)

    @extend_schema(
        summary="Remove a member (operators; out of the tenant's Authentik group too)",
        responses={
            204: None,
            404: OpenApiResponse(description="No such tenant or member."),
            409: OpenApiResponse(description="The last owner cannot be removed."),
            502: OpenApiResponse(description="Authentik failed; nothing was changed."),
        },
    )
    def delete(self, request: Request, slug: str, user_id: int) -> Response:
        membership = self._membership(request, slug, user_id)
        member_remove(membership=membership, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _choice(query: Any, name: str, allowed: list[str]) -> str:
    """A filter that takes one of a fixed set of values: anything else is a 400
    naming it, not an empty list that looks like an answer."""
    value = query.get(name, "")
    if value and value not in allowed:
        raise ValidationError({name: [f"Use one of: {', '.join(allowed)}."]})
    return value
