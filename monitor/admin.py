"""The monitor in the Django admin: read-only, so nothing bypasses the services (and
their audit events). Incidents are opened, updated and resolved in the console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from monitor.models import Incident, IncidentUpdate, ProbeResult


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProbeResult)
class ProbeResultAdmin(ReadOnly):
    list_display = ("component", "at", "ok", "latency_ms", "error")
    list_filter = ("component", "ok")
    date_hierarchy = "at"


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 0
    can_delete = False
    fields = ("at", "status", "author_email", "body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnly):
    list_display = ("title", "severity", "status", "opened_at", "resolved_at")
    list_filter = ("severity", "status")
    search_fields = ("title",)
    inlines = [IncidentUpdateInline]
