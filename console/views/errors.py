from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from console.responder import Notice, is_fragment, toast_only


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_fragment(request):
        return toast_only(request, Notice("danger", str(exception or "Not allowed.")), status=403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_fragment(request):
        # A swap asked for something that is gone: say so, leave the page as it is.
        text = "That no longer exists: it may have been deleted meanwhile. Reload the page."
        return toast_only(request, Notice("warning", text), status=404)
    return render(request, "404.html", status=404)


@csp_update({"style-src": [UNSAFE_INLINE]})
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's own handler, plus the one exception to the no-inline policy: 500.html
    carries its styles inline so that it needs nothing that could fail in turn."""
    return HttpResponseServerError(loader.get_template("500.html").render())
