"""What the flags pages show, computed from flags and their history: state tones, the
scope summary of a row, relative times, history lines and the preview figures.
Plain data for the templates; no request, no response."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from flags import engine, explain, reach, selectors
from flags.engine import FlagSnapshot, Scope
from flags.forms import FIELD_LABELS
from flags.models import Flag, FlagChange, FlagState
from flags.services import FLAG_EDITABLE_FIELDS
from flags.snapshot import Snapshot, get_snapshot

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
    reach: FlagReach | None = None


def _row(flag: Flag, now: datetime) -> FlagRow:
    last_at = getattr(flag, "last_change_at", None)
    return FlagRow(
        flag=flag,
        scope=scope_summary(flag),
        last_at=last_at,
        last_by=(getattr(flag, "last_change_by", "") or "system") if last_at else "",
        last_ago=ago(last_at, now) if last_at else "",
        reach=flag_reach(flag),
    )


def flag_rows(flags: Iterable[Flag]) -> list[FlagRow]:
    """Rows of flags read by `selectors.flag_table` (which annotates the last change)."""
    now = timezone.now()
    return [_row(flag, now) for flag in flags]


def flag_row(key: str) -> FlagRow | None:
    flag = selectors.flag_table().filter(key=key).first()
    return _row(flag, timezone.now()) if flag else None


# ---------------------------------------------------------------- reach --


@dataclass(frozen=True)
class EnvReach:
    environment: str
    on: int
    meant: bool  # the flag is meant for this environment (its list names it, or is empty)


@dataclass(frozen=True)
class FlagReach:
    """Live tenants a saved flag reaches now, per environment (prod first), and the
    environments it is meant for where it reaches nobody, with why."""

    envs: tuple[EnvReach, ...]
    total: int
    unreached: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def summary(self) -> str:
        return ", ".join(f"{e.environment} {e.on}" for e in self.envs)

    @property
    def badge_text(self) -> str:
        return f"Reaches nobody in {', '.join(self.unreached)}" if self.unreached else ""


def reach_environments() -> list[str]:
    """The platform's environments, prod first: where a mistake costs most is read first."""
    # Settings list them dev, staging, prod: reversed, prod comes first, then staging.
    return sorted(reversed(settings.ENVIRONMENTS), key=lambda env: env != "prod")


def flag_snapshot_of(flag: Flag) -> FlagSnapshot:
    return FlagSnapshot(
        key=flag.key, state=flag.state, pct=flag.pct, scope=Scope.from_lists(flag.scope)
    )


class _ReachMemo:
    """Reach per flag (by its rules: key, state, pct, scope) for the live tenants now.

    TRICKY: counting is exact (the engine over every tenant), which at 10,000 tenants
    and 200 flags takes seconds cold, so each flag's counts are kept, keyed by its
    rules (an entry can never describe other rules than the row it is shown on; a
    save counts the new rules of that one flag). The memo follows the evaluation
    snapshot (flags.snapshot, rebuilt when the flags or tenants version moves): when
    the tenants changed, each kept count is adjusted by asking the engine about the
    tenants that left, arrived or changed only, which is exact since a count is a sum
    over tenants. Only a change of more than ADJUST_LIMIT tenants starts over."""

    LIMIT = 5_000  # distinct rules kept; more starts over
    ADJUST_LIMIT = 2_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.population = reach.Population(())
        self.counts: dict[FlagSnapshot, dict[str, int]] = {}
        self.answers: dict[FlagSnapshot, FlagReach] = {}

    def population_of(self, snapshot: Snapshot) -> reach.Population:
        if self.snapshot is snapshot:
            return self.population
        environment = settings.DEZKY_ENVIRONMENT
        before = self.snapshot.tenants if self.snapshot is not None else None
        now = snapshot.tenants
        if before is None or before != now:
            self.population = reach.Population([row.context(environment) for row in now.values()])
            self.answers = {}
            if before is None:
                self.counts = {}
            else:
                left = [row for slug, row in before.items() if now.get(slug) != row]
                came = [row for slug, row in now.items() if before.get(slug) != row]
                if len(left) + len(came) > self.ADJUST_LIMIT:
                    self.counts = {}
                else:
                    removed = [row.context(environment) for row in left]
                    added = [row.context(environment) for row in came]
                    self.counts = {
                        flag: reach.adjust(counts, flag, removed=removed, added=added)
                        for flag, counts in self.counts.items()
                    }
        self.snapshot = snapshot
        return self.population

    def get(self, flag: FlagSnapshot) -> FlagReach:
        with self.lock:
            population = self.population_of(get_snapshot())
            found = self.answers.get(flag)
            if found is None:
                if len(self.counts) >= self.LIMIT:
                    self.counts, self.answers = {}, {}
                counts = self.counts.get(flag)
                if counts is None:
                    counts = reach.flag_reach(flag, population, reach_environments())
                    self.counts[flag] = counts
                found = self.answers[flag] = _reach_of(flag, counts, population)
            return found


def _env_words(envs: Sequence[str]) -> str:
    return envs[0] if len(envs) == 1 else f"{', '.join(envs[:-1])} or {envs[-1]}"


def _reach_of(
    flag: FlagSnapshot, counts: dict[str, int], population: reach.Population
) -> FlagReach:
    environments = reach_environments()
    total = len(population)
    unreached = reach.unreached(flag, counts, environments, total)
    meant = set(reach.meant_for(flag, environments))
    # One warning per distinct cause: environments whose scope lists match alike share it.
    causes: dict[tuple[reach.AxisMatch, ...], list[str]] = {}
    for env in unreached:
        causes.setdefault(tuple(reach.axis_matches(flag, population.tenants, env)), []).append(env)
    warnings = tuple(
        explain.zero_reach_words(_env_words(envs), matches, flag.state)
        for matches, envs in causes.items()
    )
    return FlagReach(
        envs=tuple(EnvReach(env, counts[env], env in meant) for env in environments),
        total=total,
        unreached=tuple(unreached),
        warnings=warnings,
    )


_memo = _ReachMemo()


def flag_reach(flag: Flag) -> FlagReach:
    """The reach of a saved flag: no query beyond the evaluation snapshot's own."""
    return _memo.get(flag_snapshot_of(flag))


def reset_reach_for_tests() -> None:
    global _memo
    _memo = _ReachMemo()


# ---------------------------------------------------------- explanation --


def explain_form_context(flag: Flag, *, tenant_slug: str, environment: str) -> dict[str, Any]:
    """The panel's "Why on or off for a tenant?" answer (or the error that names the
    field), from the same snapshot evaluation answers from."""
    context: dict[str, Any] = {
        "explain_tenant": tenant_slug,
        "explain_environment": environment,
        "explain_error": "",
        "explain_error_field": "",
        "explanation": None,
    }
    if not tenant_slug:
        return context
    if environment not in settings.ENVIRONMENTS:
        context["explain_error"] = f"Pick one of {', '.join(settings.ENVIRONMENTS)}."
        context["explain_error_field"] = "environment"
        context["explain_error_label"] = "Environment"
        context["explain_error_list"] = [context["explain_error"]]
        return context
    tenant = get_snapshot().tenants.get(tenant_slug)
    if tenant is None:
        context["explain_error"] = (
            f"No live tenant has the slug {tenant_slug} (unknown or deleted); "
            "evaluation answers 404 for it."
        )
        context["explain_error_field"] = "tenant"
        context["explain_error_label"] = "Tenant"
        context["explain_error_list"] = [context["explain_error"]]
        return context
    context["explanation"] = explain.explain(flag_snapshot_of(flag), tenant.context(environment))
    context["explain_tenant_name"] = tenant.name
    return context


def tenant_flags_context(*, tenant_slug: str, environment: str) -> dict[str, Any]:
    """Every flag's value for one tenant with the rule that decided it (the tenant
    page's Flags tab). A deleted tenant is not in the snapshot: it gets no flags."""
    snapshot = get_snapshot()
    if environment not in settings.ENVIRONMENTS:
        environment = settings.DEZKY_ENVIRONMENT
    tenant = snapshot.tenants.get(tenant_slug)
    explanations = []
    if tenant is not None:
        ctx = tenant.context(environment)
        explanations = [explain.explain(flag, ctx) for flag in snapshot.flags]
    return {
        "flags_environment": environment,
        "flags_environments": reach_environments(),
        "flag_explanations": explanations,
        "flags_on": sum(e.value for e in explanations),
        "flags_live": tenant is not None,
    }


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
    flips = env_flips(key=key, state=state, pct=pct, scope=scope)
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
        "flips": flips,
        "flips_any": any(f.any for f in flips),
    }


def env_flips(
    *, key: str, state: str, pct: int, scope: Mapping[str, Sequence[str]]
) -> list[reach.Flips]:
    """Per environment (prod first), the live tenants that turn on and off if the
    proposed rules replace the saved flag: what a save is about to do everywhere."""
    snapshot = get_snapshot()
    proposed = FlagSnapshot(key=key, state=state, pct=pct, scope=Scope.from_lists(scope))
    saved = snapshot.flags_by_key.get(key) or FlagSnapshot(key=key, state=engine.OFF)
    with _memo.lock:
        population = _memo.population_of(snapshot)
    return reach.flips(saved, proposed, population, reach_environments())


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
