"""The eight-tab tenant page and the operator actions on it.

One view serves the page and, for htmx, the `#tenant-detail` fragment (header, tab
strip and the open tab), so a tab switch or an action re-renders exactly what can
have changed. Each tab loads only its own data: the Users tab's query runs when
that tab is opened, not before; its pager swaps only `#tenant-members`.

Every action (suspend, resume, delete, reconcile) is one URL: a GET is its
confirmation as a page (where the confirm button leads without JavaScript), a POST
does it. With htmx the answer is the fresh `#tenant-detail` with the outcome in it
(the notice takes focus); without, a redirect back to the tab with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import palette
from console.lists import Filter, ListSpec, ListState
from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError
from core.request_meta import client_ip
from flags.presentation import tenant_flags_context
from operators.permissions import operator_required
from tenants import selectors, services
from tenants.forms import TenantEditForm
from tenants.members import last_owner_refusal
from tenants.models import MemberRole, Membership, Tenant, TenantStatus
from tenants.reconcile import reconcile_running, tenant_reconcile

TABS = (
    ("overview", "Overview"),
    ("users", "Users"),
    ("resources", "Resources"),
    ("flags", "Flags"),
    ("billing", "Billing"),
    ("audit", "Audit"),
    ("support", "Support"),
    ("danger", "Danger zone"),
)
AUDIT_SHOWN = 50
MEMBERS_TARGET = "tenant-members"  # the Users tab's table and pager
# The Users tab pages like every list; its URLs keep the tab (`?tab=users&page=2`).
MEMBERS = ListSpec(filters=(Filter("tab", "Tab", (("users", "Users"),)),), search=False)

# Illustrative only; the Billing tab says so. Prices per month, invented.
SAMPLE_PRICES = {"starter": 4, "business": 9, "enterprise": 19}
SAMPLE_INVOICES = (("2026-10", "paid"), ("2026-09", "paid"), ("2026-08", "paid"))


@dataclass(frozen=True)
class Action:
    """An operator action on a tenant: how it asks, what it runs, which tab shows it."""

    key: str
    tab: str
    title: str  # "{name}" is the tenant's name
    text: str
    confirm: str
    tone: str  # of the dialog (its icon and confirm button)
    icon: str
    run: Callable[[HttpRequest, Tenant], Notice]

    @property
    def dialog(self) -> str:
        return f"{self.key}-dialog"


def _suspend(request: HttpRequest, tenant: Tenant) -> Notice:
    services.tenant_suspend(tenant=tenant, actor=request.user, ip=client_ip(request))
    return Notice("success", f"Tenant {tenant.slug} is suspended.")


def _resume(request: HttpRequest, tenant: Tenant) -> Notice:
    services.tenant_resume(tenant=tenant, actor=request.user, ip=client_ip(request))
    return Notice("success", f"Tenant {tenant.slug} is active again.")


def _delete(request: HttpRequest, tenant: Tenant) -> Notice:
    services.tenant_soft_delete(tenant=tenant, actor=request.user, ip=client_ip(request))
    return Notice("success", f"Tenant {tenant.slug} is deleted; it can be restored from the admin.")


def _reconcile(request: HttpRequest, tenant: Tenant) -> Notice:
    outcomes = tenant_reconcile(tenant=tenant, actor=request.user, ip=client_ip(request))
    failed = [o.integration for o in outcomes if o.state == "error"]
    summary = ", ".join(
        f"{o.integration} {o.state.replace('_', ' ')}{' (simulated)' if o.simulated else ''}"
        for o in outcomes
    )
    return Notice("warning" if failed else "success", f"Reconcile finished: {summary}.")


ACTIONS = {
    a.key: a
    for a in (
        Action(
            "suspend", "danger", "Suspend {name}?",
            "Its users cannot sign in and its mail is held until you resume it. "
            "This is recorded in the audit log.",
            "Suspend tenant", "danger", "triangle-alert", _suspend,
        ),
        Action(
            "resume", "danger", "Resume {name}?",
            "The tenant becomes active again. This is recorded in the audit log.",
            "Resume tenant", "primary", "circle-check", _resume,
        ),
        Action(
            "delete", "danger", "Delete {name}?",
            "The tenant is marked deleted and hidden from lists; staff can restore it "
            "from the Django admin.",
            "Delete tenant", "danger", "trash-2", _delete,
        ),
        Action(
            "reconcile", "resources", "Reconcile {name}?",
            "Every integration (Authentik, Stalwart, oCIS) is brought up to date for this "
            "tenant. It can take a few seconds; the outcome is shown here.",
            "Reconcile", "primary", "refresh-cw", _reconcile,
        ),
    )
}  # fmt: skip


def _why_not(tenant: Tenant, reconciling: bool) -> dict[str, str]:
    """Why each action does not apply now ("" when it does), said beside its button."""
    status = tenant.get_status_display().lower()
    deleted = tenant.status == TenantStatus.DELETED
    return {
        "suspend": ""
        if tenant.status == TenantStatus.ACTIVE
        else f"Only an active tenant can be suspended; this one is {status}.",
        "resume": ""
        if tenant.status == TenantStatus.SUSPENDED
        else f"Only a suspended tenant can be resumed; this one is {status}.",
        "delete": "This tenant is already deleted." if deleted else "",
        "reconcile": "A deleted tenant is not reconciled."
        if deleted
        else ("A reconcile of this tenant is running." if reconciling else ""),
    }


def _detail_url(tenant: Tenant, tab: str = "") -> str:
    url = reverse("tenants:detail", kwargs={"slug": tenant.slug})
    return f"{url}?tab={tab}" if tab else url


def _actions(tenant: Tenant, reconciling: bool) -> dict[str, dict[str, str]]:
    """Each action as its confirm button and dialog show it."""
    why = _why_not(tenant, reconciling)
    return {
        key: {
            "dialog": a.dialog,
            "title": a.title.format(name=tenant.name),
            "text": a.text,
            "confirm": a.confirm,
            "tone": a.tone,
            "icon": a.icon,
            "url": reverse(f"tenants:{key}", kwargs={"slug": tenant.slug}),
            "why": why[key],
        }
        for key, a in ACTIONS.items()
    }


def _tab(value: str | None) -> str:
    return value if value in dict(TABS) else "overview"


def _members(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    # Two queries whatever the page: the count and the page's rows with their users and
    # the tenant's owner count (for "the last owner cannot be removed").
    # TRICKY: imported here, since tenants.views.members builds on this module.
    from tenants.views.members import invite_form, remove_dialog

    state = ListState.from_request(request, MEMBERS)
    owners = (
        Membership.objects.filter(tenant=OuterRef("tenant"), role=MemberRole.OWNER)
        .order_by()
        .values("tenant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    members = selectors.tenant_members(tenant=tenant).annotate(
        owner_count=Coalesce(Subquery(owners), 0)
    )
    page = state.paginate(members)
    rows = []
    for membership in page:
        dialog = remove_dialog(tenant, membership)
        dialog["why"] = last_owner_refusal(membership, membership.owner_count)
        rows.append((membership, dialog))
    return {
        "members_state": state,
        "page": page,
        "member_rows": rows,
        "member_roles": MemberRole.choices,
        "member_form": invite_form(),
        "can_invite": tenant.status != TenantStatus.DELETED,
    }


def _audit(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    # The same keyset pages as the audit log: `?tab=audit&cursor=…` is a whole page too.
    page = selectors.tenant_audit(
        tenant=tenant, cursor=request.GET.get("cursor", ""), size=AUDIT_SHOWN
    )
    tab_url = _detail_url(tenant, "audit")
    return {
        "audit_page": page,
        "events": page.events,
        "audit_pager": {
            "newest_url": "" if page.newest else tab_url,
            "newer_url": f"{tab_url}&cursor={page.newer.token}" if page.newer else "",
            "older_url": f"{tab_url}&cursor={page.older.token}" if page.older else "",
        },
        "audit_log_url": f"{reverse('audit:list')}?{urlencode({'tenant': tenant.slug})}",
    }


def _tab_data(
    request: HttpRequest, tenant: Tenant, tab: str, form: TenantEditForm | None
) -> dict[str, Any]:
    if tab == "overview" and form is not None:
        return {"form": form.place_focus()}
    if tab == "users":
        return _members(request, tenant)
    if tab == "audit":
        return _audit(request, tenant)
    if tab == "flags":
        # Every flag's value and the rule that decided it, from the evaluation snapshot.
        return tenant_flags_context(tenant_slug=tenant.slug, environment=request.GET.get("env", ""))
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
    request: HttpRequest,
    tenant: Tenant,
    tab: str,
    *,
    form: TenantEditForm | None = None,
    notice: Notice | None = None,
) -> dict[str, Any]:
    deleted = tenant.status == TenantStatus.DELETED
    reconciling = reconcile_running(tenant)
    deleted_text = ""
    if deleted and tenant.deleted_at:
        when = timezone.localtime(tenant.deleted_at).strftime("%Y-%m-%d %H:%M")
        deleted_text = (
            f"Deleted on {when}. It can be restored from the Django admin "
            "(it comes back suspended)."
        )
    return {
        "tenant": tenant,
        "tabs": TABS,
        "tab": tab,
        "tab_label": dict(TABS)[tab],
        "detail_url": _detail_url(tenant),
        "provisioning": selectors.provisioning_of(tenant),
        "actions": _actions(tenant, reconciling),
        "notice": notice,
        "deleted": deleted,
        "deleted_text": deleted_text,
        **_tab_data(request, tenant, tab, form),
    }


@operator_required
@require_GET
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # A deleted tenant still opens by its URL; an unknown slug is the 404 page.
    tenant = selectors.tenant_get(user=request.user, slug=slug)
    # The command palette offers the tenants this operator opened last.
    url = _detail_url(tenant)
    palette.remember(request, kind="tenant", key=tenant.slug, title=tenant.name, url=url)
    tab = _tab(request.GET.get("tab"))
    if tab == "users" and is_fragment(request) and request.htmx.target == MEMBERS_TARGET:
        # A page link inside the tab: only the members, not the header and tabs again.
        context = {"tenant": tenant, **_members(request, tenant)}
        return respond(request, "tenants/tabs/users.html", context, partial="members")
    form = None
    if tab == "overview" and request.GET.get("edit") and tenant.status != TenantStatus.DELETED:
        fields = ("name", "plan", "billing_email", "domains")
        form = TenantEditForm(initial={f: getattr(tenant, f) for f in fields})
    context = detail_context(request, tenant, tab, form=form)
    return respond(request, "tenants/detail.html", context, partial="detail")


@operator_required
@require_POST
def tenant_update(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = selectors.tenant_get(user=request.user, slug=slug)
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
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if form.errors:
        # The form again with its errors, and its true status (htmx swaps 4xx too).
        context = detail_context(request, tenant, "overview", form=form)
        return respond(request, "tenants/detail.html", context, partial="detail", status=400)
    return _done(request, tenant, "overview", Notice("success", "Tenant saved."))


def _action_view(action: Action) -> Callable[..., HttpResponse]:
    @operator_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        tenant = selectors.tenant_get(user=request.user, slug=slug)
        if request.method == "GET":
            return _confirm(request, tenant, action)
        status = 200
        try:
            notice = action.run(request, tenant)
        except ApplicationError as error:
            notice, status = Notice("danger", error.message), error.status_code
        return _done(request, tenant, action.tab, notice, status=status)

    view.__name__ = f"tenant_{action.key}"
    return view


def _confirm(request: HttpRequest, tenant: Tenant, action: Action) -> HttpResponse:
    """The action's dialog as a page, for a click without JavaScript. When the action
    does not apply, the page says why (the POST would be refused with the same reason)."""
    shown = _actions(tenant, reconcile_running(tenant))[action.key]
    return confirm_page(
        request,
        id=action.dialog,
        title=shown["title"],
        text=action.text,
        confirm=action.confirm,
        url=shown["url"],
        cancel_url=_detail_url(tenant, action.tab),
        tone=action.tone,
        icon=action.icon,
        note=shown["why"],
    )


tenant_suspend = _action_view(ACTIONS["suspend"])
tenant_resume = _action_view(ACTIONS["resume"])
tenant_delete = _action_view(ACTIONS["delete"])
tenant_reconcile_view = _action_view(ACTIONS["reconcile"])


def _done(
    request: HttpRequest, tenant: Tenant, tab: str, notice: Notice, *, status: int = 200
) -> HttpResponse:
    """After a write: the fresh `#tenant-detail` with the outcome for htmx (the address
    bar becomes the tab's URL, replacing `&edit=1`), or back to the tab with a message."""
    url = _detail_url(tenant, tab)
    if not is_fragment(request):
        return redirect_with_notice(request, url, notice)
    fresh = selectors.tenant_get(user=request.user, slug=tenant.slug)
    context = detail_context(request, fresh, tab, notice=notice)
    response = respond(request, "tenants/detail.html", context, partial="detail", status=status)
    response["HX-Replace-Url"] = url
    return response
