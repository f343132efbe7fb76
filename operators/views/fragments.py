from __future__ import annotations

from django.http import HttpRequest


def is_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants a fragment; htmx restoring history after Back wants the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request
