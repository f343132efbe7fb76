from __future__ import annotations

from django.contrib import admin

from audit import actions
from audit.models import AuditEvent, ChainVerification
from core.admin_audit import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "sentence", "action", "actor_ip")
    list_filter = ("action", "target_type")
    search_fields = ("action", "actor_email", "target_repr", "target_id")
    date_hierarchy = "at"
    readonly_fields = (
        "sentence",
        "at",
        "actor_email",
        "actor_ip",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "tenant_id",
        "metadata",
        "prev_hash",
        "hash",
        "key_id",
    )
    fields = readonly_fields
    show_full_result_count = False  # an exact COUNT(*) on a large log is slow

    @admin.display(description="actor", ordering="actor_email")
    def actor_label(self, obj: AuditEvent) -> str:
        return obj.actor_label

    @admin.display(description="what happened")
    def sentence(self, obj: AuditEvent) -> str:
        return actions.describe(obj)


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = ("at", "ok", "checked", "actor_email", "message")
    list_filter = ("ok",)
    fields = readonly_fields = (
        "at",
        "actor_email",
        "ok",
        "checked",
        "message",
        "broken_event_id",
        "checkpoint_count",
    )
