"""The tenants list and the partners pages, on the console's list helper.

The URL is the whole state of each list (search, status chip, filters, sort, page),
so a swap, Back, Forward and reload all give the same page; `respond()` sends the
`results` partial to an htmx swap and the whole page to anything else.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from console.lists import Filter, ListSpec, ListState, Sort
from console.responder import respond
from operators.permissions import operator_required
from tenants import selectors
from tenants.models import Plan, TenantStatus

STATUS_CHIPS = (
    ("", "All"),
    (TenantStatus.ACTIVE.value, "Active"),
    (TenantStatus.PENDING.value, "Pending"),
    (TenantStatus.SUSPENDED.value, "Suspended"),
)
TENANT_SORTS = (
    Sort("name", "Tenant", ("name",)),
    Sort("status", "Status", ("status", "name")),
    Sort("plan", "Plan", ("plan", "name")),
    Sort("partner", "Partner", ("partner__name", "name")),
    Sort("created", "Created", ("created_at",)),
)
TENANTS = ListSpec(
    sorts=TENANT_SORTS,
    default_sort="-created",
    filters=(
        Filter("status", "Status", STATUS_CHIPS[1:]),
        Filter("plan", "Plan", tuple(Plan.choices)),
        Filter("partner", "Partner"),  # a partner's slug
        Filter("problem", "Problem", selectors.PROBLEMS),
    ),
)
# A partner's own tenants: the same table, sorted the same way, without the filters.
PARTNER_TENANTS = ListSpec(
    sorts=tuple(s for s in TENANT_SORTS if s.key != "partner"),
    default_sort="-created",
    search=False,
)
PARTNERS = ListSpec(
    sorts=(
        Sort("name", "Partner", ("name", "slug")),
        Sort("tenants", "Tenants", ("tenant_count",)),
        Sort("created", "Since", ("created_at",)),
    ),
    default_sort="name",
)


@operator_required
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, TENANTS)
    narrowing = {
        "search": state.q,
        "plan": state.filter("plan"),
        "partner": state.filter("partner"),
        "problem": state.filter("problem"),
    }
    counts = selectors.status_counts(user=request.user, **narrowing)
    tenants = selectors.tenant_list(
        user=request.user, status=state.filter("status"), order_by=state.order_by, **narrowing
    )
    context = {
        "state": state,
        "page": state.paginate(tenants),
        "chips": state.chips("status", STATUS_CHIPS, {"": counts["all"], **counts}),
        "plans": Plan.choices,
        # Called by the template only on a full page (the filters are outside the swap).
        "partners": selectors.partner_choices,
        "problems": selectors.PROBLEMS,
    }
    return respond(request, "tenants/list.html", context, partial="results")


@operator_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, PARTNERS)
    partners = selectors.partner_list(search=state.q, order_by=state.order_by)
    context = {"state": state, "page": state.paginate(partners)}
    return respond(request, "tenants/partners.html", context, partial="results")


@operator_required
@require_GET
def partner_detail(request: HttpRequest, slug: str) -> HttpResponse:
    partner = selectors.partner_get(slug=slug)  # NotFound is the 404 page (middleware)
    state = ListState.from_request(request, PARTNER_TENANTS)
    tenants = selectors.tenant_list(
        user=request.user, partner=partner.slug, order_by=state.order_by
    )
    context = {"partner": partner, "state": state, "page": state.paginate(tenants)}
    return respond(request, "tenants/partner.html", context, partial="tenants")
