"""What the flags pages show, computed from flags and their history: state tones, the
scope summary of a row, relative times, history lines and the preview figures.
Plain data for the templates; no request, no response."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from flags import selectors
from flags.forms import FIELD_LABELS
from flags.models import Flag, FlagChange, FlagState
from flags.services import FLAG_EDITABLE_FIELDS

# Enough slugs to recognise who flips; the count says how many more there are.
PREVIEW_SLUGS_SHOWN = 20
SCOPE_AXIS_NAMES = (
    ("plans", "plan", "plans"),
    ("environments", "env", "environments"),
    ("tenant_slugs", "tenant", "tenants"),
    ("partner_slugs", "partner", "partners"),
)


def ago(at: datetime, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or timezone.now()) - at).total_seconds()))
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 86400 * 45:
        return f"{seconds // 86400} d ago"
    return f"on {at:%Y-%m-%d}"


# ---------------------------------------------------------------- the list --


@dataclass(frozen=True)
class ScopePart:
    axis: str
    text: str
    title: str


@dataclass(frozen=True)
class ScopeSummary:
    parts: tuple[ScopePart, ...]
    note: str
    warn: bool = False
    # On and off ignore the scope; it is still shown (dimmed) because it is kept.
    ignored: bool = False


def scope_summary(flag: Flag) -> ScopeSummary:
    parts = []
    for axis, short, noun in SCOPE_AXIS_NAMES:
        values = list(getattr(flag, f"scope_{axis}"))
        if values:
            text = ", ".join(values) if len(values) <= 2 else f"{len(values)} {noun}"
            parts.append(ScopePart(short, text, ", ".join(values)))
    state = flag.state
    if state == FlagState.ON:
        return ScopeSummary(tuple(parts), "All tenants", ignored=bool(parts))
    if state == FlagState.OFF:
        return ScopeSummary(tuple(parts), "Nobody", ignored=bool(parts))
    if not parts and state == FlagState.TARGETED:
        return ScopeSummary((), "Nobody: no scope set", warn=True)
    return ScopeSummary(tuple(parts), "" if parts else "All tenants eligible")


@dataclass(frozen=True)
class FlagRow:
    flag: Flag
    scope: ScopeSummary
    last_at: datetime | None
    last_by: str
    last_ago: str


def _row(flag: Flag, now: datetime) -> FlagRow:
    last_at = getattr(flag, "last_change_at", None)
    return FlagRow(
        flag=flag,
        scope=scope_summary(flag),
        last_at=last_at,
        last_by=(getattr(flag, "last_change_by", "") or "system") if last_at else "",
        last_ago=ago(last_at, now) if last_at else "",
    )


def flag_rows(flags: Iterable[Flag]) -> list[FlagRow]:
    """Rows of flags read by `selectors.flag_table` (which annotates the last change)."""
    now = timezone.now()
    return [_row(flag, now) for flag in flags]


def flag_row(key: str) -> FlagRow | None:
    flag = selectors.flag_table().filter(key=key).first()
    return _row(flag, timezone.now()) if flag else None


@dataclass(frozen=True)
class ChangeLine:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    actor: str
    at: datetime
    ago: str
    created: bool
    lines: tuple[ChangeLine, ...]


def display_value(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "none"
    if field == "pct":
        return f"{value} %"
    if field == "description" and not value:
        return "(empty)"
    return str(value)


def change_lines(changes: Mapping[str, Any], *, created: bool = False) -> tuple[ChangeLine, ...]:
    lines = []
    for field in (*FLAG_EDITABLE_FIELDS, *sorted(set(changes) - set(FLAG_EDITABLE_FIELDS))):
        if field not in changes:
            continue
        change = changes[field] or {}
        after = change.get("after")
        # A creation lists every field; only the ones that say something are shown.
        if created and field != "state" and after in ("", 0, [], None):
            continue
        lines.append(
            ChangeLine(
                field=field,
                label=FIELD_LABELS.get(field, field),
                before=display_value(field, change.get("before")),
                after=display_value(field, after),
            )
        )
    return tuple(lines)


def history_entries(changes: Iterable[FlagChange]) -> list[HistoryEntry]:
    now = timezone.now()
    entries = []
    for change in changes:
        diff = change.changes or {}
        created = bool(diff) and all((c or {}).get("before") is None for c in diff.values())
        entries.append(
            HistoryEntry(
                actor=change.actor_email or "system",
                at=change.at,
                ago=ago(change.at, now),
                created=created,
                lines=change_lines(diff, created=created),
            )
        )
    return entries


def preview_context(
    *,
    key: str,
    state: str,
    pct: int,
    scope: Mapping[str, Sequence[str]],
    environment: str | None = None,
) -> dict[str, Any]:
    preview = selectors.flag_preview(
        key=key, state=state, pct=pct, scope=scope, environment=environment
    )
    return {
        "on": preview.on,
        "total": preview.total,
        "share": round(100 * preview.on / preview.total) if preview.total else 0,
        "environment": preview.environment,
        "turned_on": preview.turned_on[:PREVIEW_SLUGS_SHOWN],
        "turned_on_count": len(preview.turned_on),
        "turned_on_more": max(0, len(preview.turned_on) - PREVIEW_SLUGS_SHOWN),
        "turned_off": preview.turned_off[:PREVIEW_SLUGS_SHOWN],
        "turned_off_count": len(preview.turned_off),
        "turned_off_more": max(0, len(preview.turned_off) - PREVIEW_SLUGS_SHOWN),
    }


# ----------------------------------------------------------- confirmations --


def kill_dialog(key: str, url: str) -> dict[str, str]:
    """The words of the kill switch's confirmation, the same in its dialog and page."""
    return {
        "id": "kill-dialog",
        "title": f"Kill {key}?",
        "text": (
            "Turns the flag off for every tenant right now: state off, rollout 0 %. "
            "Services pick it up within a second."
        ),
        "note": (
            "The kill switch does not check versions, so it cannot lose a race with another "
            "operator's edit. Unsaved changes in this panel are discarded."
        ),
        "confirm": "Kill flag",
        "url": url,
        "icon": "ban",
    }


def delete_dialog(key: str, url: str) -> dict[str, str]:
    """The words of a flag's delete confirmation, the same in its dialog and page."""
    return {
        "id": "delete-dialog",
        "title": f"Delete {key}?",
        "text": (
            "The flag is removed and every service stops getting it. "
            "Its history stays in the audit log."
        ),
        "note": (
            "The key is retired: it can never be used for a new flag, so a service still "
            "asking for it gets “not found”, never a different flag with other rules."
        ),
        "confirm": "Delete flag",
        "url": url,
        "icon": "trash-2",
    }
