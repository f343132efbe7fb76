"""Sign in and sign out.

Local mode: the email/password form. Authentik mode: a button to the provider
(operators/oidc/views.py); the password form is off unless BREAK_GLASS_LOGIN is
set, and then only staff accounts may use it, each attempt audited as
"break-glass". Either way failed password attempts are limited per account and
per address (LOGIN_FAILURES_PER_ACCOUNT / _PER_IP in LOGIN_FAILURE_WINDOW_SECONDS);
each attempt takes its place in both limits before its password is checked, so
concurrent attempts cannot check more passwords than the limit allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.request_meta import client_ip, limiter_scope
from operators import services
from operators.models import User, normalize_email
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


@dataclass(frozen=True)
class _Attempt:
    """A password attempt's reserved places in the failure limits; refusal says why
    it may not go ahead (its places already given back), or is None."""

    reservations: tuple[ratelimit.Reservation, ...]
    refusal: str | None


def _reserve_attempt(email: str, ip: str | None) -> _Attempt:
    """Count the attempt before checking its password, so concurrent attempts cannot
    all pass a check of the count: each takes a place, and only attempts that got
    one within the limit reach the password check."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    minutes = max(1, window // 60)
    limits = [
        (
            f"login-account:{email}",
            settings.LOGIN_FAILURES_PER_ACCOUNT,
            "Too many failed sign-ins for this account. "
            f"Wait {minutes} minutes and try again, or ask an operator to reset your password.",
        )
    ]
    if ip:
        limits.append(
            (
                f"login-ip:{limiter_scope(ip)}",
                settings.LOGIN_FAILURES_PER_IP,
                f"Too many failed sign-ins from your network address. Wait {minutes} minutes.",
            )
        )
    taken: list[ratelimit.Reservation] = []
    for key, limit, refusal in limits:
        reservation = ratelimit.reserve(key, limit=limit, window_seconds=window)
        taken.append(reservation)
        if not reservation.allowed:
            # A refused attempt is not a failure: the counts stay failures plus
            # attempts in flight.
            _give_back(taken)
            return _Attempt((), refusal)
    return _Attempt(tuple(taken), None)


def _give_back(reservations: Iterable[ratelimit.Reservation]) -> None:
    for reservation in reservations:
        ratelimit.give_back(reservation)


def _temporary_password_expired(user: User) -> bool:
    expires_at = user.password_expires_at
    return expires_at is not None and expires_at <= timezone.now()


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
        attempt = _reserve_attempt(email, ip)
        if attempt.refusal:
            services.user_login_refused(email=email, ip=ip, method=method)
            form.add_error(None, attempt.refusal)
            status = 429
        else:
            # ModelBackend refuses inactive users, so they get the same answer as a bad password.
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is not None and method == "break-glass" and not user.is_staff:
                user = None  # break-glass is for staff only
            if user is None:
                # The reserved places stay taken: they are this failure's count.
                services.user_login_failed(
                    email=email, ip=ip, method=None if method == "password" else method
                )
                form.add_error(None, "That email and password do not match an active account.")
            elif _temporary_password_expired(user):
                # Counted as a failure too: the sign-in did not happen.
                services.user_login_failed(
                    email=email,
                    ip=ip,
                    method=None if method == "password" else method,
                    reason="temporary password expired",
                )
                form.add_error(
                    None,
                    "This temporary password has expired. Ask an operator for a new invite.",
                )
                status = 403
            else:
                _give_back(attempt.reservations)  # a success is not a failure
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
    above (Authentik mode, break-glass for staff only, rate limits, audit).

    The admin sends here everyone it does not let in, signed in or not. Only the
    anonymous go on to sign in: the login page would send a signed-in caller
    straight back to the admin, round and round."""
    user = request.user
    if user.is_authenticated:
        if user.is_active and user.is_staff:
            return HttpResponseRedirect(resolve_url("admin:index"))
        raise PermissionDenied("The Django admin is for staff accounts only, and yours is not one.")
    query = urlencode({"next": request.GET.get("next") or resolve_url("admin:index")})
    return HttpResponseRedirect(f"{resolve_url('operators:login')}?{query}")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect(settings.LOGOUT_REDIRECT_URL)
        # Signed in through Authentik: signing out goes on to its end-session page.
        via_provider = settings.IDENTITY_MODE == "authentik" and bool(
            request.session.get("oidc_id_token")
        )
        return render(request, "operators/logout.html", {"via_provider": via_provider})
    id_token = request.session.get("oidc_id_token")
    if request.user.is_authenticated:
        services.user_logged_out(user=request.user, ip=client_ip(request))
    logout(request)
    if id_token and settings.IDENTITY_MODE == "authentik":
        provider_logout = _provider_logout_url(request, id_token)
        if provider_logout:
            # The confirm page (logout.html) said beforehand what happens there.
            return HttpResponseRedirect(provider_logout)
    # TRICKY: added after logout(), so it rides in the new (anonymous) session or
    # cookie to the login page (LOGOUT_REDIRECT_URL), which shows it.
    if settings.IDENTITY_MODE == "authentik":
        messages.success(
            request,
            "You are signed out of the console. Your Authentik session was not ended "
            'here, so "Sign in with Authentik" may take you straight back in; sign out '
            "in Authentik too on a shared computer.",
        )
    else:
        messages.success(request, "You are signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _provider_logout_url(request: HttpRequest, id_token: str) -> str | None:
    """The provider's end-session URL (RP-Initiated Logout 1.0); None if it offers none.

    Authentik (2026.2) ends its own session there only when the provider's
    invalidation flow has a User Logout stage, and it does not send the browser
    back to `post_logout_redirect_uri`: the browser stays on Authentik's page.
    """
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
