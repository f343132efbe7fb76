"""Users: every user of the platform, in three views, searchable, sortable, paginated.

The list's whole state (search, view, sort, page) is in the URL (`console.lists`), so
a chip, a sort header or a page link swaps the results and pushes a URL whose plain
GET is this whole page with the same inputs filled in.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from console.lists import Filter, ListSpec, ListState, Sort
from console.responder import respond
from operators import selectors
from operators.permissions import operator_required

PAGE_SIZE = 50
VIEWS = (("", "All"), ("admins", "Admins"), ("inactive", "Inactive"))
VIEW_HINTS = {
    "": "Every user of every tenant, operators included.",
    "admins": "Platform operators, and the owners and admins of a tenant.",
    "inactive": "Users who cannot sign in.",
}
USER_LIST = ListSpec(
    sorts=(
        Sort("name", "Name", ("name", "email", "pk")),
        Sort("email", "Email", ("email", "pk")),
        Sort("tenants", "Tenants", ("tenant_count", "name", "email", "pk")),
        Sort("last_seen", "Last seen", ("last_login", "name", "email", "pk")),
    ),
    default_sort="name",
    filters=(Filter("view", "View", VIEWS),),
    page_size=PAGE_SIZE,
)


@operator_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, USER_LIST)
    view = state.filter("view")
    users = selectors.user_list(view=view, search=state.q, order_by=state.order_by)
    if state.q:
        empty_text = f"No user matches “{state.q}”{' in this view' if view else ''}."
    else:
        empty_text = "No users in this view."
    context = {
        "state": state,
        "page": state.paginate(users),
        "chips": state.chips("view", VIEWS, selectors.user_view_counts(search=state.q)),
        "view_hint": VIEW_HINTS[view],
        "empty_text": empty_text,
    }
    return respond(request, "operators/users.html", context, partial="results")
