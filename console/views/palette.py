"""The command palette's results: GET ?q= answers the listbox the dialog shows."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from console import palette as registry
from console.responder import respond

TEMPLATE = "console/palette_results.html"


@require_GET
def palette(request: HttpRequest) -> HttpResponse:
    """Grouped matches for `q`, or recent items and actions for an empty box.
    Who may ask is the URL's to decide (operators only, in dezky/urls.py)."""
    raw = request.GET.get("q", "")
    if "\x00" in raw:
        # PostgreSQL refuses NUL in text; answer the field, never a 500.
        error = "q: a search cannot contain a NUL character."
        return respond(request, TEMPLATE, {"q": "", "groups": [], "error": error}, status=400)
    query = registry.clean_query(raw)
    groups = registry.search(query) if query else registry.suggestions(request)
    context = {
        "q": query,
        "groups": groups,
        "count": sum(len(group.items) for group in groups),
        "searched": bool(query),
    }
    return respond(request, TEMPLATE, context)
