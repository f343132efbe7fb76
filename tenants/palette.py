"""The command palette's tenants and partners (registered in TenantsConfig.ready)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import reverse

from console.palette import PaletteItem
from tenants.models import Partner, Tenant, TenantStatus


class TenantSource:
    kind = "tenant"
    label = "Tenants"

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        """Tenants whose slug or name contains `query` (any case), live ones first,
        deleted ones never. One query, only the columns shown."""
        rows = (
            Tenant.objects.filter(Q(slug__icontains=query) | Q(name__icontains=query))
            .exclude(status=TenantStatus.DELETED)
            .alias(
                dormant=Case(
                    When(status=TenantStatus.ACTIVE, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("dormant", "slug")
            .values_list("slug", "name", "status")[:limit]
        )
        labels = dict(TenantStatus.choices)
        return [
            PaletteItem(
                kind=self.kind,
                title=name,
                subtitle=slug if status == TenantStatus.ACTIVE else f"{slug} · {labels[status]}",
                url=reverse("tenants:detail", args=[slug]),
                key=slug,
            )
            for slug, name, status in rows
        ]

    def actions_for(self, item: PaletteItem) -> list[PaletteItem]:
        # The GET of the reconcile URL is its confirmation page; nothing runs from here.
        return [
            PaletteItem(
                kind="action",
                title=f"Reconcile {item.title}",
                subtitle=f"Re-check {item.key}'s provisioning",
                url=reverse("tenants:reconcile", args=[item.key]),
                key=f"reconcile:{item.key}",
                icon="refresh-cw",
            )
        ]


class PartnerSource:
    kind = "partner"
    label = "Partners"

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        rows = (
            Partner.objects.filter(Q(slug__icontains=query) | Q(name__icontains=query))
            .order_by("slug")
            .values_list("slug", "name")[:limit]
        )
        return [
            PaletteItem(
                kind=self.kind,
                title=name,
                subtitle=slug,
                url=reverse("tenants:partner", args=[slug]),
                key=slug,
            )
            for slug, name in rows
        ]
