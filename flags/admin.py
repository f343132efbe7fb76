from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_audit import ReadOnlyAdmin, ReadOnlyInline, ServiceBackedAdmin, actor_and_ip
from core.forms import StringListField
from flags import change_requests, services
from flags.models import (
    SCOPE_AXES,
    ApprovalPolicy,
    Flag,
    FlagChange,
    FlagChangeApproval,
    FlagChangeRequest,
    FlagEvaluationDay,
    FlagSchedule,
    FlagScheduleStep,
    RetiredFlagKey,
)


class FlagAdminForm(forms.ModelForm):
    scope_plans = StringListField(label="Plans")
    scope_tenant_slugs = StringListField(label="Tenant slugs")
    scope_partner_slugs = StringListField(label="Partner slugs")
    scope_environments = StringListField(label="Environments")
    # The version this form was rendered from, so a concurrent save is a conflict.
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["based_on_version"].initial = self.instance.version

    class Meta:
        model = Flag
        fields = ("key", "description", "state", "pct", *(f"scope_{a}" for a in SCOPE_AXES))


class FlagChangeInline(ReadOnlyInline):
    model = FlagChange
    fields = ("at", "actor_email", "changes")


@admin.register(Flag)
class FlagAdmin(ServiceBackedAdmin):
    form = FlagAdminForm
    list_display = ("key", "state", "pct", "scope_summary", "version", "updated_at")
    list_filter = ("state",)
    search_fields = ("key", "description")
    inlines = (FlagChangeInline,)
    fieldsets = (
        (None, {"fields": ("key", "description", "state", "pct")}),
        ("Scope (empty = axis not used)", {"fields": tuple(f"scope_{a}" for a in SCOPE_AXES)}),
        ("Bookkeeping", {"fields": ("version", "created_at", "updated_at", "based_on_version")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fixed = ("version", "created_at", "updated_at")
        return ("key", *fixed) if obj else fixed

    @admin.display(description="scope")
    def scope_summary(self, obj: Flag) -> str:
        parts = [f"{axis}: {', '.join(values)}" for axis, values in obj.scope.items() if values]
        return "; ".join(parts) or "—"

    def editable_fields(self) -> tuple[str, ...]:
        return services.FLAG_EDITABLE_FIELDS

    def create_via_service(self, request: HttpRequest, data: dict[str, Any]) -> Flag:
        fields = {f: data[f] for f in services.FLAG_EDITABLE_FIELDS if f in data}
        return services.flag_create(key=data["key"], **fields, **actor_and_ip(request))

    def update_via_service(self, request: HttpRequest, obj: Flag, changes: dict, form: Any) -> Flag:
        # The form was rendered from obj.version; a save in between is a conflict. Where
        # the approval policy asks, the change becomes a change request, as everywhere.
        outcome = change_requests.flag_change(
            key=obj.key,
            expected_version=form.cleaned_data.get("based_on_version"),
            **changes,
            **actor_and_ip(request),
        )
        if outcome.change_request is not None:
            request._flag_proposed = True  # type: ignore[attr-defined]
            self.message_user(
                request,
                f"Not saved: proposed as change request #{outcome.change_request.pk} "
                f"({change_requests.requirement_of(outcome.change_request).reason}).",
                level=messages.WARNING,
            )
        return outcome.flag

    def message_user(self, request: HttpRequest, message: Any, *args: Any, **kwargs: Any) -> None:
        # A change made into a change request changed nothing: no "changed successfully".
        level = kwargs.get("level", args[0] if args else messages.INFO)
        if getattr(request, "_flag_proposed", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, *args, **kwargs)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "_flag_proposed", False):
            return None  # nothing changed; the audit log has flags.change_requested
        return super().log_change(request, obj, message)

    def delete_model(self, request: HttpRequest, obj: Flag) -> None:
        services.flag_delete(key=obj.key, **actor_and_ip(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        for key in queryset.values_list("key", flat=True):
            services.flag_delete(key=key, **actor_and_ip(request))


@admin.register(FlagChange)
class FlagChangeAdmin(ReadOnlyAdmin):
    list_display = ("flag", "at", "actor_email")
    list_filter = ("flag",)
    search_fields = ("flag__key", "actor_email")
    list_select_related = ("flag",)


@admin.register(RetiredFlagKey)
class RetiredFlagKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "retired_at", "retired_by_email")
    search_fields = ("key",)


@admin.register(FlagEvaluationDay)
class FlagEvaluationDayAdmin(ReadOnlyAdmin):
    """Counts written by flags.counters; nobody edits them."""

    list_display = ("key", "day", "on_count", "off_count", "last_evaluated_at")
    list_filter = ("day",)
    search_fields = ("key",)
    date_hierarchy = "day"


class FlagChangeApprovalInline(ReadOnlyInline):
    model = FlagChangeApproval
    fields = ("approver_email", "at")


@admin.register(FlagChangeRequest)
class FlagChangeRequestAdmin(ReadOnlyAdmin):
    """Read-only: change requests are approved and applied on the console or the API,
    where the four-eyes rules are checked."""

    list_display = ("id", "flag", "title", "state", "author_email", "base_version", "created_at")
    list_filter = ("state",)
    search_fields = ("flag__key", "title", "author_email")
    list_select_related = ("flag",)
    inlines = (FlagChangeApprovalInline,)


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(ReadOnlyAdmin):
    """Read-only: operators set the policy on the change-requests page (audited)."""

    list_display = ("environment", "approvals_required", "updated_by_email", "updated_at")


class FlagScheduleStepInline(ReadOnlyInline):
    model = FlagScheduleStep
    fields = ("position", "at", "values", "state", "outcome", "change_request", "applied_version")


@admin.register(FlagSchedule)
class FlagScheduleAdmin(ReadOnlyAdmin):
    """Read-only: schedules are made, paused and cancelled on the console or the API,
    and run by apply_scheduled_flag_changes (all audited)."""

    list_display = ("id", "flag", "title", "kind", "state", "created_by_email", "created_at")
    list_filter = ("state", "kind")
    search_fields = ("flag__key", "title", "created_by_email")
    list_select_related = ("flag",)
    inlines = (FlagScheduleStepInline,)
