"""`{% flag_approvals flag as approvals %}`: what the flag panel says about four eyes
(whether a save becomes a change request, and why; the flag's open requests), so the
panel's view does not have to know about change requests."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse

from flags import change_requests, policy
from flags.models import Flag, FlagChangeRequest

register = template.Library()


@dataclass(frozen=True)
class PanelApprovals:
    requirement: policy.Requirement
    open_requests: list[FlagChangeRequest]
    list_url: str


@register.simple_tag
def flag_approvals(flag: Flag) -> PanelApprovals:
    environments = policy.touched_environments(flag.scope_environments)
    return PanelApprovals(
        requirement=policy.requirement(environments),
        open_requests=change_requests.open_requests_of(flag),
        list_url=reverse("flags:change_requests") + f"?flag={flag.key}",
    )
