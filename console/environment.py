"""Which environment the console is looking at, derived from the host it is served on.

The badge is a safety signal, so it cannot be toggled: only the host decides, and
anything unrecognised is treated as production.
"""

from __future__ import annotations

import ipaddress

DEV, STAGING, PROD = "dev", "staging", "prod"


def environment_for_host(host: str) -> str:
    """`*.local`, `localhost` and loopback addresses are dev; `*staging*` is staging; else prod."""
    name = _strip_port(host.strip().lower()).rstrip(".")
    if name == "localhost" or name.endswith((".localhost", ".local")) or _is_loopback(name):
        return DEV
    if "staging" in name:
        return STAGING
    return PROD


def _strip_port(host: str) -> str:
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
