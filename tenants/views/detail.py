"""The seven-tab tenant page and the operator actions on it.

One view serves the page and, for htmx, the `#tenant-detail` fragment (header, tab
strip and the open tab), so a tab switch or an action re-renders exactly what can
have changed. Each tab loads only its own data: the Users tab's query runs when
that tab is opened, not before. The Users tab pages through the members like the
tenants list (same page size and pagination partial); a page link swaps only the
`#tenant-members` part of the tab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.responder import is_fragment
from core.errors import ApplicationError, NotFound
from core.request_meta import client_ip
from operators.permissions import operator_required
from tenants import selectors, services
from tenants.forms import TenantEditForm
from tenants.models import Tenant, TenantStatus
from tenants.reconcile import reconcile_running, tenant_reconcile
from tenants.views.common import PAGE_SIZE

TABS = (
    ("overview", "Overview"),
    ("users", "Users"),
    ("resources", "Resources"),
    ("billing", "Billing"),
    ("audit", "Audit"),
    ("support", "Support"),
    ("danger", "Danger zone"),
)
AUDIT_SHOWN = 50
MEMBERS_TARGET = "tenant-members"  # the Users tab's table and pagination

# Illustrative only; the Billing tab says so. Prices per month, invented.
SAMPLE_PRICES = {"starter": 4, "business": 9, "enterprise": 19}
SAMPLE_INVOICES = (("2026-10", "paid"), ("2026-09", "paid"), ("2026-08", "paid"))


@dataclass(frozen=True)
class Notice:
    tone: str  # success | warning | danger | info
    text: str

    @property
    def icon(self) -> str:
        return {"success": "circle-check", "warning": "triangle-alert"}.get(
            self.tone, "circle-alert"
        )


def _tenant(request: HttpRequest, slug: str) -> Tenant:
    try:
        return selectors.tenant_get(user=request.user, slug=slug)
    except NotFound as error:
        raise Http404(error.message) from None


def _tab(value: str | None) -> str:
    return value if value in dict(TABS) else "overview"


def _tab_data(
    tenant: Tenant, tab: str, form: TenantEditForm | None, users_page: str | None
) -> dict[str, Any]:
    if tab == "overview" and form is not None:
        return {"form": form}
    if tab == "users":
        members = selectors.tenant_members(tenant=tenant)
        # Two queries whatever the page: the count and the page's rows with their users.
        return {"page": Paginator(members, PAGE_SIZE).get_page(users_page)}
    if tab == "audit":
        return {"events": selectors.tenant_audit(tenant=tenant, limit=AUDIT_SHOWN)}
    if tab == "billing":
        price = SAMPLE_PRICES.get(tenant.plan, 0)
        return {
            "sample_price": price,
            "sample_invoices": [
                {"period": p, "state": s, "amount": price * 5} for p, s in SAMPLE_INVOICES
            ],
        }
    return {}


def detail_context(
    tenant: Tenant,
    tab: str,
    *,
    form: TenantEditForm | None = None,
    notice: Notice | None = None,
    users_page: str | None = None,
) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "tabs": TABS,
        "tab": tab,
        "provisioning": selectors.provisioning_of(tenant),
        "reconciling": reconcile_running(tenant),
        "notice": notice,
        "deleted": tenant.status == TenantStatus.DELETED,
        **_tab_data(tenant, tab, form, users_page),
    }


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "tenants/detail.html#detail" if is_fragment(request) else "tenants/detail.html"
    return render(request, template, context, status=status)


@operator_required
@require_GET
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _tenant(request, slug)
    tab = _tab(request.GET.get("tab"))
    if tab == "users" and is_fragment(request) and request.htmx.target == MEMBERS_TARGET:
        # A page link inside the tab: only the members, not the header and tabs again.
        context = {"tenant": tenant, **_tab_data(tenant, tab, None, request.GET.get("page"))}
        return render(request, "tenants/tabs/users.html#members", context)
    form = None
    if tab == "overview" and request.GET.get("edit") and tenant.status != TenantStatus.DELETED:
        form = TenantEditForm(
            initial={f: getattr(tenant, f) for f in ("name", "plan", "billing_email", "domains")}
        )
    context = detail_context(tenant, tab, form=form, users_page=request.GET.get("page"))
    return _render(request, context)


@operator_required
@require_POST
def tenant_update(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _tenant(request, slug)
    form = TenantEditForm(request.POST)
    if form.is_valid():
        try:
            services.tenant_update(
                tenant=tenant, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        except ApplicationError as error:
            form.add_error(None, error.message)
    if not form.is_valid():
        # htmx swaps 2xx only; the form comes back with its errors either way.
        context = detail_context(tenant, "overview", form=form)
        return _render(request, context, status=200 if is_fragment(request) else 400)
    return _done(request, slug, "overview", Notice("success", "Tenant saved."))


def _lifecycle(service: Callable[..., Tenant], done: str) -> Callable[..., HttpResponse]:
    @operator_required
    @require_POST
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        tenant = _tenant(request, slug)
        try:
            service(tenant=tenant, actor=request.user, ip=client_ip(request))
        except ApplicationError as error:
            return _done(request, slug, "danger", Notice("danger", error.message))
        return _done(request, slug, "danger", Notice("success", done.format(slug=tenant.slug)))

    view.__name__ = service.__name__
    return view


tenant_suspend = _lifecycle(services.tenant_suspend, "Tenant {slug} is suspended.")
tenant_resume = _lifecycle(services.tenant_resume, "Tenant {slug} is active again.")
tenant_delete = _lifecycle(
    services.tenant_soft_delete, "Tenant {slug} is deleted; it can be restored from the admin."
)


@operator_required
@require_POST
def tenant_reconcile_view(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _tenant(request, slug)
    try:
        outcomes = tenant_reconcile(tenant=tenant, actor=request.user, ip=client_ip(request))
    except ApplicationError as error:
        return _done(request, slug, "resources", Notice("danger", error.message))
    failed = [o.integration for o in outcomes if o.state == "error"]
    summary = ", ".join(f"{o.integration} {o.state.replace('_', ' ')}" for o in outcomes)
    notice = Notice("warning" if failed else "success", f"Reconcile finished: {summary}.")
    return _done(request, slug, "resources", notice)


def _done(request: HttpRequest, slug: str, tab: str, notice: Notice) -> HttpResponse:
    """After a write: the fresh fragment for htmx, or back to the page (POST, redirect, GET)."""
    if is_fragment(request):
        tenant = _tenant(request, slug)
        return _render(request, detail_context(tenant, tab, notice=notice))
    level = {"success": messages.SUCCESS, "warning": messages.WARNING}.get(
        notice.tone, messages.ERROR
    )
    messages.add_message(request, level, notice.text)
    return redirect(f"{reverse('tenants:detail', kwargs={'slug': slug})}?tab={tab}")
