"""Services calling the API with JWTs from the provider (client credentials), verified
locally against its JWKS."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from operators.oidc import provider
from tests.fakes.oidc import CLIENT_ID, new_rsa_key, public_jwk
from tests.flags.factories import FlagFactory

pytestmark = pytest.mark.django_db
URL = "/api/flags/"


def service_claims(fake: Any, **overrides: Any) -> dict[str, Any]:
    """Shaped like Authentik's client-credentials token (spec/authentik-oidc.json)."""
    now = int(time.time())
    claims = {
        "iss": fake.issuer,
        "sub": "sample-service-account",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "azp": CLIENT_ID,
        "uid": "sample-uid",
        "scope": "openid flags:read",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def call(client: Any, token: str) -> Any:
    return client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_valid_service_jwt_reads_flags(client, oidc_provider) -> None:
    flag = FlagFactory()
    response = call(client, oidc_provider.sign(service_claims(oidc_provider)))
    assert response.status_code == 200
    assert flag.key in {f["key"] for f in response.json()["results"]}


def test_a_valid_jwt_of_an_account_that_is_not_a_registered_service_gets_403(
    client, oidc_provider
) -> None:
    # Anyone in the same Authentik can get a token for the console's application,
    # with any scope its provider maps: the signature alone opens nothing.
    claims = service_claims(oidc_provider, sub="someone-else", scope="openid tenants:read")
    response = client.get(
        "/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {oidc_provider.sign(claims)}"
    )
    assert response.status_code == 403
    assert "not a registered service" in response.json()["detail"]


def test_verification_makes_no_network_call_per_request(client, oidc_provider) -> None:
    token = oidc_provider.sign(service_claims(oidc_provider))
    for _ in range(5):
        assert call(client, token).status_code == 200
    assert provider.keyset.fetches == 1
    assert len(oidc_provider.calls_to("GET", "/jwks/")) == 1
    assert len(oidc_provider.calls_to("GET", "openid-configuration")) == 1


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _tampered(fake: Any) -> str:
    header, _, signature = fake.sign(service_claims(fake)).split(".")
    forged = service_claims(fake, scope="openid flags:read flags:evaluate tenants:read")
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def _hs256_with_public_key(fake: Any) -> str:
    # The classic algorithm confusion: an HMAC "signed" with the provider's public key.
    claims = service_claims(fake)
    header = {"alg": "HS256", "kid": fake.kid, "typ": "JWT"}
    signing = ".".join(
        base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
        for x in (header, claims)
    )
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    secret = fake.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


BAD_TOKENS = {
    "expired": lambda f: f.sign(service_claims(f, exp=int(time.time()) - 3600)),
    "wrong-audience": lambda f: f.sign(service_claims(f, aud="another-application")),
    "wrong-issuer": lambda f: f.sign(service_claims(f, iss="http://127.0.0.1:9/other/")),
    "no-expiry": lambda f: f.sign(service_claims(f, exp=None)),
    "alg-none": lambda f: _unsigned(service_claims(f)),
    "tampered": _tampered,
    "hs256-with-public-key": _hs256_with_public_key,
    "another-key": lambda f: f.sign(service_claims(f), key=new_rsa_key()),
    "unknown-kid": lambda f: jwt.encode(
        service_claims(f), new_rsa_key(), algorithm="RS256", headers={"kid": "made-up"}
    ),
    "garbage": lambda f: "not.a.jwt",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_get_a_401_with_www_authenticate(client, oidc_provider, make) -> None:
    response = call(client, make(oidc_provider))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_clock_skew_within_the_leeway_is_allowed(client, oidc_provider, settings) -> None:
    settings.OIDC_CLOCK_SKEW_SECONDS = 60
    token = oidc_provider.sign(service_claims(oidc_provider, exp=int(time.time()) - 20))
    assert call(client, token).status_code == 200


def test_a_valid_caller_without_the_scope_gets_a_403(client, oidc_provider) -> None:
    token = oidc_provider.sign(service_claims(oidc_provider, scope="openid flags:evaluate"))
    assert call(client, token).status_code == 403
    # An operator's own access token (scope openid email profile) opens nothing either.
    token = oidc_provider.sign(service_claims(oidc_provider, scope="openid email profile"))
    assert call(client, token).status_code == 403


def test_a_service_jwt_never_writes(client, oidc_provider) -> None:
    token = oidc_provider.sign(
        service_claims(oidc_provider, scope="flags:read flags:evaluate tenants:read")
    )
    response = client.post(
        URL, {"key": "sample_flag"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 403


def test_a_rotated_key_is_fetched_once_and_unknown_kids_are_rate_limited(
    client, oidc_provider, settings
) -> None:
    settings.OIDC_JWKS_MIN_REFETCH_SECONDS = 60
    assert call(client, oidc_provider.sign(service_claims(oidc_provider))).status_code == 200
    # The provider rotates: a new key appears in its JWKS.
    rotated = new_rsa_key()
    oidc_provider.extra_keys.append(public_jwk(rotated, "rotated-key"))
    token = jwt.encode(
        service_claims(oidc_provider), rotated, algorithm="RS256", headers={"kid": "rotated-key"}
    )
    # Within the minimum interval the unknown kid is not fetched for…
    assert call(client, token).status_code == 401
    assert provider.keyset.fetches == 1
    # …after it, one refetch finds the key, and made-up kids cause no more fetches.
    settings.OIDC_JWKS_MIN_REFETCH_SECONDS = 0
    assert call(client, token).status_code == 200
    assert provider.keyset.fetches == 2
    settings.OIDC_JWKS_MIN_REFETCH_SECONDS = 60
    for n in range(5):
        bogus = jwt.encode(
            service_claims(oidc_provider), rotated, algorithm="RS256", headers={"kid": f"x{n}"}
        )
        assert call(client, bogus).status_code == 401
    assert provider.keyset.fetches == 2


def test_service_tokens_and_jwts_coexist(client, oidc_provider) -> None:
    from tests.operators.factories_tokens import make_token

    assert call(client, make_token("flags:read")).status_code == 200
    assert call(client, oidc_provider.sign(service_claims(oidc_provider))).status_code == 200
    assert call(client, "dzk_deadbeef_not-a-real-token").status_code == 401


def test_a_bearer_jwt_without_a_configured_provider_is_a_401(client) -> None:
    assert call(client, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").status_code == 401


def test_an_unreachable_provider_is_a_503_not_a_pass(client, oidc_provider, settings) -> None:
    token = oidc_provider.sign(service_claims(oidc_provider))
    settings.OIDC_ISSUER = "http://127.0.0.1:9/application/o/gone/"
    assert call(client, token).status_code == 503
