"""The audit log's filters, as the page's query string and the API's query parameters
give them: one form validates both, so a bad value is a 400 that names its field on
either (never a 500: over-long values, NUL bytes, impossible dates, garbage cursors).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms

from audit import actions
from audit.models import ACTION_PATTERN
from audit.selectors import AuditFilters, Cursor, tenant_id_for

SYSTEM = "system"
KIND_PREFIX = "kind:"
_ACTION = re.compile(ACTION_PATTERN)
_TARGET_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        required=False, max_length=254, help_text='An email, or "system" for the platform itself.'
    )
    action = forms.CharField(
        required=False, max_length=100, help_text='An action code, or "kind:<kind>" for a group.'
    )
    tenant = forms.SlugField(required=False, max_length=100, help_text="A tenant's slug.")
    target_type = forms.CharField(required=False, max_length=50, label="Target type")
    target_id = forms.CharField(required=False, max_length=100, label="Target id")
    target = forms.CharField(required=False, max_length=100, help_text="Text in the target's name.")
    since = forms.DateField(required=False, label="From", help_text="A date, YYYY-MM-DD (UTC).")
    until = forms.DateField(
        required=False, label="To", help_text="A date, YYYY-MM-DD (UTC), included."
    )
    q = forms.CharField(required=False, max_length=100, label="Search")
    cursor = forms.CharField(required=False, max_length=24)

    def clean_actor(self) -> str:
        return self.cleaned_data["actor"].strip()

    def clean_action(self) -> str:
        value = self.cleaned_data["action"].strip()
        if not value:
            return ""
        if value.startswith(KIND_PREFIX):
            if not actions.codes_of_kind(value[len(KIND_PREFIX) :]):
                raise forms.ValidationError("No kind of action has that name.")
            return value
        if not _ACTION.match(value):
            raise forms.ValidationError("Use an action code such as tenant.suspended.")
        return value  # an old code no longer registered still finds its rows

    def clean_target_type(self) -> str:
        value = self.cleaned_data["target_type"].strip()
        if value and not _TARGET_TYPE.match(value):
            raise forms.ValidationError("Use a lower-case type such as tenant or flag.")
        return value

    def clean_target_id(self) -> str:
        return self.cleaned_data["target_id"].strip()

    def clean_target(self) -> str:
        return self.cleaned_data["target"].strip()

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def clean_cursor(self) -> Cursor | None:
        value = self.cleaned_data["cursor"].strip()
        if not value:
            return None
        cursor = Cursor.parse(value)
        if cursor is None:
            raise forms.ValidationError(
                "Not a position in the audit log; start again from the newest events."
            )
        return cursor

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if isinstance(since, date) and isinstance(until, date) and since > until:
            self.add_error("until", "The end date comes before the start date.")
        slug = data.get("tenant")
        if slug:
            tenant_id = tenant_id_for(slug)
            if tenant_id is None:
                self.add_error("tenant", "No tenant has this slug.")
            data["tenant_id"] = tenant_id
        return data

    def filters(self) -> AuditFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        action = data.get("action", "")
        return AuditFilters(
            actor=data.get("actor", ""),
            action="" if action.startswith(KIND_PREFIX) else action,
            kind=action[len(KIND_PREFIX) :] if action.startswith(KIND_PREFIX) else "",
            tenant_id=data.get("tenant_id"),
            target_type=data.get("target_type", ""),
            target_id=data.get("target_id", ""),
            target=data.get("target", ""),
            since=data.get("since"),
            until=data.get("until"),
            q=data.get("q", ""),
        )

    def query(self) -> dict[str, str]:
        """The valid filters as query-string values (no cursor): what the page's links
        and the export carry along, and what an export records."""
        if not hasattr(self, "cleaned_data"):
            return {}
        query: dict[str, str] = {}
        for name in self.fields:
            if name == "cursor" or name in self.errors:
                continue
            value = self.cleaned_data.get(name)
            if value:
                query[name] = value.isoformat() if isinstance(value, date) else str(value)
        return query


def error_list(form: forms.Form) -> list[tuple[str, str, str]]:
    """(field name, label, message) for each error, so a page can say which field."""
    found = []
    for name, messages in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label or name.replace("_", " ").capitalize()) if field else ""
        for message in messages:
            found.append((name, label, str(message)))
    return found
