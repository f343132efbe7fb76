"""Reads about flags: evaluation from the snapshot, preview, and lists for pages and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from core.errors import NotFound
from flags import engine, staleness
from flags.engine import FlagSnapshot, Result, Scope
from flags.models import Flag, FlagChange, FlagState
from flags.snapshot import Snapshot, TenantRow, get_snapshot
from tenants.models import Partner, Tenant, TenantStatus


def tenant_in_snapshot(snapshot: Snapshot, slug: str) -> TenantRow:
    tenant = snapshot.tenants.get(slug)
    if tenant is None:
        raise NotFound(
            f"No tenant with the slug {slug!r} (unknown or deleted).", field="tenantSlug"
        )
    return tenant


@dataclass(frozen=True)
class TenantAnswers:
    """Every flag's answer for one live tenant, with what counting it needs: the
    snapshot's own flags tuple and the context (flags.counters counts the request
    once by these and expands it at flush time)."""

    answers: dict[str, bool]
    flags: tuple[FlagSnapshot, ...]
    ctx: engine.TenantContext


def flags_for_tenant(*, tenant_slug: str, environment: str | None = None) -> TenantAnswers:
    """`{key: on?}` for every flag, for one live tenant. Zero queries in steady state."""
    snapshot = get_snapshot()
    tenant = tenant_in_snapshot(snapshot, tenant_slug)
    ctx = tenant.context(environment or settings.DEZKY_ENVIRONMENT)
    return TenantAnswers(engine.evaluate_all(snapshot.flags, ctx), snapshot.flags, ctx)


def explain_for_tenant(
    *, tenant_slug: str, environment: str | None = None, keys: Sequence[str] | None = None
) -> dict[str, Result]:
    snapshot = get_snapshot()
    tenant = tenant_in_snapshot(snapshot, tenant_slug)
    ctx = tenant.context(environment or settings.DEZKY_ENVIRONMENT)
    flags = snapshot.flags if keys is None else [snapshot.flags_by_key[k] for k in keys]
    return engine.explain_all(flags, ctx)


@dataclass(frozen=True)
class Preview:
    on: int
    total: int
    turned_on: list[str]
    turned_off: list[str]
    environment: str


def flag_preview(
    *,
    key: str,
    state: str,
    pct: int,
    scope: Mapping[str, Sequence[str]],
    environment: str | None = None,
) -> Preview:
    """How many live tenants a proposed flag turns on, and who flips compared with the
    saved flag of that key (all of them count as flips for a flag not saved yet)."""
    snapshot = get_snapshot()
    environment = environment or settings.DEZKY_ENVIRONMENT
    proposed = FlagSnapshot(key=key, state=state, pct=pct, scope=Scope.from_lists(scope))
    saved = snapshot.flags_by_key.get(key) or FlagSnapshot(key=key, state=engine.OFF)
    on = 0
    turned_on: list[str] = []
    turned_off: list[str] = []
    for slug, tenant in snapshot.tenants.items():
        ctx = tenant.context(environment)
        now = engine.evaluate(proposed, ctx).value
        before = engine.evaluate(saved, ctx).value
        on += now
        if now and not before:
            turned_on.append(slug)
        elif before and not now:
            turned_off.append(slug)
    return Preview(on, len(snapshot.tenants), turned_on, turned_off, environment)


def flag_list(*, search: str = "") -> QuerySet[Flag]:
    flags = Flag.objects.order_by("key")
    if search:
        flags = flags.filter(Q(key__icontains=search) | Q(description__icontains=search))
    return flags


def flag_get(*, key: str) -> Flag:
    try:
        return Flag.objects.prefetch_related("history").get(key=key)
    except Flag.DoesNotExist:
        raise NotFound(f"There is no flag with the key {key}.", field="key") from None


def with_last_change(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    """Each flag with when and by whom it last changed, in the same query, however
    many flags there are."""
    newest = FlagChange.objects.filter(flag=OuterRef("pk")).order_by("-at", "-id")
    return flags.annotate(
        last_change_at=Subquery(newest.values("at")[:1]),
        last_change_by=Subquery(newest.values("actor_email")[:1]),
    )


def flag_table(
    *, search: str = "", order_by: Sequence[str] = (), stale: bool = False
) -> QuerySet[Flag]:
    """The flags page's rows: `flag_list` with the last change of each flag and the
    keys its columns sort by (`state_rank`, `rollout_pct`, `changed_at`), in one query
    however many flags there are. `order_by` names those keys or model fields.
    Each row also carries its evaluation counts' verdict (flags.staleness:
    `last_evaluated_at`, `stale_reason`, `stale_label`); `stale` keeps the stale ones."""
    states = [value for value, _ in FlagState.choices]
    flags = staleness.with_evaluations(with_last_change(flag_list(search=search)))
    if stale:
        flags = flags.filter(stale_reason__isnull=False)  # type: ignore[misc]
    flags = flags.annotate(
        # States in the order an operator reads them (off, on, targeted, rollout),
        # not alphabetically.
        state_rank=Case(
            *(When(state=value, then=Value(rank)) for rank, value in enumerate(states)),
            default=Value(len(states)),
            output_field=IntegerField(),
        ),
        # The rollout column shows a share only for rollout flags; the others ("—")
        # sort before 0 %.
        rollout_pct=Case(
            When(state=FlagState.ROLLOUT, then=F("pct")),
            default=Value(-1),
            output_field=IntegerField(),
        ),
        # A flag without a recorded change sorts by when it was last saved, so the
        # order is the same on SQLite and PostgreSQL (which place NULLs differently).
        changed_at=Coalesce(F("last_change_at"), F("updated_at")),
    )
    return flags.order_by(*order_by) if order_by else flags


SCOPE_CANDIDATES_SHOWN = 8


def scope_candidates(*, axis: str, search: str, exclude: set[str]) -> list[tuple[str, str]]:
    """Tenants or partners (slug, name) an operator may add to a flag's scope."""
    # Only live tenants: a deleted one can never match, so offering it would mislead.
    records: QuerySet[Tenant] | QuerySet[Partner]
    if axis == "tenant_slugs":
        records = Tenant.objects.exclude(status=TenantStatus.DELETED)
    else:
        records = Partner.objects.all()
    if search:
        records = records.filter(Q(slug__icontains=search) | Q(name__icontains=search))
    records = records.exclude(slug__in=exclude).order_by("slug")
    return list(records.values_list("slug", "name")[:SCOPE_CANDIDATES_SHOWN])
