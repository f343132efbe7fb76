"""While an operator views the console as a tenant member (operators.impersonation):

- `request.impersonation` is the active record (None otherwise); `request.user`
  stays the operator, so the audit log names the real person;
- every write is refused (403) except Exit and signing out (which ends it too):
  a page, a toast for an htmx request, JSON with a `detail` for the API;
- only the member view is shown; any other console page is a 403 page saying the
  member cannot see it, and the API answers 403;
- each page viewed (a full-page GET answered with HTML) records
  `impersonation.page_viewed` with the path and the reason.

After the session, auth, messages and htmx middleware (it needs all four), and
inside ConsolePages, so its answers get the console's cache headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from console.responder import Notice, is_fragment, toast_only
from core.request_meta import client_ip
from operators.impersonation import current, impersonation_end, impersonation_page_viewed
from operators.models import Impersonation, ImpersonationEnd

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXIT_VIEW = "operators:impersonation-exit"
LOGOUT_VIEW = "operators:logout"
# The pages a tenant member may see: their tenants, read-only.
MEMBER_VIEWS = frozenset({"operators:member-view", "operators:member-view-tenant"})
API_PREFIXES = ("/api/", "/ofrep/")
# Not pages anyone views: the browser's icon and the load balancer's probe.
PASS_THROUGH = frozenset({"favicon", "healthz"})


def member_name(record: Impersonation) -> str:
    return record.member.name or record.member.email


def writes_off(record: Impersonation) -> str:
    return (
        f"Writes are off while you view the console as {member_name(record)}. Exit to make changes."
    )


def cannot_see(record: Impersonation) -> str:
    return f"{member_name(record)} cannot see this page."


class ImpersonationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.impersonation = None  # type: ignore[attr-defined]
        user: Any = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None:
            return self.get_response(request)
        record = current(request)
        if record is None:
            return self.get_response(request)
        request.impersonation = record  # type: ignore[attr-defined]

        view_name = _view_name(request.path_info)
        is_api = request.path_info.startswith(API_PREFIXES)
        if view_name == EXIT_VIEW or view_name in PASS_THROUGH:
            return self.get_response(request)
        if view_name == LOGOUT_VIEW and request.method == "POST":
            # Signing out is never a write on the member's behalf; it ends the view too.
            impersonation_end(
                impersonation=record,
                actor=user,
                ended_reason=ImpersonationEnd.SIGNED_OUT,
                ip=client_ip(request),
            )
            return self.get_response(request)
        if request.method not in SAFE_METHODS:
            response = _refuse(request, record, writes_off(record), is_api, title="Writes are off")
        elif is_api:
            response = _refuse(
                request,
                record,
                f"The API is off while you view the console as {member_name(record)}.",
                True,
            )
        elif view_name in MEMBER_VIEWS:
            response = self.get_response(request)
        else:
            response = _refuse(request, record, cannot_see(record), False, title="Not shown")

        if _is_page_view(request, response, is_api):
            impersonation_page_viewed(
                impersonation=record,
                path=request.get_full_path(),
                status=response.status_code,
                actor=user,
                ip=client_ip(request),
            )
        return response


def _is_page_view(request: HttpRequest, response: HttpResponse, is_api: bool) -> bool:
    """A page the operator saw: a GET answered with a whole HTML page. Not a swap, not
    a script's fetch (browsers mark navigations `Sec-Fetch-Mode: navigate`)."""
    mode = request.headers.get("Sec-Fetch-Mode", "navigate")
    return (
        request.method == "GET"
        and not is_api
        and not is_fragment(request)
        and mode == "navigate"
        and response.get("Content-Type", "").startswith("text/html")
    )


def _view_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


def _refuse(
    request: HttpRequest, record: Impersonation, text: str, is_api: bool, *, title: str = ""
) -> HttpResponse:
    if is_api:
        return JsonResponse({"detail": text}, status=403)
    if is_fragment(request):
        return toast_only(request, Notice("warning", text), status=403)
    context = {"title": title, "text": text, "record": record}
    return render(request, "operators/impersonation_refused.html", context, status=403)
