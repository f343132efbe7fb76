"""Users: every user of the platform, in three views, searchable and paginated."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from console.lists import search_term
from console.responder import is_fragment
from operators import selectors
from operators.permissions import operator_required

PAGE_SIZE = 50
VIEW_LABELS = (("all", "All"), ("admins", "Admins"), ("inactive", "Inactive"))
VIEW_HINTS = {
    "all": "Every user of every tenant, operators included.",
    "admins": "Platform operators, and the owners and admins of a tenant.",
    "inactive": "Users who cannot sign in.",
}


@operator_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "all")
    if view not in selectors.USER_VIEWS:
        view = "all"
    search = search_term(request.GET)
    paginator = Paginator(selectors.user_list(view=view, search=search), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    counts = selectors.user_view_counts(search=search)

    def url(*, view: str = view, page_number: int | None = None) -> str:
        params = {}
        if view != "all":
            params["view"] = view
        if search:
            params["q"] = search
        if page_number and page_number > 1:
            params["page"] = page_number
        return request.path + (f"?{urlencode(params)}" if params else "")

    context = {
        "page": page,
        "view": view,
        "search": search,
        "views": [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "hint": VIEW_HINTS[key],
                "url": url(view=key),
            }
            for key, label in VIEW_LABELS
        ],
        "previous_url": url(page_number=page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page_number=page.next_page_number()) if page.has_next() else "",
    }
    if is_fragment(request):
        return render(request, "operators/users.html#results", context)
    return render(request, "operators/users.html", context)
