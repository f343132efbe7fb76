"""What the flag panel and a change request's page say about scheduled changes, so
their views do not have to know about schedules:

    {% flag_schedules flag as scheduled %}      the flag's live schedules, with the
                                                decision prompt where one is needed
    {% request_schedule cr as scheduling %}     whether a change request is scheduled,
                                                and where its "Schedule apply" form posts
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from flags import schedules
from flags.models import SCHEDULE_LIVE_STATES, Flag, FlagChangeRequest, FlagSchedule
from flags.views.schedules import summary

register = template.Library()


@dataclass(frozen=True)
class PanelSchedules:
    rows: list[dict[str, Any]]
    new_url: str
    list_url: str


@register.simple_tag
def flag_schedules(flag: Flag) -> PanelSchedules:
    rows = []
    for schedule in schedules.live_schedules_of(flag):
        row = summary(schedule)
        # From the panel, a decision comes back to the flag.
        row["keep_url"] += "?back=flag"
        row["cancel_url"] += "?back=flag"
        rows.append(row)
    return PanelSchedules(
        rows=rows,
        new_url=reverse("flags:schedule_new", args=[flag.key]),
        list_url=reverse("flags:schedules") + f"?flag={flag.key}",
    )


@dataclass(frozen=True)
class RequestScheduling:
    scheduled: FlagSchedule | None
    scheduled_url: str
    action_url: str
    now: str  # the form's default time: this minute, UTC


@register.simple_tag
def request_schedule(request: FlagChangeRequest) -> RequestScheduling:
    live = request.schedules.filter(state__in=SCHEDULE_LIVE_STATES).order_by("id").first()
    return RequestScheduling(
        scheduled=live,
        scheduled_url=reverse("flags:schedule", kwargs={"schedule_id": live.pk}) if live else "",
        action_url=reverse("flags:change_request_schedule", kwargs={"request_id": request.pk}),
        now=f"{timezone.now():%Y-%m-%dT%H:%M}",
    )
