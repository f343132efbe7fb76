"""What every request of a signed-in browser goes through, before any view.

- **Lifetime**: a session ends SESSION_IDLE_MINUTES after its last request and
  SESSION_MAX_HOURS after sign-in, whatever happens in between (an OIDC renewal
  keeps the same session, so it does not restart the clock). An ended session is
  signed out: a page goes to the login page with a message saying why, an htmx
  swap is told to go there (401 + HX-Redirect), the API answers 401 in JSON.
- **Tracking**: the session's `UserSession` row (what the settings page lists)
  is made at sign-in (or on its first request) and its `last_seen_at` written at
  most once a minute, so reading a page does not write to the database every
  time. A tab's own polling (the notification count) is not activity.
- **Forced password change** (local mode): while `password_change_required`,
  only the change page, sign-in, sign-out, static files and /healthz answer;
  pages redirect to the change page, the API answers 403 in JSON.
- **Caching**: an answer to a signed-in browser, or an API answer to a caller that
  presents a token or JWT, that says nothing about caching gets
  `Cache-Control: private, no-store` (the console's pages get it from
  console.middleware.ConsolePages); deliberate headers are left alone.

The API's token and JWT callers are authenticated by DRF inside the view, so the
rest does not apply to them: here `request.user` is the session's user only.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from operators import sessions

API_PREFIXES = ("/api/", "/ofrep/")


def change_first_message() -> str:
    """What the API says to a session held by a temporary password."""
    url = reverse("operators:password_change")
    return (
        f"Change your temporary password first, at {url}: nothing else is reachable "
        "until it is changed."
    )


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _presents_credential(request: HttpRequest) -> bool:
    """A service's token or JWT (DRF checks it later, in the view)."""
    return bool(request.headers.get("Authorization") or request.headers.get("X-API-Key"))


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def password_change_enforced(user: object) -> bool:
    """Whether `user` must change a temporary password before anything else. Only in
    local mode: in Authentik mode passwords are Authentik's and cannot change here."""
    return settings.IDENTITY_MODE == "local" and bool(
        getattr(user, "password_change_required", False)
    )


def _return_to(request: HttpRequest) -> str:
    """The page to come back to after signing in again: the page itself for a plain
    GET, the page a swap or a poll came from (htmx's HX-Current-URL), else none (a
    form's POST would come back as a GET)."""
    if is_htmx(request):
        current = request.headers.get("HX-Current-URL", "")
        if not url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
            return ""
        parts = urlsplit(current)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    return request.get_full_path() if request.method == "GET" else ""


class SignedInSessions:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def untouched_prefixes(self) -> tuple[str, ...]:
        """Paths that never need a session: static files and the health check."""
        return (settings.STATIC_URL or "/static/", reverse("healthz"), reverse("favicon"))

    @cached_property
    def background_paths(self) -> frozenset[str]:
        """What an open tab asks for by itself (the notification count, every 30 s
        while visible): checked like any request, but not activity, or a tab left
        open would never let its session go idle."""
        paths: set[str] = set()
        for name in ("notifications:count",):
            try:
                paths.add(reverse(name))
            except NoReverseMatch:
                continue
        return frozenset(paths)

    @cached_property
    def open_during_change(self) -> frozenset[str]:
        return frozenset(
            reverse(name)
            for name in ("operators:password_change", "operators:login", "operators:logout")
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.untouched_prefixes):
            return self.get_response(request)
        user = request.user
        signed_in = bool(user.is_authenticated and request.session.session_key)
        if signed_in:
            ended = sessions.session_expiry(request.session, now=timezone.now().timestamp())
            if ended is not None:
                return self._signed_out(request, ended)
            if request.path not in self.background_paths:
                sessions.session_seen(request)
            if password_change_enforced(user) and request.path not in self.open_during_change:
                return self._change_first(request)
        response = self.get_response(request)
        credentialed = signed_in or (is_api(request) and _presents_credential(request))
        if credentialed and not response.has_header("Cache-Control"):
            # Someone's view of the platform: never for a shared cache, nor kept.
            # (Conditional requests still work: the flag API's ETag stays.)
            response["Cache-Control"] = "private, no-store"
        return response

    def _signed_out(self, request: HttpRequest, ended: str) -> HttpResponse:
        sessions.forget_session(request.session.session_key)
        logout(request)
        if ended == sessions.IDLE:
            text = (
                f"Your session expired after {settings.SESSION_IDLE_MINUTES} minutes "
                "without activity. Sign in again."
            )
        else:
            text = (
                f"Your session reached its limit of {settings.SESSION_MAX_HOURS} hours. "
                "Sign in again."
            )
        if is_api(request):
            response: HttpResponse = JsonResponse({"detail": text}, status=401)
        else:
            messages.warning(request, text)
            back = _return_to(request)
            login_url = redirect_to_login(back).url if back else resolve_url(settings.LOGIN_URL)
            if is_htmx(request):
                response = HttpResponse(status=401)
                response["HX-Redirect"] = login_url
            else:
                response = HttpResponseRedirect(login_url)
        response["Cache-Control"] = "private, no-store"
        return response

    def _change_first(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            response: HttpResponse = JsonResponse({"detail": change_first_message()}, status=403)
        else:
            url = reverse("operators:password_change")
            back = _return_to(request)
            if back:
                url = f"{url}?{urlencode({'next': back})}"
            if is_htmx(request):
                response = HttpResponse(status=403)
                response["HX-Redirect"] = url
            else:
                response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
