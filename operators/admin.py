from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.admin_audit import ReadOnlyAdmin, ServiceBackedAdmin, actor_and_ip
from operators import services
from operators.models import Impersonation, OperatorInvite, ServiceToken, TokenScope, User


class UserAddForm(forms.ModelForm):
    """Add a user; leave the password empty for an account that signs in through Authentik."""

    password1 = forms.CharField(
        label="Password", required=False, strip=False, widget=forms.PasswordInput
    )
    password2 = forms.CharField(
        label="Password again", required=False, strip=False, widget=forms.PasswordInput
    )

    class Meta:
        model = User
        fields = ("email", "name", "platform_admin", "is_staff")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 or p2:
            if p1 != p2:
                self.add_error("password2", "The two passwords differ.")
            else:
                probe = User(email=data.get("email", ""), name=data.get("name", ""))
                try:
                    validate_password(p1, probe)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return data


@admin.register(User)
class UserAdmin(ServiceBackedAdmin, DjangoUserAdmin):
    add_form = UserAddForm
    list_display = ("email", "name", "platform_admin", "is_staff", "is_active", "last_login")
    list_filter = ("platform_admin", "is_staff", "is_active", "is_superuser")
    search_fields = ("email", "name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined", "authentik_pk", "oidc_subject")
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        ("Access", {"fields": ("platform_admin", "is_staff", "is_superuser", "is_active")}),
        ("Identity provider", {"fields": ("authentik_pk", "oidc_subject")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "platform_admin", "is_staff", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Email is the login id and the link to Authentik; it is not retyped here.
        return ("email", *self.readonly_fields) if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead, so sessions end and history stays readable

    def editable_fields(self) -> tuple[str, ...]:
        return services.USER_EDITABLE_FIELDS

    def create_via_service(self, request: HttpRequest, data: dict[str, Any]) -> User:
        return services.user_create(
            email=data["email"],
            name=data.get("name", ""),
            password=data.get("password1") or None,
            platform_admin=data.get("platform_admin", False),
            is_staff=data.get("is_staff", False),
            **actor_and_ip(request),
        )

    def update_via_service(self, request: HttpRequest, obj: User, changes: dict, form: Any) -> User:
        return services.user_update(user=obj, **changes, **actor_and_ip(request))

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view saves the form itself; wrap it so the audit event shares its
        # transaction and is written only when the password really changed.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                services.user_password_changed(user=user, **actor_and_ip(request))
        return response


class ServiceTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ServiceToken
        fields = ("name", "scopes")


@admin.register(ServiceToken)
class ServiceTokenAdmin(admin.ModelAdmin):
    """Create (shown once), look at and revoke service tokens; nothing else changes them."""

    form = ServiceTokenAddForm
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    actions = ("revoke",)
    readonly_fields = (
        "name", "prefix", "scopes", "created_at", "created_by_email", "last_used_at", "revoked_at",
    )  # fmt: skip

    @admin.display(description="scopes")
    def scope_list(self, obj: ServiceToken) -> str:
        return ", ".join(obj.scopes)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.readonly_fields if obj else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead, so the audit trail keeps pointing at it

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        token, secret = services.service_token_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            **actor_and_ip(request),
        )
        obj.pk = token.pk
        request._created_token = (token, secret)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        token, secret = request._created_token
        context = {**self.admin_site.each_context(request), "token": token, "secret": secret}
        response = TemplateResponse(request, "admin/operators/servicetoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            services.service_token_revoke(token=token, **actor_and_ip(request))
        self.message_user(request, "Revoked. Services using them are refused within a second.")


@admin.register(OperatorInvite)
class OperatorInviteAdmin(ReadOnlyAdmin):
    """Invites and how far each got; an unfinished one is retried from the team page."""

    list_display = ("email", "name", "state", "directory", "handoff", "invited_by_email",
                    "created_at", "last_error")  # fmt: skip
    list_filter = ("state", "directory", "handoff")
    search_fields = ("email", "name", "invited_by_email")


@admin.register(Impersonation)
class ImpersonationAdmin(ReadOnlyAdmin):
    """Who viewed the console as which tenant member, why and for how long; written only
    by starting and ending one in the console, so each has its audit events."""

    list_display = ("operator", "member", "reason", "started_at", "expires_at", "ended_at",
                    "ended_reason")  # fmt: skip
    list_filter = ("ended_reason",)
    search_fields = ("operator__email", "member__email", "reason")
