"""Reads about tenants and partners, with the access rule in one place: operators
(and services holding `tenants:read`) see every tenant; any other signed-in user only
the tenants they are a member of, never deleted ones. Everything else gets a 404,
not a 403, so slugs do not leak."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import AuditFilters, AuditPage, Cursor, audit_page
from core.errors import NotFound
from operators.models import User
from operators.permissions import has_scope, is_operator
from tenants.models import (
    Integration,
    Membership,
    Partner,
    Plan,
    ProvisioningState,
    ProvisioningStatus,
    Tenant,
    TenantStatus,
)

FOLLOW_UP_PENDING_DAYS = 7
TENANTS_READ_SCOPE = "tenants:read"
CHIP_STATUSES: tuple[str, ...] = (
    TenantStatus.ACTIVE.value,
    TenantStatus.PENDING.value,
    TenantStatus.SUSPENDED.value,
)


def sees_every_tenant(user: Any) -> bool:
    return is_operator(user) or has_scope(user, TENANTS_READ_SCOPE)


def visible_tenants(user: Any) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    if sees_every_tenant(user):
        return tenants
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return tenants.filter(memberships__user=user).exclude(status=TenantStatus.DELETED)
    return tenants.none()


def _with_provisioning(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    return tenants.select_related("partner").prefetch_related(
        Prefetch(
            "provisioning",
            queryset=ProvisioningState.objects.order_by("integration"),
        )
    )


def _search(tenants: QuerySet[Tenant], search: str) -> QuerySet[Tenant]:
    search = search.strip()
    if not search:
        return tenants
    return tenants.filter(Q(slug__icontains=search) | Q(name__icontains=search))


# The problems a tenant can have that an operator should look at (the tenants list's
# `problem` filter; "follow_up" is any of them, exactly what the overview lists).
PROBLEMS = (
    ("provisioning_error", "Provisioning error"),
    ("pending_long", f"Pending for more than {FOLLOW_UP_PENDING_DAYS} days"),
    ("follow_up", "Needs follow-up (any reason)"),
)


def _has_error() -> Q:
    # TRICKY: an IN over the few failing states, not a correlated EXISTS: inside the
    # OR of "needs follow-up", PostgreSQL hashes the IN list once instead of probing
    # the provisioning table for every tenant.
    failing = ProvisioningState.objects.filter(state=ProvisioningStatus.ERROR)
    return Q(pk__in=failing.values("tenant_id"))


def _problem(
    tenants: QuerySet[Tenant], problem: str, now: datetime | None = None
) -> QuerySet[Tenant]:
    """Tenants with `problem` (one of PROBLEMS); any other value leaves them as they are."""
    stale = (now or timezone.now()) - timedelta(days=FOLLOW_UP_PENDING_DAYS)
    pending_long = Q(status=TenantStatus.PENDING, created_at__lt=stale)
    if problem == "provisioning_error":
        return tenants.filter(_has_error())
    if problem == "pending_long":
        return tenants.filter(pending_long)
    if problem == "follow_up":
        return tenants.filter(Q(status=TenantStatus.SUSPENDED) | _has_error() | pending_long)
    return tenants


def _narrowed(
    user: Any, *, plan: str = "", partner: str = "", search: str = "", problem: str = ""
) -> QuerySet[Tenant]:
    """Every filter of the tenants list except the status (the chips count across it)."""
    tenants = visible_tenants(user)
    if plan:
        tenants = tenants.filter(plan=plan)
    if partner:
        tenants = tenants.filter(partner__slug=partner)
    return _problem(_search(tenants, search), problem)


def tenant_list(
    *,
    user: Any,
    status: str = "",
    plan: str = "",
    partner: str = "",
    search: str = "",
    problem: str = "",
    include_deleted: bool = False,
    order_by: list[str] | tuple[str, ...] = (),
) -> QuerySet[Tenant]:
    """Newest first unless `order_by` says otherwise. Deleted tenants only when asked for
    by name (status=deleted) or with include_deleted, and then only for callers who see
    every tenant."""
    tenants = _with_provisioning(
        _narrowed(user, plan=plan, partner=partner, search=search, problem=problem)
    )
    if status:
        tenants = tenants.filter(status=status)
    elif not include_deleted:
        tenants = tenants.exclude(status=TenantStatus.DELETED)
    ordering = list(order_by) or ["-created_at"]
    # A unique last key, so a page boundary never moves between two requests.
    tie = "-id" if ordering[-1].startswith("-") else "id"
    return tenants.order_by(*ordering, tie)


def status_counts(
    *, user: Any, search: str = "", plan: str = "", partner: str = "", problem: str = ""
) -> dict[str, int]:
    """Live counts for the status chips, under every other filter of the list; "all" is
    every such tenant that is not deleted. One query."""
    tenants = _narrowed(user, plan=plan, partner=partner, search=search, problem=problem)
    tenants = tenants.exclude(status=TenantStatus.DELETED)
    counts = dict(tenants.order_by().values_list("status").annotate(n=Count("id")))
    return {"all": sum(counts.values()), **{s: counts.get(s, 0) for s in CHIP_STATUSES}}


def partner_choices() -> list[tuple[str, str]]:
    """Every partner as (slug, name), for the tenants list's partner filter."""
    return list(Partner.objects.order_by("name", "slug").values_list("slug", "name"))


def tenant_get(*, user: Any, slug: str) -> Tenant:
    tenant = _with_provisioning(visible_tenants(user)).filter(slug=slug).first()
    if tenant is None:
        raise NotFound(f"No tenant with the slug {slug!r}.", field="slug")
    return tenant


@dataclass(frozen=True)
class ProvisioningView:
    integration: str
    label: str
    state: str
    last_error: str = ""
    last_error_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def state_label(self) -> str:
        return ProvisioningStatus(self.state).label


def provisioning_of(tenant: Tenant) -> list[ProvisioningView]:
    """One entry per integration, always all three and in the same order, whether or
    not reconcile has written a row yet (a missing row reads as pending)."""
    rows = {p.integration: p for p in tenant.provisioning.all()}
    views = []
    for integration in Integration:
        row = rows.get(integration.value)
        views.append(
            ProvisioningView(
                integration=integration.value,
                label=integration.label,
                state=row.state if row else ProvisioningStatus.PENDING,
                last_error=row.last_error if row else "",
                last_error_at=row.last_error_at if row else None,
                updated_at=row.updated_at if row else None,
            )
        )
    return views


def tenant_members(*, tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's members with their user, most recent sign-in first (never: last)."""
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by(F("user__last_login").desc(nulls_last=True), "user__email")
    )


def tenant_audit(*, tenant: Tenant, cursor: str = "", size: int = 50) -> AuditPage:
    """The tenant's audit events, newest first, keyset-paged like the audit log; a
    `cursor` that is not one ("123" or "n123") is ignored: the newest page."""
    filters = AuditFilters(tenant_id=tenant.id)
    return audit_page(filters, Cursor.parse(cursor[:24]), size=size)


def partner_list(
    *, search: str = "", order_by: list[str] | tuple[str, ...] = ()
) -> QuerySet[Partner]:
    """Partners with their live (`tenant_count`) and active tenants; by name unless
    `order_by` (which may name `tenant_count`) says otherwise."""
    partners = Partner.objects.annotate(
        tenant_count=Count("tenants", filter=~Q(tenants__status=TenantStatus.DELETED)),
        active_count=Count("tenants", filter=Q(tenants__status=TenantStatus.ACTIVE)),
    )
    if search.strip():
        term = search.strip()
        partners = partners.filter(Q(slug__icontains=term) | Q(name__icontains=term))
    ordering = list(order_by) or ["name", "slug"]
    tie = "-id" if ordering[-1].startswith("-") else "id"
    return partners.order_by(*ordering, tie)


def partner_get(*, slug: str) -> Partner:
    partner = partner_list().filter(slug=slug).first()
    if partner is None:
        raise NotFound(f"No partner with the slug {slug!r}.", field="slug")
    return partner


@dataclass(frozen=True)
class FollowUpReason:
    """Why a tenant needs follow-up, and since when (None when nothing records it)."""

    key: str  # suspended | provisioning_error | pending_long
    label: str
    since: datetime | None


@dataclass(frozen=True)
class FollowUp:
    tenant: Tenant
    reasons: tuple[FollowUpReason, ...]


@dataclass(frozen=True)
class Overview:
    tenants: int
    partners: int
    users: int
    operators: int
    by_status: dict[str, int]
    by_plan: dict[str, int]
    recent: list[Tenant]
    follow_up: list[FollowUp]
    follow_up_total: int
    # (status, count, percent of all, where its segment starts in percent)
    meter: list[tuple[str, int, float, float]] = field(default_factory=list)


# The audit actions after which a tenant is suspended: its suspension began at the
# newest of them (a tenant created suspended has none, and its Since is unknown).
SUSPENDING_ACTIONS = ("tenant.suspended", "tenant.restored")


def needs_follow_up(now: datetime | None = None) -> QuerySet[Tenant]:
    """Suspended, a provisioning error, or pending for more than a week (not deleted):
    the same tenants as the list's `?problem=follow_up`."""
    live = Tenant.objects.exclude(status=TenantStatus.DELETED)
    return _problem(live, "follow_up", now)


def _follow_up_rows(now: datetime, limit: int) -> list[FollowUp]:
    """The most recently changed tenants that need follow-up, each reason with when it
    began: the oldest current provisioning error, the newest suspension, the creation."""
    stale = now - timedelta(days=FOLLOW_UP_PENDING_DAYS)
    first_error = ProvisioningState.objects.filter(
        tenant=OuterRef("pk"), state=ProvisioningStatus.ERROR, last_error_at__isnull=False
    ).order_by("last_error_at")
    suspension = AuditEvent.objects.filter(
        tenant=OuterRef("pk"), action__in=SUSPENDING_ACTIONS
    ).order_by("-at", "-id")
    rows = (
        needs_follow_up(now)
        .annotate(
            has_error=_has_error(),
            error_since=Subquery(first_error.values("last_error_at")[:1]),
            suspended_since=Subquery(suspension.values("at")[:1]),
        )
        .select_related("partner")
        .order_by("-updated_at", "-id")[:limit]
    )
    follow = []
    for tenant in rows:
        reasons = []
        if tenant.status == TenantStatus.SUSPENDED:
            reasons.append(FollowUpReason("suspended", "Suspended", tenant.suspended_since))
        if tenant.has_error:
            reasons.append(
                FollowUpReason("provisioning_error", "Provisioning error", tenant.error_since)
            )
        if tenant.status == TenantStatus.PENDING and tenant.created_at < stale:
            label = f"Pending for more than {FOLLOW_UP_PENDING_DAYS} days"
            reasons.append(FollowUpReason("pending_long", label, tenant.created_at))
        follow.append(FollowUp(tenant, tuple(reasons)))
    return follow


def overview(*, recent: int = 8, follow_up: int = 10) -> Overview:
    """The console's home, in a fixed number of queries whatever the data's size."""
    now = timezone.now()
    live = Tenant.objects.exclude(status=TenantStatus.DELETED)
    by_status = dict(live.order_by().values_list("status").annotate(n=Count("id")))
    by_plan = dict(live.order_by().values_list("plan").annotate(n=Count("id")))
    recent_rows = list(live.select_related("partner").order_by("-created_at", "-id")[:recent])
    follow = _follow_up_rows(now, follow_up)
    follow_total = needs_follow_up(now).count()
    users = User.objects.aggregate(
        all=Count("id"), operators=Count("id", filter=Q(platform_admin=True))
    )
    total = sum(by_status.values())
    statuses = {s: by_status.get(s, 0) for s in CHIP_STATUSES}
    meter, start = [], 0.0
    for status, n in statuses.items():
        pct = (100.0 * n / total) if total else 0.0
        meter.append((status, n, pct, start))
        start += pct
    return Overview(
        tenants=total,
        partners=Partner.objects.count(),
        users=users["all"],
        operators=users["operators"],
        by_status=statuses,
        by_plan={p: by_plan.get(p, 0) for p in Plan.values},
        recent=recent_rows,
        follow_up=follow,
        follow_up_total=follow_total,
        meter=meter,
    )
