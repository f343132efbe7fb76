"""Who is calling: the client's network address, for audit events and rate limits.

X-Forwarded-For is written by whoever sends the request, so only the entries that
our own proxies appended are worth anything. TRUSTED_PROXIES says which those are:
- empty (the default): the header is ignored, the address is REMOTE_ADDR;
- a number N: N proxies in front each append the address they saw, so the Nth
  entry from the right is the client (anything left of it the client wrote);
- addresses/networks: walking from REMOTE_ADDR leftwards through the header, every
  hop that is one of these is skipped; the first address that is not is the client.
A malformed entry is never trusted: the answer is then the nearest hop we can
vouch for (a proxy's address), never the entry.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProxyTrust:
    """TRUSTED_PROXIES, parsed: a hop count, or the proxies' networks, or neither."""

    count: int = 0
    networks: tuple[IPNetwork, ...] = ()

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def parse_trusted_proxies(values: list[str] | tuple[str, ...]) -> ProxyTrust:
    """TRUSTED_PROXIES as configured; ImproperlyConfigured (naming the setting) if bad."""
    entries = [str(value).strip() for value in values if str(value).strip()]
    if not entries:
        return ProxyTrust()
    if len(entries) == 1 and entries[0].isdigit():
        count = int(entries[0])
        if count < 1:
            raise ImproperlyConfigured(
                "TRUSTED_PROXIES must be a number of proxies (1 or more), or proxy "
                "addresses/networks, or empty; got 0."
            )
        return ProxyTrust(count=count)
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network (CIDR). "
                "Give either one number of proxies, or addresses/networks such as "
                "10.0.0.0/8,2001:db8::/32."
            ) from None
    return ProxyTrust(networks=tuple(networks))


@lru_cache(maxsize=8)
def _trust_for(values: tuple[str, ...]) -> ProxyTrust:
    return parse_trusted_proxies(values)


def proxy_trust() -> ProxyTrust:
    """The configured trust (parsed once per distinct setting value)."""
    return _trust_for(tuple(str(v) for v in getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def parse_address(text: str) -> IPAddress | None:
    """A bare IPv4/IPv6 address, or None for anything else (ports, brackets, zone ids,
    garbage). IPv4-mapped IPv6 addresses become the IPv4 address they carry."""
    text = text.strip()
    if not text or len(text) > 45 or "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, as far as the proxies we trust vouch for it."""
    remote = parse_address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    trust = proxy_trust()
    if not trust.count and not trust.networks:
        return str(remote)
    # Several X-Forwarded-For headers reach us joined by commas, in order.
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if forwarded == [""]:
        forwarded = []
    if trust.count:
        if len(forwarded) < trust.count:
            return str(remote)  # not through all our proxies: only the peer is known
        chosen = parse_address(forwarded[-trust.count])
        return str(chosen or remote)
    if not trust.trusts(remote):
        return str(remote)  # not from one of our proxies: its header means nothing
    hop = remote
    for entry in reversed(forwarded):
        address = parse_address(entry)
        if address is None:
            return str(hop)  # a trusted proxy passed on garbage; go no further left
        hop = address
        if not trust.trusts(address):
            return str(address)
    return str(hop)  # every hop is one of ours: the leftmost is the caller


def limiter_scope(ip: str) -> str:
    """What a per-address rate limit counts: the address, or for IPv6 its /64, since
    one subscriber usually holds a whole /64 and could rotate through it."""
    address = parse_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address) if address is not None else ip


_VERSION = re.compile(r"[0-9]{1,9}")


def if_match_version(header: str) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"`, `3`); None when the
    header is empty. ValueError for anything else, so a caller answers 400:
    `str.isdigit()` alone takes "²" and 5,000 digits, which int() then refuses or
    no row can hold."""
    raw = header.strip()
    if not raw:
        return None
    raw = raw.removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)
