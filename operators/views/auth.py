"""Sign in and sign out.

Local mode: the email/password form. Authentik mode: a button to the provider
(operators/oidc/views.py); the password form is off unless BREAK_GLASS_LOGIN is
set, and then only staff accounts may use it, each attempt audited as
"break-glass". Either way failed password attempts are limited per account and
per address (LOGIN_FAILURES_PER_ACCOUNT / _PER_IP in LOGIN_FAILURE_WINDOW_SECONDS).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.request_meta import client_ip
from operators import services
from operators.models import normalize_email
from operators.oidc import provider


class LoginForm(forms.Form):
    email = forms.EmailField(
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def password_login_allowed() -> bool:
    return settings.IDENTITY_MODE == "local" or settings.BREAK_GLASS_LOGIN


def _password_method() -> str:
    return "password" if settings.IDENTITY_MODE == "local" else "break-glass"


def _throttled(email: str, ip: str | None) -> str | None:
    """Why this attempt is refused before checking the password, or None."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    minutes = max(1, window // 60)
    if ratelimit.count(f"login-account:{email}", window_seconds=window) >= (
        settings.LOGIN_FAILURES_PER_ACCOUNT
    ):
        return (
            "Too many failed sign-ins for this account. "
            f"Wait {minutes} minutes and try again, or ask an operator to reset your password."
        )
    if ip and ratelimit.count(f"login-ip:{ip}", window_seconds=window) >= (
        settings.LOGIN_FAILURES_PER_IP
    ):
        return f"Too many failed sign-ins from your network address. Wait {minutes} minutes."
    return None


def _count_failure(email: str, ip: str | None) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    ratelimit.hit(f"login-account:{email}", window_seconds=window)
    if ip:
        ratelimit.hit(f"login-ip:{ip}", window_seconds=window)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and not password_login_allowed():
        # The form is not shown in Authentik mode; a hand-made POST gets no further.
        form = LoginForm()
        messages.error(request, "Sign in with Authentik: password sign-in is off.")
        status = 403
    elif request.method == "POST" and form.is_valid():
        email = normalize_email(form.cleaned_data["email"])
        ip = client_ip(request)
        method = _password_method()
        refusal = _throttled(email, ip)
        if refusal:
            services.user_login_refused(email=email, ip=ip, method=method)
            form.add_error(None, refusal)
            status = 429
        else:
            # ModelBackend refuses inactive users, so they get the same answer as a bad password.
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is not None and method == "break-glass" and not user.is_staff:
                user = None  # break-glass is for staff only
            if user is None:
                _count_failure(email, ip)
                services.user_login_failed(
                    email=email, ip=ip, method=None if method == "password" else method
                )
                form.add_error(None, "That email and password do not match an active account.")
            else:
                login(request, user)
                services.user_logged_in(user=user, ip=ip, method=method)
                return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    context = {
        "form": form,
        "next": next_url,
        "show_password_form": settings.IDENTITY_MODE == "authentik" and settings.BREAK_GLASS_LOGIN,
    }
    return render(request, "operators/login.html", context, status=status)


@never_cache
def admin_login_redirect(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """Stands in for the Django admin's own password form, which would bypass the rules
    above (Authentik mode, break-glass for staff only, rate limits, audit)."""
    query = urlencode({"next": request.GET.get("next") or resolve_url("admin:index")})
    return HttpResponseRedirect(f"{resolve_url('operators:login')}?{query}")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect(settings.LOGOUT_REDIRECT_URL)
        return render(request, "operators/logout.html")
    id_token = request.session.get("oidc_id_token")
    if request.user.is_authenticated:
        services.user_logged_out(user=request.user, ip=client_ip(request))
    logout(request)
    if id_token and settings.IDENTITY_MODE == "authentik":
        provider_logout = _provider_logout_url(request, id_token)
        if provider_logout:
            return HttpResponseRedirect(provider_logout)
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _provider_logout_url(request: HttpRequest, id_token: str) -> str | None:
    """The provider's end-session URL (RP-Initiated Logout 1.0), so signing out here
    also ends the session at Authentik; None if the provider offers none."""
    try:
        end_session = provider.endpoint("OIDC_OP_LOGOUT_ENDPOINT")
    except provider.ProviderError:
        return None  # signed out here at least; the provider's session ends on its own
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(
                resolve_url(settings.LOGOUT_REDIRECT_URL)
            ),
        }
    )
    return f"{end_session}{'&' if '?' in end_session else '?'}{query}"
