"""What every console response needs, set once.

- `Vary: HX-Request` on HTML, and `Cache-Control: no-store` on fragments: a browser
  must never answer Back, Forward or a reload of a URL that a swap pushed with the
  fragment it fetched for that swap. Full pages are `private, no-store`: they carry
  an operator's view of the platform, which no shared cache and no disk may keep
  (operators.middleware gives the same to any other answer to a signed-in browser).
- Business-rule refusals (`core.errors.ApplicationError`) that a view did not handle
  itself become a toast on a swap, or a message on the page the form came from.
  `NotFound` is the 404 page (or a toast on a swap). The API maps the same errors
  in `core.api_errors`; DRF catches them before they get here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from console.responder import Notice, is_fragment, redirect_with_notice, toast_only
from console.views.errors import page_not_found
from core.errors import ApplicationError, NotFound


class ConsolePages:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        patch_vary_headers(response, ["HX-Request"])
        if is_fragment(request):
            response["Cache-Control"] = "no-store"
        elif not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        if not isinstance(exception, ApplicationError):
            return None
        notice = Notice("danger", exception.message)
        if is_fragment(request):
            return toast_only(request, notice, status=exception.status_code)
        if request.method == "POST":
            back = request.headers.get("Referer", "")
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                back = request.path
            return redirect_with_notice(request, back, notice)
        context = {"title": "Refused", "notice": notice}
        return render(request, "console/refused.html", context, status=exception.status_code)
