"""`manage.py check --deploy` says when client addresses cannot be right here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

from core.request_meta import proxy_trust


@register(Tags.security, deploy=True)
def proxy_deployment(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not settings.TRUSTED_PROXIES:
        warnings.append(
            Warning(
                "BEHIND_TLS_PROXY is set but TRUSTED_PROXIES is empty: every request's "
                "address is the proxy's, so audit events record the proxy and the "
                "per-address sign-in limit counts all callers together.",
                hint="Set TRUSTED_PROXIES to the number of proxies in front (e.g. 1) or to "
                "their addresses/networks (README: Behind a proxy).",
                id="core.W001",
            )
        )
    if any(network.prefixlen == 0 for network in proxy_trust().networks):
        warnings.append(
            Warning(
                "TRUSTED_PROXIES trusts every address (a /0 network), so any caller can "
                "write its own address into X-Forwarded-For.",
                hint="List only the proxies' own addresses or networks.",
                id="core.W002",
            )
        )
    return warnings
