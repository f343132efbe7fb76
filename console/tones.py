"""The one tone registry: which colour family every status of the platform is shown in.

Badges, dots, alerts and toasts read their tone from here, so a tenant that is
"suspended" looks the same on every page. Tones are the design tokens' semantic
families: success, warning, danger, info, neutral, accent.
"""

from __future__ import annotations

TONES = ("success", "warning", "danger", "info", "neutral", "accent")

_REGISTRY: dict[str, dict[str, str]] = {
    "tenant_status": {
        "active": "success",
        "pending": "info",
        "suspended": "warning",
        "deleted": "danger",
    },
    "provisioning": {
        "ready": "success",
        "pending": "info",
        "error": "danger",
        "not_configured": "neutral",
    },
    "flag_state": {"off": "neutral", "on": "success", "targeted": "info", "rollout": "warning"},
    "invite_state": {
        "started": "info",
        "directory_user_created": "warning",
        "failed": "danger",
        "blocked": "danger",
    },
    # A person's account: signs in, has never signed in yet, or cannot sign in.
    "user_status": {"active": "success", "invited": "info", "inactive": "neutral"},
    # Django's message levels, as alerts and toasts show them.
    "message": {
        "success": "success",
        "info": "info",
        "debug": "info",
        "warning": "warning",
        "error": "danger",
    },
}

ICONS = {
    "success": "circle-check",
    "warning": "triangle-alert",
    "danger": "circle-alert",
    "info": "info",
    "neutral": "info",
    "accent": "info",
}


def tone_for(kind: str, value: str) -> str:
    """The tone of `value` among the statuses of `kind`; neutral for anything unknown."""
    return _REGISTRY.get(kind, {}).get(str(value), "neutral")


def icon_for(tone: str) -> str:
    return ICONS.get(tone, "info")


def is_urgent(tone: str) -> bool:
    """Danger and warning interrupt a screen reader (role=alert); the rest wait (status)."""
    return tone in ("danger", "warning")
