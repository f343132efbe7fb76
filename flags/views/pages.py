"""The flags list and a flag's side panel. Reads only; every write is in
flags.views.editing, which renders the same panel through `panel_context`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.errors import NotFound
from flags import selectors
from flags.forms import FIELD_LABELS, FlagCreateForm, FlagEditForm, FlagValuesForm
from flags.models import Flag, FlagChange, FlagState
from flags.services import FLAG_EDITABLE_FIELDS
from operators.permissions import operator_required
from tenants.models import Plan

STATE_TONES = {
    FlagState.OFF: "neutral",
    FlagState.ON: "success",
    FlagState.TARGETED: "info",
    FlagState.ROLLOUT: "accent",
}
# Enough slugs to recognise who flips; the count says how many more there are.
PREVIEW_SLUGS_SHOWN = 20
SCOPE_AXIS_NAMES = (
    ("plans", "plan", "plans"),
    ("environments", "env", "environments"),
    ("tenant_slugs", "tenant", "tenants"),
    ("partner_slugs", "partner", "partners"),
)


def is_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants a fragment; htmx restoring history after Back wants the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


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
    tone: str
    scope: ScopeSummary
    last_at: datetime | None
    last_by: str
    last_ago: str


def _with_last_change(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    # One query for the whole list, however many flags there are.
    newest = FlagChange.objects.filter(flag=OuterRef("pk")).order_by("-at", "-id")
    return flags.annotate(
        last_change_at=Subquery(newest.values("at")[:1]),
        last_change_by=Subquery(newest.values("actor_email")[:1]),
    )


def _row(flag: Flag, now: datetime) -> FlagRow:
    last_at = getattr(flag, "last_change_at", None)
    return FlagRow(
        flag=flag,
        tone=STATE_TONES.get(flag.state, "neutral"),
        scope=scope_summary(flag),
        last_at=last_at,
        last_by=(getattr(flag, "last_change_by", "") or "system") if last_at else "",
        last_ago=ago(last_at, now) if last_at else "",
    )


def flag_rows(*, search: str = "") -> list[FlagRow]:
    now = timezone.now()
    return [_row(flag, now) for flag in _with_last_change(selectors.flag_list(search=search))]


def flag_row(key: str) -> FlagRow | None:
    flag = _with_last_change(Flag.objects.filter(key=key)).first()
    return _row(flag, timezone.now()) if flag else None


def list_context(*, search: str, rows: list[FlagRow]) -> dict[str, Any]:
    return {
        "rows": rows,
        "search": search,
        "create_form": FlagCreateForm(auto_id="new-flag-%s"),
    }


def _search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:100]


@operator_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    search = _search_term(request)
    rows = flag_rows(search=search)
    if is_fragment(request):
        return render(
            request, "flags/list.html#rows", {"rows": rows, "search": search, "oob_count": True}
        )
    return render(request, "flags/list.html", list_context(search=search, rows=rows))


# --------------------------------------------------------------- the panel --


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


def panel_context(
    flag: Flag,
    *,
    form: FlagEditForm | None = None,
    base_form: FlagValuesForm | None = None,
    conflict: Any = None,
) -> dict[str, Any]:
    """Everything the panel template needs. A bound `form` (after a refused save) keeps
    what the operator typed; `base_form` carries the values the edit started from."""
    initial = FlagValuesForm.initial_from(flag)
    if form is None:
        form = FlagEditForm(initial={**initial, "expected_version": flag.version}, auto_id="f-%s")
    if base_form is None:
        base_form = FlagValuesForm(initial=initial, prefix="base", auto_id=False)
    preview = None
    if not form.is_bound:
        preview = preview_context(key=flag.key, state=flag.state, pct=flag.pct, scope=flag.scope)
    elif form.is_valid():
        data = form.cleaned_data
        preview = preview_context(
            key=flag.key, state=data["state"], pct=data["pct"], scope=form.scope()
        )
    return {
        "flag": flag,
        "form": form,
        "base_form": base_form,
        "tone": STATE_TONES.get(flag.state, "neutral"),
        "updated_ago": ago(flag.updated_at),
        "history": history_entries(flag.history.all()),
        "preview": preview,
        "conflict": conflict,
        "killed": flag.state == FlagState.OFF and flag.pct == 0,
        "states": FlagState.choices,
        "plans": Plan.choices,
        "environments": settings.ENVIRONMENTS,
        "server_environment": settings.DEZKY_ENVIRONMENT,
    }


def gone_response(request: HttpRequest, key: str) -> HttpResponse:
    """The panel of a flag that no longer exists (deleted in another tab or by someone else)."""
    return render(request, "flags/panel_gone.html", {"key": key})


@operator_required
@require_GET
def flag_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        flag = selectors.flag_get(key=key)
    except NotFound as error:
        if is_fragment(request):
            return gone_response(request, key)
        raise Http404(error.message) from None
    context = panel_context(flag)
    if is_fragment(request):
        return render(request, "flags/panel.html", context)
    search = _search_term(request)
    return render(
        request,
        "flags/list.html",
        {**list_context(search=search, rows=flag_rows(search=search)), **context},
    )
