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
SIGNED_IN = "signed-in"  # any signed-in caller, session or service (the API schema)
# API: no credentials -> 401; a signed-in non-operator -> 403; an operator may call
# every method; a service only the methods its scope opens (the optional third
# element, {method: scope}); anything else -> 403.
API = "api"

# name -> (who, kwargs to build the URL with[, {method: service scope}])
MATRIX: dict[str, tuple[Any, ...]] = {
    "healthz": (PUBLIC, {}),
    "operators:login": (PUBLIC, {}),
    "operators:logout": (PUBLIC, {}),
    "operators:oidc-login": (PUBLIC, {}),
    "operators:oidc-callback": (PUBLIC, {}),
    "api-schema": (SIGNED_IN, {}),
    "api:flag-list": (API, {}, {"GET": "flags:read"}),
    "api:flag-evaluate": (API, {}, {"POST": "flags:evaluate"}),
    "api:flag-preview": (API, {}),
    "api:flag-detail": (API, {"key": "jmap_native_v2"}, {"GET": "flags:read"}),
    "api:flag-kill": (API, {"key": "jmap_native_v2"}),
    "api:operator-invite": (API, {}),
    "ofrep:ofrep-bulk": (API, {}, {"POST": "flags:evaluate"}),
    "ofrep:ofrep-flag": (API, {"key": "jmap_native_v2"}, {"POST": "flags:evaluate"}),
    "dezky:overview": (CONSOLE, {}),
    "dezky:infrastructure": (CONSOLE, {}),
    "dezky:support": (CONSOLE, {}),
    "dezky:billing": (CONSOLE, {}),
    "dezky:reports": (CONSOLE, {}),
    "dezky:settings": (CONSOLE, {}),
    "operators:users": (CONSOLE, {}),
    "operators:team": (CONSOLE, {}),
    "tenants:list": (CONSOLE, {}),
    "tenants:partners": (CONSOLE, {}),
    "flags:list": (CONSOLE, {}),
    "audit:list": (CONSOLE, {}),
}


def service_scopes(name: str) -> dict[str, str]:
    entry = MATRIX[name]
    return entry[2] if len(entry) > 2 else {}


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
