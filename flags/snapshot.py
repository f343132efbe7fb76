"""The in-memory snapshot that evaluation answers from.

Every flag and every live tenant's context, built from the database only when
the "flags" or "tenants" version in the coordination cache moves; a steady-state
evaluation touches neither the database nor (for FLAGS_SNAPSHOT_CHECK_SECONDS at
a time) the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core import versions
from flags.engine import FlagSnapshot, Scope, TenantContext

WATCHED = ("flags", "tenants")


@dataclass(frozen=True, slots=True)
class TenantRow:
    tenant_id: str
    slug: str
    name: str
    plan: str
    partner_slug: str | None

    def context(self, environment: str) -> TenantContext:
        return TenantContext(self.tenant_id, self.slug, self.plan, self.partner_slug, environment)


@dataclass(frozen=True)
class Snapshot:
    versions: tuple[int, ...]
    flags: tuple[FlagSnapshot, ...]
    flags_by_key: dict[str, FlagSnapshot]
    tenants: dict[str, TenantRow]  # by slug; deleted tenants are not here


_state = versions.LocalState(*WATCHED, check_seconds=lambda: settings.FLAGS_SNAPSHOT_CHECK_SECONDS)


def get_snapshot() -> Snapshot:
    return _state.get(build_snapshot)  # type: ignore[return-value]


def build_snapshot(at_versions: tuple[int, ...]) -> Snapshot:
    from flags.models import Flag
    from tenants.models import Tenant, TenantStatus

    flags = tuple(
        FlagSnapshot(
            key=flag.key,
            state=flag.state,
            pct=flag.pct,
            scope=Scope.from_lists(flag.scope),
        )
        for flag in Flag.objects.order_by("key")
    )
    rows = (
        Tenant.objects.exclude(status=TenantStatus.DELETED)
        .order_by("slug")
        .values_list("stable_id", "slug", "name", "plan", "partner__slug")
    )
    tenants = {
        slug: TenantRow(str(pk), slug, name, plan, partner)
        for pk, slug, name, plan, partner in rows
    }
    return Snapshot(
        versions=at_versions,
        flags=flags,
        flags_by_key={flag.key: flag for flag in flags},
        tenants=tenants,
    )


def reset_for_tests() -> None:
    _state.reset()
