"""Impersonation's components, for templates outside this app.

    {% load impersonation %}
    {% impersonate_button membership tenant %}   (a member row of a tenant's Users tab)
    {% impersonation_banner %}                   (the shell layout, on every page)

Template tags, so the console layer's layout can show the banner without the console
importing this app in Python (imports run apps -> console -> core).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


def refusal_reason(user: Any) -> str:
    """Why this user cannot be viewed as, in words for the row; "" when they can."""
    if getattr(user, "platform_admin", False):
        return "Operators cannot be viewed as."
    if not getattr(user, "is_active", False):
        return "Inactive members cannot be viewed as."
    return ""


@register.inclusion_tag("operators/impersonation_button.html")
def impersonate_button(membership: Any, tenant: Any = None) -> dict[str, Any]:
    """The "View as" link of a member row: it opens the start page (a GET; nothing
    starts before the operator gives a reason and confirms there)."""
    user = membership.user
    query = {"member": user.email}
    if tenant is not None:
        query["tenant"] = tenant.slug
    return {
        "user": user,
        "why_not": refusal_reason(user),
        "url": f"{reverse('operators:impersonation-start')}?{urlencode(query)}",
        "label": user.name or user.email,
    }


@register.inclusion_tag("operators/impersonation_banner.html", takes_context=True)
def impersonation_banner(context: template.Context) -> dict[str, Any]:
    """Who is viewed as, why and until when, with Exit; nothing when not viewing as."""
    request = context.get("request")
    record = getattr(request, "impersonation", None)
    if record is None:
        return {"record": None}
    return {
        "record": record,
        "name": record.member.name or record.member.email,
        "csrf_token": context.get("csrf_token"),
    }
