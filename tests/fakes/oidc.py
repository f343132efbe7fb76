"""A fake OpenID provider shaped like Authentik's (spec/authentik-oidc.json): a
per-application issuer, shared authorize/token/userinfo endpoints, RS256 ID tokens
with `groups` and `email_verified: false`. Its RSA key is made at start-up, never
stored. The real, certified provider is in tests/oidc_provider/ (end-to-end tests);
this one lets unit tests mint any token, good or bad.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.server import FakeService

SLUG = "dezky-console"
CLIENT_ID = "dezky-console-client"
CLIENT_SECRET = "sample-client-secret-made-for-tests"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class FakeOidcProvider(FakeService):
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = field(default_factory=lambda: secrets.token_hex(8))
    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    userinfo_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"{self.url}/application/o/{SLUG}/"

    def discovery(self) -> dict[str, Any]:
        base = f"{self.url}/application/o"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/authorize/",
            "token_endpoint": f"{base}/token/",
            "userinfo_endpoint": f"{base}/userinfo/",
            "end_session_endpoint": f"{self.issuer}end-session/",
            "jwks_uri": f"{self.issuer}jwks/",
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["plain", "S256"],
        }

    # --- minting ---------------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "sub": "sample-subject-0001",
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            "email": "ada@dezky.example",
            "email_verified": False,
            "name": "Ada Sample",
            "preferred_username": "ada",
            "groups": [],
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def sign(self, claims: dict[str, Any], *, key: Any = None, **headers: Any) -> str:
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": self.kid, **headers}
        )

    def issue_code(self, *, nonce: str, code_challenge: str, **claims: Any) -> str:
        """What the authorize endpoint would hand the browser after a login."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "claims": self.claims(nonce=nonce, **claims),
            "code_challenge": code_challenge,
        }
        return code

    # --- the HTTP side -------------------------------------------------------------

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        app = f"/application/o/{SLUG}/"
        if method == "GET" and path == f"{app}.well-known/openid-configuration":
            return 200, self.discovery()
        if method == "GET" and path == f"{app}jwks/":
            return 200, {"keys": [public_jwk(self.key, self.kid), *self.extra_keys]}
        if method == "POST" and path == "/application/o/token/":
            return self._token(body or {})
        if method == "GET" and path == "/application/o/userinfo/":
            token = headers.get("Authorization", "").removeprefix("Bearer ")
            claims = self.access_tokens.get(token)
            if claims is None:
                return 401, {"error": "invalid_token"}
            info = {k: claims[k] for k in ("sub", "email", "email_verified", "name", "groups")
                    if k in claims}  # fmt: skip
            return 200, {**info, **self.userinfo_overrides}
        return 404, {"detail": "Not found."}

    def _token(self, body: dict[str, str]) -> tuple[int, Any]:
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_client"}
        grant = self.codes.pop(body.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant"}  # unknown or reused code
        verifier = body.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = grant["claims"]
        return 200, {
            "access_token": access_token,
            "id_token": self.sign(grant["claims"]),
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
        }
