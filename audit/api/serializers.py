from __future__ import annotations

from typing import Any

from rest_framework import serializers

from audit.selectors import AuditRow


class AuditEventSerializer(serializers.Serializer):
    """An event with its sentence and kind (from audit.actions), as the page shows it."""

    id = serializers.IntegerField(source="event.id")
    at = serializers.DateTimeField(source="event.at")
    sentence = serializers.CharField(help_text="What happened, as a person reads it.")
    action = serializers.CharField(source="event.action", help_text="A dotted action code.")
    kind = serializers.CharField(help_text="The group of the action (Tenants, Flags, ...).")
    tone = serializers.CharField(help_text="neutral, success, warning or danger.")
    actor_email = serializers.CharField(source="event.actor_email", help_text='"" = the system.')
    actor_ip = serializers.CharField(source="event.actor_ip", allow_null=True)
    tenant = serializers.SerializerMethodField(help_text="The tenant's slug, or null.")
    target_type = serializers.CharField(source="event.target_type")
    target_id = serializers.CharField(source="event.target_id")
    target_repr = serializers.CharField(source="event.target_repr")
    metadata = serializers.JSONField(source="event.metadata")
    prev_hash = serializers.CharField(source="event.prev_hash")
    hash = serializers.CharField(source="event.hash")
    key_id = serializers.CharField(source="event.key_id", help_text='"" = before keying.')

    def get_tenant(self, row: AuditRow) -> str | None:
        event: Any = row.event
        return event.tenant.slug if event.tenant_id and event.tenant else None


class AuditEventPageSerializer(serializers.Serializer):
    """One keyset page, newest first; follow `next` (or pass `cursor`) for older events."""

    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")
    cursor = serializers.CharField(allow_null=True, help_text="`cursor` of the next page.")
    searched = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="With `q` or `target`: the ids this page searched (text search looks at "
        "a window of events per page; an empty page with a `next` means search on).",
    )
    results = AuditEventSerializer(many=True)
