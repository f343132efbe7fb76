"""The open-incident banner, for any console page:

    {% load monitor %}{% incident_banner %}

It shows the most severe open incident (then the newest): severity, title, time
open, the latest update, and a button that opens the incident's dialog (a link to
the incident's page without JavaScript). Nothing at all when no incident is open
(one query).
"""

from __future__ import annotations

from typing import Any

from django import template

from monitor import selectors
from monitor.display import SEVERITY_TONES, STATUS_TONES

register = template.Library()


@register.inclusion_tag("monitor/banner.html", takes_context=True)
def incident_banner(context: template.Context) -> dict[str, Any]:
    incidents = selectors.open_incidents()
    if not incidents:
        return {"incident": None}
    from monitor.views.incidents import incident_context

    incident = incidents[0]
    return {
        **incident_context(incident),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        "more": len(incidents) - 1,
        "standalone": False,
    }


@register.filter
def severity_tone(value: str) -> str:
    return SEVERITY_TONES.get(str(value), "neutral")


@register.filter
def status_tone(value: str) -> str:
    return STATUS_TONES.get(str(value), "neutral")


@register.filter
def duration(value: Any) -> str:
    """A timedelta as "3 d 4 h", "2 h 5 min" or "4 min" (under a minute: "under a minute")."""
    try:
        seconds = int(value.total_seconds())
    except AttributeError:
        return ""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"


@register.filter
def ago(value: Any) -> str:
    """ "3 minutes ago", or "just now" under a minute (timesince says "0 minutes")."""
    if not value:
        return ""
    from django.utils.timesince import timesince

    since = timesince(value)
    return "just now" if since.startswith("0\xa0") else f"{since} ago"
