"""The tenants list and the partners pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.lists import search_term
from console.responder import is_fragment
from core.errors import NotFound
from operators.permissions import operator_required
from tenants import selectors
from tenants.models import TenantStatus
from tenants.views.common import page_of

CHIPS = (("", "All"), (TenantStatus.ACTIVE, "Active"), (TenantStatus.PENDING, "Pending"),
         (TenantStatus.SUSPENDED, "Suspended"))  # fmt: skip


@operator_required
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    search = search_term(request.GET)
    status = request.GET.get("status", "")
    if status not in dict(CHIPS):
        status = ""
    counts = selectors.status_counts(user=request.user, search=search)
    tenants = selectors.tenant_list(user=request.user, status=status, search=search)
    context = {
        "page": page_of(request, tenants),
        "search": search,
        "status": status,
        "chips": [(value, label, counts[value or "all"]) for value, label in CHIPS],
        "filter_query": urlencode({k: v for k, v in (("status", status), ("q", search)) if v}),
    }
    template = "tenants/list.html#results" if is_fragment(request) else "tenants/list.html"
    return render(request, template, context)


@operator_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    search = search_term(request.GET)
    context = {
        "page": page_of(request, selectors.partner_list(search=search)),
        "search": search,
        "filter_query": urlencode({"q": search} if search else {}),
    }
    template = "tenants/partners.html#results" if is_fragment(request) else "tenants/partners.html"
    return render(request, template, context)


@operator_required
@require_GET
def partner_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        partner = selectors.partner_get(slug=slug)
    except NotFound as error:
        raise Http404(error.message) from None
    tenants = selectors.tenant_list(user=request.user, partner=partner.slug)
    context = {"partner": partner, "page": page_of(request, tenants)}
    template = "tenants/partner.html#tenants" if is_fragment(request) else "tenants/partner.html"
    return render(request, template, context)
