from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from console.navigation import entry_for
from console.responder import respond


def placeholder_view(url_name: str) -> Callable[[HttpRequest], HttpResponse]:
    """A labelled page for a sidebar entry whose screen is not built yet. Who may see
    it is the caller's to decide (the urls wrap it in the operators' guard)."""

    def view(request: HttpRequest) -> HttpResponse:
        return respond(request, "console/placeholder.html", {"entry": entry_for(url_name)})

    view.__name__ = f"placeholder_{url_name.replace(':', '_')}"
    return view
