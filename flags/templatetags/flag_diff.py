"""`{% diff_table conflict started="You started from" yours="Yours" %}`: the table of
what changed since the version an edit started from (flags.conflicts.ConflictView's
rows), shared by the panel's stale-save view and a change request's page. Only the
column headings are the page's own."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("flags/diff_table.html")
def diff_table(
    conflict: Any,
    *,
    started: str,
    yours: str,
    now: str = "Now",
    testid: str = "",
) -> dict[str, Any]:
    """`conflict` has `rows` (label, started, theirs, yours, clash, they_changed,
    you_changed) and `submitted_version`; the headings name the columns."""
    return {
        "conflict": conflict,
        "started": started,
        "now": now,
        "yours": yours,
        "testid": testid,
    }
