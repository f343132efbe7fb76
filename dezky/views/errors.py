from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@csp_update({"style-src": [UNSAFE_INLINE]})
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's own handler, plus the one exception to the no-inline policy: 500.html
    carries its styles inline so that it needs nothing that could fail in turn."""
    return HttpResponseServerError(loader.get_template("500.html").render())
