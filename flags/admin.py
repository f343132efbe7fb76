from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_audit import ReadOnlyAdmin, ReadOnlyInline, ServiceBackedAdmin, actor_and_ip
from core.forms import StringListField
from flags import services
from flags.models import SCOPE_AXES, Flag, FlagChange, RetiredFlagKey


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
        # The form was rendered from obj.version; a save in between is a conflict.
        return services.flag_update(
            key=obj.key,
            expected_version=form.cleaned_data.get("based_on_version"),
            **changes,
            **actor_and_ip(request),
        )

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
