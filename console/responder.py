"""The one responder every console view answers through.

`respond()` turns (template, context, notice, status) into the full page or, for an
htmx swap, the named partial of the same template. A notice (what an action did)
becomes a message shown by the full page, or an out-of-band toast on a swap.
Caching and `Vary` are set for every console response by
`console.middleware.ConsolePages`, and refusals (`ApplicationError`, `NotFound`)
are mapped there too, so views only say what to show.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.middleware import HtmxDetails

from console import tones

SWAP_ERROR_HEADER = "X-Console-Swap"

_LEVELS = {
    "success": messages.SUCCESS,
    "info": messages.INFO,
    "warning": messages.WARNING,
    "danger": messages.ERROR,
}


@dataclass(frozen=True)
class Notice:
    """What an action did, for the person who did it."""

    tone: str  # success | info | warning | danger
    text: str

    @property
    def icon(self) -> str:
        return tones.icon_for(self.tone)

    @property
    def urgent(self) -> bool:
        return tones.is_urgent(self.tone)


def is_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants a fragment; htmx restoring history wants the whole page."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def respond(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    notice: Notice | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full `template`, or its `partial` when htmx asks for a fragment."""
    fragment = partial is not None and is_fragment(request)
    if notice is not None and not fragment:
        messages.add_message(request, _LEVELS.get(notice.tone, messages.INFO), notice.text)
    name = f"{template}#{partial}" if fragment else template
    response = render(request, name, context or {}, status=status)
    if status >= 500:
        # A 5xx rendered on purpose (a form saying that Authentik failed, in its words)
        # swaps like a 4xx; a bare 5xx (a crash, a proxy's page) never does (shell.js).
        response[SWAP_ERROR_HEADER] = "error"
    if notice is not None and fragment:
        response.content += toast_html(request, notice).encode()
    return response


def toast_html(request: HttpRequest, notice: Notice) -> str:
    """The notice as an out-of-band toast, appended to any fragment."""
    return render_to_string("components/toast.html", {"notice": notice}, request=request)


def toast_only(request: HttpRequest, notice: Notice, *, status: int = 200) -> HttpResponse:
    """An answer that changes nothing on the page but says something (a refusal)."""
    response = HttpResponse(toast_html(request, notice), status=status)
    response["HX-Reswap"] = "none"
    return response


def redirect_with_notice(request: HttpRequest, url: str, notice: Notice) -> HttpResponse:
    """After a form posted without htmx: the notice as a message, then GET the page (303)."""
    messages.add_message(request, _LEVELS.get(notice.tone, messages.INFO), notice.text)
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@dataclass(frozen=True)
class ConfirmField:
    """An optional text a confirmation asks for (a reason), posted with the confirm
    button as `name`. The dialog and the confirm page both show it, with a count of
    the characters left (shell.js) and the limit said in its help.

    `value` and `errors` refill it when a posted confirmation is refused (too long)."""

    name: str
    label: str
    max_length: int
    help: str = ""
    rows: int = 3
    value: str = ""
    errors: tuple[str, ...] = ()

    def refill(self, value: str, *errors: str) -> ConfirmField:
        return replace(self, value=value, errors=errors)


def confirm_page(
    request: HttpRequest,
    *,
    id: str,
    title: str,
    text: str,
    confirm: str,
    url: str,
    cancel_url: str,
    tone: str = "danger",
    icon: str = "triangle-alert",
    note: str = "",
    field: ConfirmField | None = None,
    status: int = 200,
) -> HttpResponse:
    """The GET of an action URL: the same confirmation as its dialog, as a page, so
    the action works without JavaScript (the form posts and the view redirects).
    `field` is the text it asks for, if any; with errors it is a refused post's page
    (`status` 400)."""
    dialog = {
        "id": id,
        "title": title,
        "text": text,
        "confirm": confirm,
        "url": url,
        "cancel_url": cancel_url,
        "tone": tone,
        "icon": icon,
        "note": note,
        "testid": id,
        "field": field,
    }
    return respond(request, "console/confirm_page.html", {"dialog": dialog}, status=status)
