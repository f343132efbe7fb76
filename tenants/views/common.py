from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def is_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants a fragment; htmx restoring history after Back wants the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:100]


def page_of(request: HttpRequest, items: object, size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))
