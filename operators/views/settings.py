"""The operator's own settings page (/settings/): profile, appearance, password and
sessions; the password change (also the page a temporary password holds a session
on) and signing out the other sessions.

`password_change` answers the settings page's card with its partial (an htmx
post) and everything else with a page of its own in the sign-in layout, so the
change also works without JavaScript and a forced change shows nothing that
cannot be reached yet. `sessions_end_others` is a confirm-dialog action like the
team page's discard: its GET is the confirmation as a page, its POST answers a
swap with the refreshed sessions card and a plain form with a redirect.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, update_session_auth_hash
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from console.environment import environment_for_host
from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError
from core.request_meta import client_ip
from operators import sessions
from operators.accounts import (
    password_change_allowed,
    user_password_change,
    user_sessions_end_others,
)
from operators.middleware import password_change_enforced
from operators.models import User
from operators.permissions import operator_required

OIDC_BACKEND = "operators.oidc.backend.OperatorOIDCBackend"


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password", strip=False, max_length=4096, widget=forms.PasswordInput
    )
    new_password = forms.CharField(
        label="New password", strip=False, max_length=4096, widget=forms.PasswordInput
    )
    new_password_again = forms.CharField(
        label="New password again", strip=False, max_length=4096, widget=forms.PasswordInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The rules AUTH_PASSWORD_VALIDATORS applies, in their own words.
        self.fields["new_password"].help_text = " ".join(password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", "It differs from the new password.")
        return cleaned


def _me(request: HttpRequest) -> User:
    """The signed-in operator (every view here is behind operator_required)."""
    return cast(User, request.user)


def _roles(user: User) -> list[str]:
    roles = []
    if user.platform_admin:
        roles.append("Operator")
    if user.is_staff:
        roles.append("Staff (Django admin)")
    if user.is_superuser:
        roles.append("Superuser")
    return roles or ["Member"]


def _sign_in_method(request: HttpRequest) -> str:
    if request.session.get(BACKEND_SESSION_KEY) == OIDC_BACKEND:
        return "Authentik (single sign-on)"
    if settings.IDENTITY_MODE == "authentik":
        return "Password (break-glass sign-in)"
    return "Password"


def _authentik_settings_url() -> str:
    if settings.IDENTITY_MODE != "authentik":
        return ""
    return f"{settings.AUTHENTIK_URL.rstrip('/')}/if/user/#/settings"


def end_others_dialog() -> dict[str, str]:
    """The words of "Sign out other sessions", the same in its dialog and page."""
    return {
        "id": "end-other-sessions",
        "title": "Sign out your other sessions?",
        "text": (
            "Every other browser signed in as you goes to the sign-in page on its next "
            "request. This session stays signed in."
        ),
        "confirm": "Sign out other sessions",
        "url": reverse("operators:sessions_end_others"),
        "icon": "log-out",
    }


def _session_rows(request: HttpRequest) -> list[dict[str, Any]]:
    current = request.session.session_key
    return [
        {
            "row": row,
            "device": sessions.describe_device(row.user_agent),
            "current": row.session_key == current,
        }
        for row in sessions.live_sessions(_me(request))
    ]


def settings_context(
    request: HttpRequest,
    *,
    sessions_notice: Notice | None = None,
    password_form: PasswordChangeForm | None = None,
    password_notice: Notice | None = None,
) -> dict[str, Any]:
    rows = _session_rows(request)
    host = request.get_host()
    return {
        "roles": _roles(_me(request)),
        "host": host,
        "host_environment": environment_for_host(host),
        "server_environment": settings.DEZKY_ENVIRONMENT,
        "sign_in_method": _sign_in_method(request),
        "password_change_allowed": password_change_allowed(),
        "authentik_settings_url": _authentik_settings_url(),
        "form": password_form or PasswordChangeForm(),
        "password_notice": password_notice,
        "card": True,
        "session_rows": rows,
        "others_count": sum(1 for r in rows if not r["current"]),
        "sessions_notice": sessions_notice,
        "end_others": end_others_dialog(),
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "max_hours": settings.SESSION_MAX_HOURS,
    }


@operator_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return respond(request, "operators/settings.html", settings_context(request))


def _next_url(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return next_url


@operator_required
@never_cache
@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    forced = password_change_enforced(request.user)
    next_url = _next_url(request)
    if request.method == "GET" or not password_change_allowed():
        # Authentik mode: the page says where passwords change; a POST changes nothing.
        status = 200 if request.method == "GET" else 403
        form = PasswordChangeForm()
        return _change_page(request, form, forced=forced, next_url=next_url, status=status)

    form = PasswordChangeForm(request.POST)
    status = 400
    if form.is_valid():
        old_key = request.session.session_key
        try:
            changed = user_password_change(
                user=_me(request),
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
                keep_session_key=old_key,
                ip=client_ip(request),
            )
        except ValidationError as err:
            for field, messages in err.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        except ApplicationError as err:
            form.add_error(err.field if err.field in form.fields else None, err.message)
            status = err.status_code
        else:
            # This session stays signed in; Django gives it a new key.
            update_session_auth_hash(request, changed.user)
            sessions.session_rekeyed(old_key, request.session.session_key)
            text = "Your password is changed."
            if changed.other_sessions_ended:
                count = changed.other_sessions_ended
                text += f" {count} other session{'s' if count != 1 else ''} signed out."
            notice = Notice("success", text)
            if is_fragment(request) and not forced:
                context = {"form": PasswordChangeForm(), "password_notice": notice, "card": True}
                return respond(request, "operators/password_change.html", context, partial="form")
            destination = next_url or reverse(
                settings.LOGIN_REDIRECT_URL if forced else "console:settings"
            )
            return redirect_with_notice(request, destination, notice)
    if is_fragment(request) and not forced:
        context = {"form": form, "card": True}
        return respond(
            request, "operators/password_change.html", context, partial="form", status=status
        )
    return _change_page(request, form, forced=forced, next_url=next_url, status=status)


def _change_page(
    request: HttpRequest,
    form: PasswordChangeForm,
    *,
    forced: bool,
    next_url: str,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "password_change_allowed": password_change_allowed(),
        "authentik_settings_url": _authentik_settings_url(),
        "forced": forced,
        "next": next_url,
        "expires_at": _me(request).password_expires_at if forced else None,
    }
    return respond(request, "operators/password_change.html", context, status=status)


@operator_required
@require_http_methods(["GET", "POST"])
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return confirm_page(request, **end_others_dialog(), cancel_url=reverse("console:settings"))
    ended = user_sessions_end_others(
        user=_me(request), current_session_key=request.session.session_key, ip=client_ip(request)
    )
    if ended:
        notice = Notice("success", f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    else:
        notice = Notice("info", "No other session was signed in; nothing changed.")
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("console:settings"), notice)
    context = settings_context(request, sessions_notice=notice)
    return respond(request, "operators/settings.html", context, partial="sessions")
