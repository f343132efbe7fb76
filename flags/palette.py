"""The command palette's feature flags (registered in FlagsConfig.ready)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from console.palette import PaletteItem
from flags.models import Flag, FlagState

DESCRIPTION_CHARS = 90


class FlagSource:
    kind = "flag"
    label = "Feature flags"

    def search(self, query: str, limit: int) -> list[PaletteItem]:
        """Flags whose key or description contains `query` (any case), by key. One query."""
        rows = (
            Flag.objects.filter(Q(key__icontains=query) | Q(description__icontains=query))
            .order_by("key")
            .values_list("key", "description", "state")[:limit]
        )
        states = dict(FlagState.choices)
        return [
            PaletteItem(
                kind=self.kind,
                title=key,
                subtitle=" · ".join(
                    part for part in (states.get(state, state), _short(description)) if part
                ),
                url=reverse("flags:detail", args=[key]),
                key=key,
            )
            for key, description, state in rows
        ]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_CHARS else f"{text[: DESCRIPTION_CHARS - 1]}…"
