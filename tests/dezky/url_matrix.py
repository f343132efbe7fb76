"""Every named URL of the project and who may reach it.

A URL added without an entry here fails tests/dezky/test_access.py, so nothing
can ship unguarded by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = "public"  # anyone, no login
CONSOLE = "console"  # operators; anonymous -> login page, signed-in non-operator -> 403
CONSOLE_POST = "console-post"  # a console write: the same rule for POST; GET is refused
# A console page about one tenant or partner: the CONSOLE rule, checked with the object
# in place (the slug must exist for the 200) by tests/tenants/test_views.py.
CONSOLE_OBJECT = "console-object"
SIGNED_IN = "signed-in"  # any signed-in caller (API reads)
API = "api"  # API: 401 without credentials; who may do what is in tests/<app>/test_api.py

# name -> (who, kwargs to build the URL with)
MATRIX: dict[str, tuple[str, dict[str, Any]]] = {
    "healthz": (PUBLIC, {}),
    "operators:login": (PUBLIC, {}),
    "operators:logout": (PUBLIC, {}),
    "api-schema": (SIGNED_IN, {}),
    "api:flag-list": (API, {}),
    "api:flag-evaluate": (API, {}),
    "api:flag-preview": (API, {}),
    "api:flag-detail": (API, {"key": "jmap_native_v2"}),
    "api:flag-kill": (API, {"key": "jmap_native_v2"}),
    "api:operator-invite": (API, {}),
    "api:tenant-list": (API, {}),
    "api:tenant-detail": (API, {"slug": "acme"}),
    "api:tenant-users": (API, {"slug": "acme"}),
    "api:tenant-suspend": (API, {"slug": "acme"}),
    "api:tenant-resume": (API, {"slug": "acme"}),
    "api:tenant-reconcile": (API, {"slug": "acme"}),
    "api:partner-list": (API, {}),
    "api:partner-detail": (API, {"slug": "nordic-it"}),
    "ofrep:ofrep-bulk": (API, {}),
    "ofrep:ofrep-flag": (API, {"key": "jmap_native_v2"}),
    "dezky:overview": (CONSOLE, {}),
    "dezky:infrastructure": (CONSOLE, {}),
    "dezky:support": (CONSOLE, {}),
    "dezky:billing": (CONSOLE, {}),
    "dezky:reports": (CONSOLE, {}),
    "dezky:settings": (CONSOLE, {}),
    "operators:users": (CONSOLE, {}),
    "operators:team": (CONSOLE, {}),
    "operators:invite": (CONSOLE, {}),
    "operators:invite_discard": (
        CONSOLE_POST,
        {"invite_id": "5e1d7c3a-0000-4000-8000-00000000d15c"},
    ),
    "tenants:list": (CONSOLE, {}),
    "tenants:partners": (CONSOLE, {}),
    "tenants:detail": (CONSOLE_OBJECT, {"slug": "acme"}),
    "tenants:partner": (CONSOLE_OBJECT, {"slug": "nordic-it"}),
    "tenants:update": (CONSOLE_POST, {"slug": "acme"}),
    "tenants:suspend": (CONSOLE_POST, {"slug": "acme"}),
    "tenants:resume": (CONSOLE_POST, {"slug": "acme"}),
    "tenants:delete": (CONSOLE_POST, {"slug": "acme"}),
    "tenants:reconcile": (CONSOLE_POST, {"slug": "acme"}),
    "flags:list": (CONSOLE, {}),
    "flags:detail": (CONSOLE, {"key": "jmap_native_v2"}),
    "flags:key_check": (CONSOLE, {}),
    "flags:scope_options": (CONSOLE, {}),
    "flags:preview": (CONSOLE, {"key": "jmap_native_v2"}),
    "flags:create": (CONSOLE_POST, {}),
    "flags:save": (CONSOLE_POST, {"key": "jmap_native_v2"}),
    "flags:kill": (CONSOLE_POST, {"key": "jmap_native_v2"}),
    "flags:delete": (CONSOLE_POST, {"key": "jmap_native_v2"}),
    "audit:list": (CONSOLE, {}),
}

# The Django admin guards itself (staff only); tests/dezky/test_admin.py covers it.
SELF_GUARDED_NAMESPACES = ("admin",)


def named_patterns() -> Iterator[str]:
    def walk(patterns: list[Any], namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                if ns in SELF_GUARDED_NAMESPACES:
                    continue
                inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None:
                    raise AssertionError(f"URL {pattern.pattern} has no name; name it")
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    yield from walk(get_resolver().url_patterns, "")
