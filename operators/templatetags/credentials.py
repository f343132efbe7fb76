"""The one way a first-sign-in credential is handed over, shown this once: the
operator invite, a resent invite and a tenant-member invite all use it.

    {% load credentials %}
    {% credential_handoff "invite" link=result.link username=result.email
                          password=result.temp_password autofocus=True %}

`prefix` names the copy fields' ids and test ids (`<prefix>-link`, `<prefix>-username`,
`<prefix>-password`, `<prefix>-link-expiry`, `<prefix>-password-note`,
`<prefix>-once-note`). What it says about the link's expiry and the password's
forced change comes from the settings that make them true.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()

LOST_LINK = "create a new recovery link on their user in Authentik's admin interface"


@register.inclusion_tag("operators/credential.html")
def credential_handoff(
    prefix: str,
    *,
    link: str | None = None,
    username: str = "",
    password: str | None = None,
    autofocus: bool = False,
    lost: str = LOST_LINK,
) -> dict[str, Any]:
    return {
        "prefix": prefix,
        "link": link,
        "username": username,
        "password": password,
        "autofocus": autofocus,
        "lost": lost,
        "authentik": settings.IDENTITY_MODE == "authentik",
        "link_minutes": settings.AUTHENTIK_RECOVERY_LINK_MINUTES,
        "temp_password_hours": settings.TEMP_PASSWORD_HOURS,
    }
