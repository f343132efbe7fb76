"""The OpenID provider as this project sees it: endpoints and signing keys.

Endpoints come from one setting, `OIDC_ISSUER`: its discovery document
(`<issuer>/.well-known/openid-configuration`) is fetched on first use and kept
in this process for `OIDC_DISCOVERY_TTL_SECONDS`. Authentik's issuer is per
application (`https://auth.example/application/o/<slug>/`) and its discovery
document lists the shared authorize/token/userinfo endpoints and the
per-application jwks and end-session endpoints, so nothing is guessed. Any
`OIDC_OP_*` setting that is set wins over discovery (for providers that serve
none; tests use it to point at a fake).

Signing keys come from the JWKS endpoint, are kept in memory, and are refetched
when a token names a key id we do not have (key rotation), at most once per
`OIDC_JWKS_MIN_REFETCH_SECONDS`, so a flood of tokens with made-up key ids
cannot turn into a flood of requests to the provider. Verifying a token is then
local: no network call per request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import jwt
import requests
from django.conf import settings

logger = logging.getLogger(__name__)

# mozilla-django-oidc's setting names -> the discovery document's keys.
ENDPOINT_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}


class ProviderError(Exception):
    """The provider could not be asked (down, slow, or answering nonsense)."""


class InvalidToken(Exception):
    """A JWT that this project does not accept; `reason` is for logs and audit, not callers."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, headers={"Accept": "*/*"})
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as err:
        raise ProviderError(f"{url}: {err}") from None
    if not isinstance(body, dict):
        raise ProviderError(f"{url} did not answer a JSON object")
    return body


# --- Discovery -------------------------------------------------------------------

_discovery: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


def discovery() -> dict[str, Any]:
    """The issuer's discovery document, from this process's memory when fresh."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise ProviderError("OIDC_ISSUER is not set")
    cached = _discovery.get(issuer)
    if cached and time.monotonic() - cached[0] < settings.OIDC_DISCOVERY_TTL_SECONDS:
        return cached[1]
    with _discovery_lock:
        cached = _discovery.get(issuer)
        if cached and time.monotonic() - cached[0] < settings.OIDC_DISCOVERY_TTL_SECONDS:
            return cached[1]
        try:
            document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        except ProviderError:
            if cached:  # a provider hiccup should not log everybody out: serve the old one
                logger.warning("OIDC discovery failed; keeping the cached document")
                return cached[1]
            raise
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer asked.
        if document.get("issuer") != issuer:
            raise ProviderError(
                f"discovery at {issuer} names the issuer {document.get('issuer')!r}; "
                "OIDC_ISSUER must be exactly the provider's issuer (mind the trailing slash)"
            )
        _discovery[issuer] = (time.monotonic(), document)
        return document


def endpoint(setting_name: str) -> str:
    """One of mozilla-django-oidc's `OIDC_OP_*` endpoints: the setting, else discovery."""
    explicit = getattr(settings, setting_name, "")
    if explicit:
        return explicit
    value = discovery().get(ENDPOINT_SETTINGS[setting_name])
    if not value:
        raise ProviderError(f"the provider's discovery document has no {setting_name}")
    return value


# --- Signing keys ----------------------------------------------------------------


class _KeySet:
    """The provider's public keys by key id, shared by every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uri = ""
        # kid -> (key, the algorithm the JWKS pins it to, if it does)
        self._keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        self._fetched_at = float("-inf")
        self.fetches = 0  # read by tests: proves "no network call per request"

    def reset(self) -> None:
        with self._lock:
            self._uri, self._keys, self._fetched_at, self.fetches = "", {}, float("-inf"), 0

    def key(self, kid: str) -> tuple[jwt.PyJWK, str | None]:
        uri = endpoint("OIDC_OP_JWKS_ENDPOINT")
        now = time.monotonic()
        fresh = now - self._fetched_at < settings.OIDC_JWKS_TTL_SECONDS
        found = self._keys.get(kid) if uri == self._uri else None
        if found is not None and fresh:
            return found  # the steady state: no lock, no network
        with self._lock:
            if uri != self._uri:
                self._uri, self._keys, self._fetched_at = uri, {}, float("-inf")
            since = time.monotonic() - self._fetched_at
            stale = since >= settings.OIDC_JWKS_TTL_SECONDS
            # TRICKY: an unknown kid refetches only after the minimum interval, so
            # made-up key ids cannot make us hammer the provider.
            unknown_and_allowed = (
                kid not in self._keys and since >= settings.OIDC_JWKS_MIN_REFETCH_SECONDS
            )
            if stale or unknown_and_allowed:
                self._fetch(uri)
            found = self._keys.get(kid)
        if found is None:
            raise InvalidToken(f"unknown signing key id {kid!r}")
        return found

    def _fetch(self, uri: str) -> None:
        self._fetched_at = time.monotonic()  # also on failure: a down provider is not hammered
        self.fetches += 1
        try:
            body = _get_json(uri)
        except ProviderError:
            if self._keys:
                logger.warning("JWKS refetch failed; keeping the keys we have")
                return
            raise
        keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        for data in body.get("keys", []):
            if not isinstance(data, dict) or data.get("use", "sig") != "sig" or "kid" not in data:
                continue
            try:
                keys[str(data["kid"])] = (jwt.PyJWK(data), data.get("alg"))
            except jwt.PyJWTError:
                logger.warning("skipping a JWKS key we cannot use (kid %s)", data.get("kid"))
        self._keys = keys


keyset = _KeySet()


def verify_jwt(token: str, *, audience: str, nonce: str | None = None) -> dict[str, Any]:
    """The claims of a JWT signed by the provider, or InvalidToken.

    Checks, in this order: an allowed asymmetric algorithm (so `none` and HS256
    signed with a public key are refused before anything else), a known key id,
    the signature, `iss` == OIDC_ISSUER, `aud` contains `audience` (and with
    several audiences, `azp` is ours), `exp`/`iat`/`nbf` with
    OIDC_CLOCK_SKEW_SECONDS of leeway, and the nonce when one is expected.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("not a JWT") from None
    algorithm = header.get("alg")
    if algorithm not in settings.OIDC_ALLOWED_ALGORITHMS:
        raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("the token names no signing key (kid)")
    key, pinned_algorithm = keyset.key(kid)
    if pinned_algorithm and pinned_algorithm != algorithm:
        raise InvalidToken("the token's algorithm is not the one its key is for")
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=settings.OIDC_ISSUER,
            leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as err:
        raise InvalidToken(f"{type(err).__name__}: {err}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise InvalidToken("several audiences and the authorized party is not us")
    if nonce is not None and claims.get("nonce") != nonce:
        raise InvalidToken("nonce mismatch")
    return claims


def reset_for_tests() -> None:
    _discovery.clear()
    keyset.reset()
