"""The flag rules, and nowhere else: pure Python, no Django.

Frozen snapshots of flags and of one tenant's context go in; a result per flag
with the reason for it comes out. The contract (and its test vectors) is the
shared flag-evaluation spec:

    off      -> false
    on       -> true                              (scope ignored)
    targeted -> has_any_scope and matches_scope   (empty allowlists: nobody)
    rollout  -> matches_scope and bucket < pct    (empty scope: everyone eligible)

    bucket(tenant_id, key) = int(sha256_hex(f"{tenant_id}:{key}"), 16) % 100
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Final

OFF: Final = "off"
ON: Final = "on"
TARGETED: Final = "targeted"
ROLLOUT: Final = "rollout"
STATES: Final = (OFF, ON, TARGETED, ROLLOUT)

# OpenFeature's reasons, so the same words serve the native API and OFREP.
DISABLED: Final = "DISABLED"
STATIC: Final = "STATIC"
TARGETING_MATCH: Final = "TARGETING_MATCH"
SPLIT: Final = "SPLIT"
DEFAULT: Final = "DEFAULT"

SCOPE_AXES: Final = ("plans", "tenant_slugs", "partner_slugs", "environments")


@dataclass(frozen=True, slots=True)
class Scope:
    """Four allowlists; an empty one means the axis is not used."""

    plans: frozenset[str] = frozenset()
    tenant_slugs: frozenset[str] = frozenset()
    partner_slugs: frozenset[str] = frozenset()
    environments: frozenset[str] = frozenset()

    @classmethod
    def from_lists(cls, scope: Mapping[str, Iterable[str]]) -> Scope:
        return cls(**{axis: frozenset(scope.get(axis) or ()) for axis in SCOPE_AXES})

    @property
    def any(self) -> bool:
        return bool(self.plans or self.tenant_slugs or self.partner_slugs or self.environments)


@dataclass(frozen=True, slots=True)
class FlagSnapshot:
    key: str
    state: str
    pct: int = 0
    scope: Scope = field(default_factory=Scope)
    # Precomputed once per snapshot so the hot path hashes without formatting the key.
    _hash_suffix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown flag state {self.state!r}")
        if not 0 <= self.pct <= 100:
            raise ValueError(f"pct must be 0..100, not {self.pct}")
        object.__setattr__(self, "_hash_suffix", f":{self.key}".encode())


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: str  # the stable id, never the slug: a rename must not re-bucket anyone
    tenant_slug: str
    plan: str
    partner_slug: str | None
    environment: str

    def in_environment(self, environment: str) -> TenantContext:
        if environment == self.environment:
            return self
        return TenantContext(
            self.tenant_id, self.tenant_slug, self.plan, self.partner_slug, environment
        )


@dataclass(frozen=True, slots=True)
class Result:
    key: str
    value: bool
    reason: str


def bucket(tenant_id: str, key: str) -> int:
    """The tenant's bucket 0..99 for this flag: the whole SHA-256 digest mod 100."""
    return _bucket(tenant_id.encode(), f":{key}".encode())


def _bucket(tenant_id: bytes, suffix: bytes) -> int:
    return int.from_bytes(sha256(tenant_id + suffix).digest(), "big") % 100


def has_any_scope(scope: Scope) -> bool:
    return scope.any


def matches_scope(scope: Scope, ctx: TenantContext) -> bool:
    """Every non-empty axis must contain the context's value; a null partner matches none."""
    if scope.plans and ctx.plan not in scope.plans:
        return False
    if scope.tenant_slugs and ctx.tenant_slug not in scope.tenant_slugs:
        return False
    if scope.partner_slugs and (
        ctx.partner_slug is None or ctx.partner_slug not in scope.partner_slugs
    ):
        return False
    return not (scope.environments and ctx.environment not in scope.environments)


def evaluate(flag: FlagSnapshot, ctx: TenantContext) -> Result:
    return Result(flag.key, *_decide(flag, ctx, ctx.tenant_id.encode()))


def evaluate_all(flags: Iterable[FlagSnapshot], ctx: TenantContext) -> dict[str, bool]:
    """`{key: on?}` for every flag: the hot path, so no Result objects are built."""
    tenant_id = ctx.tenant_id.encode()
    return {flag.key: _decide(flag, ctx, tenant_id)[0] for flag in flags}


def explain_all(flags: Iterable[FlagSnapshot], ctx: TenantContext) -> dict[str, Result]:
    tenant_id = ctx.tenant_id.encode()
    return {flag.key: Result(flag.key, *_decide(flag, ctx, tenant_id)) for flag in flags}


_OFF = (False, DISABLED)
_STATIC = (True, STATIC)
_MATCH = (True, TARGETING_MATCH)
_SPLIT = (True, SPLIT)
_DEFAULT = (False, DEFAULT)


def _decide(flag: FlagSnapshot, ctx: TenantContext, tenant_id: bytes) -> tuple[bool, str]:
    state = flag.state
    if state == OFF:
        return _OFF
    if state == ON:
        return _STATIC
    scope = flag.scope
    if state == TARGETED:
        return _MATCH if scope.any and matches_scope(scope, ctx) else _DEFAULT
    # rollout. 0 and 100 need no hash: nobody, or everyone in scope.
    pct = flag.pct
    if pct == 0 or not matches_scope(scope, ctx):
        return _DEFAULT
    if pct == 100 or _bucket(tenant_id, flag._hash_suffix) < pct:
        return _SPLIT
    return _DEFAULT
