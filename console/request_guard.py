"""Refuse, before any view runs, what a client can send that no view should ever
see: a NUL byte in the path or the query string.

PostgreSQL text cannot hold NUL (0x00), so a `%00` that reached a query filter was a
500 (`DataError`); SQLite took it. Forms and serializers refuse NUL in fields
already (Django's and DRF's ProhibitNullCharactersValidator); the path and the query
string are read by views directly, so they are checked here, once, for every page
and endpoint. API paths get the API's JSON error naming the parameter, an htmx swap
a toast, a page the 400 page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from console.responder import Notice, is_fragment, toast_only

API_PREFIXES = ("/api/", "/ofrep/")
NUL = "\x00"


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def nul_field(request: HttpRequest) -> str | None:
    """The name of the first part of the request that holds a NUL byte, or None."""
    if NUL in request.path or NUL in unquote(request.path_info):
        return "path"
    for name, values in request.GET.lists():
        if NUL in name:
            return "query string"
        if any(NUL in value for value in values):
            return name
    return None


class RequestGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        message = f"The {field} contains a NUL byte (%00), which no value here can hold."
        if field not in ("path", "query string"):
            message = f"The parameter {field} contains a NUL byte (%00), which no value can hold."
        if is_api(request.path):
            return JsonResponse({"detail": message, "field": field, field: [message]}, status=400)
        if is_fragment(request):
            return toast_only(request, Notice("danger", message), status=400)
        return render(request, "400.html", {"reason": message}, status=400)
