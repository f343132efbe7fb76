"""Reads behind the operator team and users pages.

Each returns one queryset whose per-row figures (tenant count, admin role) are
annotations, so a page costs the same few queries whatever the number of users.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Exists, F, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from operators.models import InviteState, OperatorInvite, User
from tenants.models import MemberRole, Membership, TenantStatus

# A deleted tenant is gone for everyone who looks at a user's tenants.
_LIVE_STATUSES = [s for s in TenantStatus.values if s != TenantStatus.DELETED]


def _with_tenant_count(users: QuerySet[User]) -> QuerySet[User]:
    # TRICKY: a correlated subquery, not Count() over a join: an aggregate would group
    # every matching user before the page is cut (and again for the pager's count),
    # where a subquery is worked out for the rows shown unless the list sorts by it.
    live = (
        Membership.objects.filter(user=OuterRef("pk"), tenant__status__in=_LIVE_STATUSES)
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return users.annotate(tenant_count=Coalesce(Subquery(live), 0))


def operator_team() -> QuerySet[User]:
    """Platform operators, active ones first, with how many tenants each belongs to."""
    return _with_tenant_count(User.objects.filter(platform_admin=True)).order_by(
        "-is_active", "name", "email"
    )


def open_invites() -> QuerySet[OperatorInvite]:
    """Invites that did not finish (still running, or failed and waiting for a retry)."""
    return (
        OperatorInvite.objects.exclude(state=InviteState.COMPLETED)
        .select_related("invited_by")
        .order_by("-updated_at")
    )


def _tenant_admin() -> Exists:
    return Exists(
        Membership.objects.filter(
            user=OuterRef("pk"), role__in=(MemberRole.OWNER, MemberRole.ADMIN)
        ).exclude(tenant__status=TenantStatus.DELETED)
    )


def _searched(users: QuerySet[User], search: str) -> QuerySet[User]:
    search = search.strip()
    if search:
        users = users.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return users


def _view_filter(view: str) -> Q:
    if view == "admins":
        # The people who administer something: operators, and tenant owners and admins.
        return Q(platform_admin=True) | Q(_tenant_admin())
    if view == "inactive":
        return Q(is_active=False)
    return Q()


def _ordering(fields: Sequence[str]) -> list[str | OrderBy]:
    """`fields` as an ORM ordering, with "Never" signed in placed the same on every
    database: the least recent of all (first going up, last going down)."""
    ordering: list[str | OrderBy] = []
    for field in fields or ("name", "email", "pk"):
        name = field.lstrip("-")
        if name == "last_login":
            column = F(name)
            descending = field.startswith("-")
            ordering.append(
                column.desc(nulls_last=True) if descending else column.asc(nulls_first=True)
            )
        else:
            ordering.append(field)
    return ordering


def user_list(*, view: str = "", search: str = "", order_by: Sequence[str] = ()) -> QuerySet[User]:
    """Every user, narrowed to a view ("", "admins", "inactive") and a name/email
    search, ordered by `order_by` (field names, "-" for descending; by name if empty)."""
    users = _with_tenant_count(User.objects.all()).annotate(is_tenant_admin=_tenant_admin())
    return _searched(users.filter(_view_filter(view)), search).order_by(*_ordering(order_by))


def user_view_counts(*, search: str = "") -> dict[str, int]:
    """How many users each view holds for this search, in one query ("" is every user)."""
    counts = _searched(User.objects.all(), search).aggregate(
        every=Count("pk"),
        admins=Count("pk", filter=_view_filter("admins")),
        inactive=Count("pk", filter=_view_filter("inactive")),
    )
    return {"": counts["every"], "admins": counts["admins"], "inactive": counts["inactive"]}
