"""`{% notification_bell %}`: the top bar's bell, for layouts/console.html.

A template tag library, so the console layer's layout can show the bell without the
console importing this app in Python (imports run apps -> console -> core).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()

DEFAULT_POLL_SECONDS = 30


def poll_seconds() -> int:
    """How often an open tab asks for the unread count (NOTIFICATIONS_POLL_SECONDS)."""
    value = getattr(settings, "NOTIFICATIONS_POLL_SECONDS", DEFAULT_POLL_SECONDS)
    return max(1, int(value))


@register.inclusion_tag("notifications/bell.html")
def notification_bell() -> dict[str, Any]:
    return {"poll_seconds": poll_seconds()}
