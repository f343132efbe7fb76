from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from console.request_guard import is_api
from console.responder import Notice, is_fragment, toast_only

# An API client reads JSON, also for the answers Django gives before any API view
# runs (an unknown path, a body over DATA_UPLOAD_MAX_MEMORY_SIZE).
API_NOT_FOUND = "There is no such API endpoint; see GET /api/schema/ for the ones there are."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = _bad_request_reason(exception)
    if is_api(request.path):
        return JsonResponse({"detail": reason}, status=400)
    if is_fragment(request):
        return toast_only(request, Notice("danger", reason), status=400)
    return render(request, "400.html", {"reason": reason}, status=400)


def _bad_request_reason(exception: Exception | None) -> str:
    name = type(exception).__name__ if exception is not None else ""
    if name in ("RequestDataTooBig", "TooManyFieldsSent", "TooManyFilesSent"):
        return "The request body is too large."
    return "The request was malformed."


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request.path):
        return JsonResponse({"detail": str(exception or "Not allowed.")}, status=403)
    if is_fragment(request):
        return toast_only(request, Notice("danger", str(exception or "Not allowed.")), status=403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request.path):
        return JsonResponse({"detail": API_NOT_FOUND}, status=404)
    if is_fragment(request):
        # A swap asked for something that is gone: say so, leave the page as it is.
        text = "That no longer exists: it may have been deleted meanwhile. Reload the page."
        return toast_only(request, Notice("warning", text), status=404)
    return render(request, "404.html", status=404)


@csp_update({"style-src": [UNSAFE_INLINE]})
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's own handler, plus the one exception to the no-inline policy: 500.html
    carries its styles inline so that it needs nothing that could fail in turn."""
    if is_api(request.path):
        return JsonResponse({"detail": "Server error; it was logged."}, status=500)
    return HttpResponseServerError(loader.get_template("500.html").render())
