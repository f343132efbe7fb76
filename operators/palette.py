"""The command palette's users and "View as a tenant member…" (registered in
OperatorsConfig.ready)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from console.palette import PaletteItem
from operators.models import User
from tenants.models import Membership, TenantStatus

MEMBER = "tenant member"


class UserSource:
    kind = "user"
    label = "Users"

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        """Users whose email or name contains `query` (any case), by email. One query.
        A user has no page of their own: the item opens the users list searched for
        their email, where they are the one row."""
        rows = (
            User.objects.filter(Q(email__icontains=query) | Q(name__icontains=query))
            .annotate(member=Exists(_live_membership()))
            .order_by("email")
            .values_list("email", "name", "platform_admin", "is_active", "member")[:limit]
        )
        users_url = reverse("operators:users")
        return [
            PaletteItem(
                kind=self.kind,
                title=name or email,
                subtitle=" · ".join(
                    part
                    for part in (
                        email,
                        "operator" if platform_admin else (MEMBER if member else ""),
                        "" if is_active else "inactive",
                    )
                    if part
                ),
                url=f"{users_url}?{urlencode({'q': email})}",
                key=email,
            )
            for email, name, platform_admin, is_active, member in rows
        ]

    def actions_for(self, item: PaletteItem) -> list[PaletteItem]:
        """For a tenant member, "View as <member>…": it opens the start page, where a
        reason is required; nothing starts from the palette."""
        parts = item.subtitle.split(" · ")
        # Only someone who can be viewed as: a member of a live tenant, active.
        if MEMBER not in parts or "inactive" in parts:
            return []
        return [
            PaletteItem(
                kind="action",
                title=f"View as {item.title}…",
                subtitle="See the console as this member sees it",
                url=f"{reverse('operators:impersonation-start')}?{urlencode({'member': item.key})}",
                key=f"view-as:{item.key}",
                icon="eye",
            )
        ]


def _live_membership() -> Any:
    return Membership.objects.filter(user=OuterRef("pk")).exclude(
        tenant__status=TenantStatus.DELETED
    )


class ImpersonationSource:
    """The start page ("View as a tenant member…"), where the member is picked."""

    kind = "view-as"
    label = "View as"
    PHRASES = ("view as", "impersonate", "impersonation")

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        # Asked for by name only ("view", "imper…"), so other searches stay quiet.
        q = query.lower()
        if len(q) < 4 or not any(p.startswith(q) or q.startswith(p) for p in self.PHRASES):
            return []
        return [
            PaletteItem(
                kind="action",
                title="View as a tenant member…",
                subtitle="Pick a member and give a reason",
                url=reverse("operators:impersonation-start"),
                key="view-as",
                icon="eye",
            )
        ][:limit]
