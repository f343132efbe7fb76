"""Glue so Django admin writes go through the services (and so are audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect

from core.errors import ApplicationError
from core.request_meta import client_ip


class ServiceBackedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose add and change call `create_via_service` / `update_via_service`.

    The form has validated the shape; the service re-validates, writes and records
    the audit event in the admin's own transaction. A refusal from the service is
    shown as an error message and the transaction rolls back.
    """

    def create_via_service(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update_via_service(
        self, request: HttpRequest, obj: Any, changes: dict[str, Any], form: Any
    ) -> Any:
        raise NotImplementedError

    def editable_fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            changes = {
                f: form.cleaned_data[f] for f in form.changed_data if f in self.editable_fields()
            }
            fresh = type(obj).objects.get(pk=obj.pk)
            saved = self.update_via_service(request, fresh, changes, form)
        else:
            saved = self.create_via_service(request, dict(form.cleaned_data))
        # The admin goes on with the instance it holds (messages, redirects, m2m).
        obj.pk = saved.pk
        obj.refresh_from_db()

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except (ApplicationError, ValidationError) as exc:
            text = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
            self.message_user(request, text, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def actor_and_ip(request: HttpRequest) -> dict[str, Any]:
    return {"actor": request.user, "ip": client_ip(request)}


class ReadOnlyAdmin(admin.ModelAdmin):
    """For models only services write (audit events, history, provisioning state)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent that only services write."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
