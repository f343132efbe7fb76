"""Service API tokens: how they look, how a presented one is checked.

A token is `dzk_<prefix>_<secret>`; it carries 190 bits of randomness, so one
SHA-256 (no salt, no stretching) is a safe way to store it and fast to check.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import versions

TOKEN_PREFIX = "dzk_"  # noqa: S105 (the marker every token starts with, not a secret)
LAST_USED_PRECISION = timedelta(minutes=1)
MEMO_LIMIT = 10_000


def new_token() -> tuple[str, str]:
    """A fresh token and its visible prefix."""
    prefix = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(24)}", prefix


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class ServicePrincipal:
    """The caller behind a valid service credential (a service token, or a JWT from the
    provider, then `token_id` is None): authenticated, never an operator."""

    token_id: int | None
    name: str
    scopes: frozenset[str]
    last_used_at: object = None
    is_authenticated: bool = field(default=True, init=False)
    is_anonymous: bool = field(default=False, init=False)
    is_active: bool = field(default=True, init=False)
    is_staff: bool = field(default=False, init=False)
    platform_admin: bool = field(default=False, init=False)
    email: str = field(default="", init=False)

    def __str__(self) -> str:
        return f"service:{self.name}"


# Verified tokens by hash, dropped whenever a token is created or revoked anywhere.
_verified = versions.LocalState(
    "service_tokens", check_seconds=lambda: settings.FLAGS_SNAPSHOT_CHECK_SECONDS
)


def principal_for(token: str) -> ServicePrincipal | None:
    """The principal of an active token, or None. Steady state: no database query."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = token_hash(token)
    memo: dict[str, ServicePrincipal] = _verified.get(lambda _v: {})  # type: ignore[assignment]
    principal = memo.get(digest)
    if principal is None:
        # Unknown tokens are not remembered, so guessing cannot fill this memory.
        principal = _load(digest)
        if principal is None:
            return None
        if len(memo) < MEMO_LIMIT:
            memo[digest] = principal
    _touch(principal)
    return principal


def _load(digest: str) -> ServicePrincipal | None:
    from operators.models import ServiceToken

    row = (
        ServiceToken.objects.filter(token_hash=digest, revoked_at__isnull=True)
        .values("id", "name", "scopes", "last_used_at")
        .first()
    )
    if row is None:
        return None
    return ServicePrincipal(row["id"], row["name"], frozenset(row["scopes"]), row["last_used_at"])


def _touch(principal: ServicePrincipal) -> None:
    """Record use at most once a minute per process, off the steady-state path."""
    from operators.models import ServiceToken

    now = timezone.now()
    if principal.token_id is None:
        return
    if principal.last_used_at is None or now - principal.last_used_at >= LAST_USED_PRECISION:
        principal.last_used_at = now
        ServiceToken.objects.filter(pk=principal.token_id).update(last_used_at=now)


def reset_for_tests() -> None:
    _verified.reset()
