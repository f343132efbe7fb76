from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEvent
from core.admin_audit import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "target_type", "target_repr", "actor_ip")
    list_filter = ("action", "target_type")
    search_fields = ("action", "actor_email", "target_repr", "target_id")
    date_hierarchy = "at"
    readonly_fields = (
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
