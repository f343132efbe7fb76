"""Why a flag is on or off for one tenant, in words an operator can act on, and why a
flag reaches nobody. One place for the wording: the flag's panel, the tenant's
Flags tab and `POST /api/flags/evaluate/` with `explain` all say it from here.
Pure Python, no Django: the engine decides, this only reads its decision back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flags import engine
from flags.engine import FlagSnapshot, Scope, TenantContext
from flags.reach import AxisMatch

# An axis, as a sentence names it: (the list, the tenant's value).
AXIS_WORDS = {
    "plans": ("plan list", "plan"),
    "tenant_slugs": ("tenant list", "slug"),
    "partner_slugs": ("partner list", "partner"),
    "environments": ("environment list", "environment"),
}
AND_NOTE = "Scope lists combine with AND: a tenant must match every non-empty list."


@dataclass(frozen=True)
class AxisCheck:
    axis: str
    allowed: tuple[str, ...]
    value: str | None
    matches: bool

    @property
    def words(self) -> str:
        """ "plan business is in the plan list (business, enterprise)"."""
        noun, value_noun = AXIS_WORDS[self.axis]
        allowed = _listing(self.allowed)
        if self.value is None:
            return f"no {value_noun}, so not in the {noun} ({allowed})"
        verdict = "is in" if self.matches else "is not in"
        return f"{value_noun} {self.value} {verdict} the {noun} ({allowed})"


@dataclass(frozen=True)
class Explanation:
    key: str
    value: bool
    reason: str
    state: str
    environment: str
    text: str  # the sentence an operator reads
    axes: tuple[AxisCheck, ...] = ()
    failed_axes: tuple[str, ...] = ()
    bucket: int | None = None
    pct: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The `detail` of one flag in the evaluate API's explained answer."""
        return {
            "state": self.state,
            "environment": self.environment,
            "text": self.text,
            "axes": {
                a.axis: {"allowed": list(a.allowed), "value": a.value, "matches": a.matches}
                for a in self.axes
            },
            "failed_axes": list(self.failed_axes),
            "bucket": self.bucket,
            "pct": self.pct,
        }


def _value_of(ctx: TenantContext, axis: str) -> str | None:
    return {
        "plans": ctx.plan,
        "tenant_slugs": ctx.tenant_slug,
        "partner_slugs": ctx.partner_slug,
        "environments": ctx.environment,
    }[axis]


def axis_checks(scope: Scope, ctx: TenantContext) -> tuple[AxisCheck, ...]:
    """Each non-empty scope list and whether the tenant matches it on its own (the
    engine's `matches_scope` with the other lists empty)."""
    checks = []
    for axis in engine.SCOPE_AXES:
        values = getattr(scope, axis)
        if values:
            alone = Scope(**{axis: values})
            checks.append(
                AxisCheck(
                    axis,
                    tuple(sorted(values)),
                    _value_of(ctx, axis),
                    engine.matches_scope(alone, ctx),
                )
            )
    return tuple(checks)


def _listing(values: Sequence[str]) -> str:
    return ", ".join(values)


def _failed_words(check: AxisCheck) -> str:
    noun, value_noun = AXIS_WORDS[check.axis]
    if check.value is None:
        return f"it has no {value_noun}, and the {noun} allows only {_listing(check.allowed)}"
    return f"its {value_noun} {check.value} is not in the {noun} ({_listing(check.allowed)})"


def _matched_words(checks: Sequence[AxisCheck]) -> str:
    return "; ".join(f"{AXIS_WORDS[c.axis][1]} {c.value} is listed" for c in checks)


def explain(flag: FlagSnapshot, ctx: TenantContext) -> Explanation:
    """The engine's answer for this flag and tenant, and the rule that decided it."""
    result = engine.evaluate(flag, ctx)
    checks = axis_checks(flag.scope, ctx) if flag.state in (engine.TARGETED, engine.ROLLOUT) else ()
    failed = tuple(c.axis for c in checks if not c.matches)
    bucket = engine.bucket(ctx.tenant_id, flag.key) if flag.state == engine.ROLLOUT else None
    pct = flag.pct if flag.state == engine.ROLLOUT else None
    return Explanation(
        key=flag.key,
        value=result.value,
        reason=result.reason,
        state=flag.state,
        environment=ctx.environment,
        text=_sentence(flag, result, checks, failed, bucket),
        axes=checks,
        failed_axes=failed,
        bucket=bucket,
        pct=pct,
    )


def _sentence(
    flag: FlagSnapshot,
    result: engine.Result,
    checks: Sequence[AxisCheck],
    failed: Sequence[str],
    bucket: int | None,
) -> str:
    if result.reason == engine.DISABLED:
        return "Off for every tenant: the flag's state is off."
    if result.reason == engine.STATIC:
        return "On for every tenant: the flag's state is on, and on ignores the scope."
    if result.reason == engine.TARGETING_MATCH:
        matched = _matched_words(checks)
        return f"On: the flag is targeted and this tenant matches every scope list ({matched})."
    if result.reason == engine.SPLIT:
        scope = f" It matches every scope list ({_matched_words(checks)})." if checks else ""
        return f"On: its bucket for this flag is {bucket}, below the rollout's {flag.pct} %.{scope}"
    # DEFAULT: the rule that said no.
    if flag.state == engine.TARGETED and not checks:
        return (
            "Off: the flag is targeted but has no scope list, so it reaches nobody. "
            "Add a plan, tenant, partner or environment to its scope."
        )
    if failed:
        reasons = "; ".join(_failed_words(c) for c in checks if not c.matches)
        return f"Off: {reasons}. {AND_NOTE}"
    if flag.pct == 0:
        return "Off: the rollout is at 0 %, so nobody gets it yet."
    return (
        f"Off: it matches the scope, but its bucket for this flag is {bucket}, not below "
        f"the rollout's {flag.pct} %. It turns on once the rollout reaches {(bucket or 0) + 1} %."
    )


# ------------------------------------------------------------- zero reach --


def zero_reach_words(environment: str, matches: Sequence[AxisMatch], state: str) -> str:
    """Why a flag meant to reach tenants reaches none in `environment`."""
    if state == engine.TARGETED and not matches:
        return f"Reaches no tenant in {environment}: targeted with no scope list means nobody."
    empty = [m for m in matches if m.matching == 0]
    if empty:
        parts = "; ".join(
            f"no live tenant matches the {AXIS_WORDS[m.axis][0]} ({_listing(m.values)})"
            for m in empty
        )
        return f"Reaches no tenant in {environment}: {parts}."
    if len(matches) > 1:
        lists = " AND ".join(
            f"the {AXIS_WORDS[m.axis][0]} ({m.matching} tenant{'' if m.matching == 1 else 's'})"
            for m in matches
        )
        return (
            f"Reaches no tenant in {environment}: each scope list matches some tenants, but "
            f"no tenant matches {lists}. {AND_NOTE}"
        )
    return f"Reaches no tenant in {environment}: no in-scope tenant's bucket is below the rollout."
