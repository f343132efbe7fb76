"""What several browser tests share: a signed-in page opener and the axe-core scan."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def signed_in_opener(
    new_page: Callable[..., Any], live_server: Any, user: Any
) -> Callable[..., Any]:
    """A function opening pages (with the given context options) signed in as `user`,
    by session cookie, which works in either identity mode."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    def open_page(**options: Any) -> Any:
        page = new_page(**options)
        page.context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        return page

    return open_page


def require_axe() -> None:
    """Skip without axe-core (fail with CI=true, where `make test` has installed it)."""
    if AXE.exists():
        return
    message = "axe-core is not installed (make test runs npm ci)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def serious_violations(page: Any, include: str = "") -> list[str]:
    """axe-core's serious and critical findings on the page (or the part `include`
    selects) as it is now. The page must be opened with bypass_csp=True: the console's
    CSP rightly refuses injected scripts."""
    page.add_script_tag(path=str(AXE))
    scope = f"{{include: [{include!r}]}}" if include else "document"
    result = page.evaluate(f"axe.run({scope}, {{resultTypes: ['violations']}})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:4]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
