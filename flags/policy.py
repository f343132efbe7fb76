"""The approval policy: how many other operators must approve a flag change, per
environment, and which changes it asks approvals for. Reads only; the policy is
written by flags.change_requests.approval_policy_set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.errors import Conflict
from flags.models import ApprovalPolicy, FlagState


@dataclass(frozen=True)
class Requirement:
    """What a change needs: the most approvals any environment it touches asks for."""

    approvals: int
    environments: tuple[str, ...]  # the touched environments that ask for `approvals`

    @property
    def needed(self) -> bool:
        return self.approvals > 0

    @property
    def reason(self) -> str:
        """ "prod needs 1 approval", for the panel and the refusals."""
        if not self.needed:
            return ""
        noun = "approval" if self.approvals == 1 else "approvals"
        verb = "needs" if len(self.environments) == 1 else "need"
        return f"{' and '.join(self.environments)} {verb} {self.approvals} {noun}"


def approvals_by_environment() -> dict[str, int]:
    """Every environment with the approvals it asks for now (rows, else the default)."""
    policy = {
        env: int(settings.FLAG_APPROVALS_DEFAULT.get(env, 0)) for env in settings.ENVIRONMENTS
    }
    for env, required in ApprovalPolicy.objects.values_list("environment", "approvals_required"):
        if env in policy:
            policy[env] = required
    return policy


def touched_environments(*scopes: Any) -> tuple[str, ...]:
    """The environments some scope reaches; an empty allowlist reaches all of them."""
    touched: set[str] = set()
    for environments in scopes:
        if not environments:
            return tuple(settings.ENVIRONMENTS)
        touched.update(environments)
    return tuple(env for env in settings.ENVIRONMENTS if env in touched)


def requirement(environments: tuple[str, ...]) -> Requirement:
    policy = approvals_by_environment()
    most = max((policy[env] for env in environments), default=0)
    asking = tuple(env for env in environments if most and policy[env] == most)
    return Requirement(approvals=most, environments=asking)


def requirement_for_change(flag: Any, diff: dict[str, Any]) -> Requirement:
    """What writing `diff` on `flag` needs. Both sides of a scope change count: moving
    a flag out of prod changes prod as much as moving it in."""
    if is_kill_switch(flag, diff):
        return Requirement(approvals=0, environments=())
    scopes = [flag.scope_environments]
    if "scope_environments" in diff:
        scopes.append(diff["scope_environments"]["after"])
    return requirement(touched_environments(*scopes))


def is_kill_switch(flag: Any, diff: dict[str, Any]) -> bool:
    """Turning a flag fully off (state off and rollout 0, nothing else changed) is never
    held for approval: an emergency cannot wait for a second operator."""
    if not diff or set(diff) - {"state", "pct"}:
        return False
    state = diff["state"]["after"] if "state" in diff else flag.state
    pct = diff["pct"]["after"] if "pct" in diff else flag.pct
    return bool(state == FlagState.OFF and pct == 0)


class ApprovalRequired(Conflict):
    """A direct write of a change the policy holds for approval: propose it instead."""

    def __init__(self, requirement: Requirement, message: str = "") -> None:
        super().__init__(
            message
            or f"This change needs approval ({requirement.reason}): propose it as a change "
            "request instead of saving it.",
            extra={
                "approvals_required": requirement.approvals,
                "environments": list(requirement.environments),
            },
        )
        self.requirement = requirement
