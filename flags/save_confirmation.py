"""A save that changes who gets a flag in prod is shown before it is written: the
exact diff and how many live tenants turn on and off, in prod and everywhere else.

The panel's Save asks `save_confirmation` first. When it answers None the save goes
ahead as before (written, or proposed as a change request). Otherwise nothing is
written: the panel shows the confirmation, and its "Save anyway" sends back the
confirmation's token. The token is an HMAC of the flag's key, the version the save
is checked against and the exact diff, so it confirms that change on that version
and nothing else: other values ask again, and a flag changed meanwhile is caught by
the version check as every stale save is (the 409 with what the other operator did).

Reads only; the write is still flags.change_requests.flag_change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from core.changes import field_changes
from flags import policy, reach, services
from flags.engine import FlagSnapshot, Scope
from flags.models import SCOPE_AXES, Flag
from flags.presentation import ChangeLine, change_lines, flag_snapshot_of, reach_environments
from flags.snapshot import get_snapshot

# The environment where a flipped tenant is a customer: a save that flips one there
# is confirmed first.
PROD = "prod"
HMAC_SALT = "flags.save_confirmation"


@dataclass(frozen=True)
class SaveConfirmation:
    """What the operator confirms: the diff on `version` and who it flips."""

    key: str
    version: int
    lines: tuple[ChangeLine, ...]
    flips: tuple[reach.Flips, ...]  # every environment, prod first
    token: str

    @property
    def prod(self) -> reach.Flips:
        return next(f for f in self.flips if f.environment == PROD)

    @property
    def elsewhere(self) -> tuple[reach.Flips, ...]:
        return tuple(f for f in self.flips if f.environment != PROD)

    def accepts(self, token: str | None) -> bool:
        """Whether `token` confirmed exactly this change on this version."""
        return bool(token) and constant_time_compare(self.token, token or "")


def save_confirmation(
    flag: Flag, *, version: int, changes: Mapping[str, Any]
) -> SaveConfirmation | None:
    """The confirmation a save of `changes` on `flag` (as read now) must show before it
    is written, or None when it goes ahead without asking:

    - the flag is no longer at `version` (the save is a conflict, answered as one);
    - nothing would change;
    - the approval policy makes it a change request (a proposal writes nothing);
    - it is the kill switch (off and 0 %, nothing else): an emergency never waits;
    - it turns no live tenant on or off in prod.

    A diff the flag cannot take raises the ValidationError the save would raise.
    """
    if flag.version != version or PROD not in settings.ENVIRONMENTS:
        return None
    before = services.editable_snapshot(flag)
    diff = field_changes(before, dict(changes))
    if not diff:
        return None
    services.validate_change(flag, diff)
    if policy.is_kill_switch(flag, diff) or policy.requirement_for_change(flag, diff).needed:
        return None
    flips = tuple(_flips(flag, {**before, **{f: c["after"] for f, c in diff.items()}}))
    if not any(f.any for f in flips if f.environment == PROD):
        return None
    return SaveConfirmation(
        key=flag.key,
        version=version,
        lines=change_lines(diff),
        flips=flips,
        token=confirmation_token(flag.key, version, diff),
    )


def confirmation_token(key: str, version: int, diff: Mapping[str, Any]) -> str:
    payload = json.dumps(
        {"key": key, "version": version, "changes": diff}, sort_keys=True, default=str
    )
    return salted_hmac(HMAC_SALT, payload, algorithm="sha256").hexdigest()


def _flips(flag: Flag, after: Mapping[str, Any]) -> list[reach.Flips]:
    """Per environment (prod first), the live tenants that turn on and off when the
    flag as read now (not the evaluation snapshot's copy, which may be a moment
    behind) takes the values `after`."""
    proposed = FlagSnapshot(
        key=flag.key,
        state=after["state"],
        pct=after["pct"],
        scope=Scope.from_lists({axis: after[f"scope_{axis}"] for axis in SCOPE_AXES}),
    )
    environment = settings.DEZKY_ENVIRONMENT
    tenants = [row.context(environment) for row in get_snapshot().tenants.values()]
    return reach.flips(flag_snapshot_of(flag), proposed, tenants, reach_environments())
