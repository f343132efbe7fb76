from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from core.admin_audit import ReadOnlyAdmin, ReadOnlyInline, ServiceBackedAdmin, actor_and_ip
from core.errors import ApplicationError
from core.forms import StringListField
from tenants import services
from tenants.models import (
    MemberInvite,
    Membership,
    Partner,
    ProvisioningState,
    Tenant,
    TenantStatus,
)


@admin.register(Partner)
class PartnerAdmin(ServiceBackedAdmin):
    list_display = ("name", "slug", "tenant_count", "created_at")
    search_fields = ("slug", "name")
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return super().get_queryset(request).annotate(num_tenants=Count("tenants"))

    @admin.display(description="tenants", ordering="num_tenants")
    def tenant_count(self, obj: Partner) -> int:
        return obj.num_tenants

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("slug", "created_at", "updated_at") if obj else ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants point at partners; a partner is renamed, not removed

    def editable_fields(self) -> tuple[str, ...]:
        return services.PARTNER_EDITABLE_FIELDS

    def create_via_service(self, request: HttpRequest, data: dict[str, Any]) -> Partner:
        return services.partner_create(
            slug=data["slug"], name=data["name"], **actor_and_ip(request)
        )

    def update_via_service(
        self, request: HttpRequest, obj: Partner, changes: dict, form: Any
    ) -> Partner:
        return services.partner_update(partner=obj, **changes, **actor_and_ip(request))


class ProvisioningInline(ReadOnlyInline):
    model = ProvisioningState
    fields = ("integration", "state", "last_error", "updated_at")


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")


class TenantAdminForm(forms.ModelForm):
    domains = StringListField(help_text="Mail domains, primary first; one per line.")

    class Meta:
        model = Tenant
        fields = ("slug", "name", "plan", "domains", "partner", "billing_email")


@admin.register(Tenant)
class TenantAdmin(ServiceBackedAdmin):
    form = TenantAdminForm
    list_display = ("slug", "name", "status", "plan", "partner", "primary_domain", "created_at")
    list_filter = ("status", "plan", "partner")
    search_fields = ("slug", "name", "billing_email")
    list_select_related = ("partner",)
    date_hierarchy = "created_at"
    inlines = (ProvisioningInline, MembershipInline)
    actions = ("soft_delete", "restore")
    fields = (
        "slug",
        "name",
        "status",
        "plan",
        "domains",
        "partner",
        "billing_email",
        "created_at",
        "updated_at",
        "deleted_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Status moves only through lifecycle actions (suspend, resume, delete, restore).
        fixed = ("status", "created_at", "updated_at", "deleted_at")
        return ("slug", *fixed) if obj else fixed

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # soft delete is the action below; rows are never removed here

    def editable_fields(self) -> tuple[str, ...]:
        return services.TENANT_EDITABLE_FIELDS

    def create_via_service(self, request: HttpRequest, data: dict[str, Any]) -> Tenant:
        return services.tenant_create(
            slug=data["slug"],
            name=data["name"],
            plan=data["plan"],
            domains=data.get("domains") or [],
            partner=data.get("partner"),
            billing_email=data.get("billing_email", ""),
            **actor_and_ip(request),
        )

    def update_via_service(
        self, request: HttpRequest, obj: Tenant, changes: dict, form: Any
    ) -> Tenant:
        return services.tenant_update(tenant=obj, **changes, **actor_and_ip(request))

    @admin.action(description="Soft-delete selected tenants")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._run_each(
            request,
            queryset.exclude(status=TenantStatus.DELETED),
            "deleted",
            services.tenant_soft_delete,
        )

    @admin.action(description="Restore selected deleted tenants (they come back suspended)")
    def restore(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._run_each(
            request,
            queryset.filter(status=TenantStatus.DELETED),
            "restored",
            services.tenant_restore,
        )

    def _run_each(
        self, request: HttpRequest, queryset: QuerySet[Tenant], verb: str, service: Any
    ) -> None:
        done = 0
        for tenant in queryset:
            try:
                service(tenant=tenant, **actor_and_ip(request))
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, level=messages.WARNING)
        self.message_user(request, f"{done} tenant(s) {verb}.", level=messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "user__name", "tenant__slug", "tenant__name")
    list_select_related = ("user", "tenant")
    autocomplete_fields = ("user", "tenant")
    fields = ("tenant", "user", "role")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("tenant", "user") if obj else ()

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        saved = services.membership_set(
            tenant=obj.tenant, user=obj.user, role=obj.role, **actor_and_ip(request)
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(membership=obj, **actor_and_ip(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("tenant", "user"):
            services.membership_remove(membership=membership, **actor_and_ip(request))


@admin.register(ProvisioningState)
class ProvisioningStateAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "integration", "state", "updated_at", "last_error")
    list_filter = ("integration", "state")
    search_fields = ("tenant__slug", "tenant__name", "last_error")
    list_select_related = ("tenant",)


@admin.register(MemberInvite)
class MemberInviteAdmin(ReadOnlyAdmin):
    """Tenant-member invites and how far each got; retried from the tenant's Users tab."""

    list_display = ("email", "tenant", "role", "state", "directory", "handoff",
                    "invited_by_email", "created_at", "last_error")  # fmt: skip
    list_filter = ("state", "directory", "role")
    search_fields = ("email", "name", "tenant__slug", "invited_by_email")
