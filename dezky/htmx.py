"""What every console page asks of a request: does htmx want a fragment, and what was
searched for. One answer for every app's views."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict

SEARCH_MAX_LENGTH = 100


def is_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants a fragment; htmx restoring history after Back wants the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def search_term(data: QueryDict) -> str:
    """The list search box (`q`) of a GET query or of a form posted beside the list."""
    return data.get("q", "").strip()[:SEARCH_MAX_LENGTH]
