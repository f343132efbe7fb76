from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from console.environment import environment_for_host
from console.navigation import NAV_SECTIONS


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the console's chrome needs on every page: nav with the active entry, environment."""
    path = request.path
    sections = []
    for section in NAV_SECTIONS:
        entries = []
        for entry in section.entries:
            url = reverse(entry.url_name)
            active = path == url if url == "/" else path.startswith(url)
            entries.append({"entry": entry, "url": url, "active": active})
        sections.append({"label": section.label, "entries": entries})
    return {
        "nav_sections": sections,
        "environment": environment_for_host(request.get_host()),
        "identity_mode": settings.IDENTITY_MODE,
        "demo_integrations": settings.DEMO_INTEGRATIONS,
    }
