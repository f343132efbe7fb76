"""The command palette's users (registered in OperatorsConfig.ready)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from console.palette import PaletteItem
from operators.models import User


class UserSource:
    kind = "user"
    label = "Users"

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        """Users whose email or name contains `query` (any case), by email. One query.
        A user has no page of their own: the item opens the users list searched for
        their email, where they are the one row."""
        rows = (
            User.objects.filter(Q(email__icontains=query) | Q(name__icontains=query))
            .order_by("email")
            .values_list("email", "name", "platform_admin", "is_active")[:limit]
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
                        "operator" if platform_admin else "",
                        "" if is_active else "inactive",
                    )
                    if part
                ),
                url=f"{users_url}?{urlencode({'q': email})}",
                key=email,
            )
            for email, name, platform_admin, is_active in rows
        ]
