"""End to end with a real OpenID provider (tests/oidc_provider/provider.mjs, the
certified `oidc-provider` package): a browser logs in through it and out of it,
and a client-credentials JWT it issues calls the API."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import expect

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "dezky-console-e2e"
CLIENT_SECRET = "sample-e2e-client-secret"
RESOURCE = "urn:dezky:console-api"
OTHER_RESOURCE = "urn:sample:another-application"
ADMIN_GROUP = "dezky-platform-admins"


def _private_jwks() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    data.pop("key_ops", None)  # PyJWT says "sign" only; the provider also verifies with it
    return {"keys": [{**data, "kid": "e2e-signing-key", "use": "sig", "alg": "RS256"}]}


def _start(live_url: str, jwks_file: Path, **extra: str) -> tuple[Any, str]:
    env = {
        **os.environ,
        "JWKS_FILE": str(jwks_file),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{live_url}/oidc/callback/",
        "POST_LOGOUT_REDIRECT_URI": f"{live_url}/login/",
        "RESOURCE": RESOURCE,
        "OTHER_RESOURCE": OTHER_RESOURCE,
        "ADMIN_GROUP": ADMIN_GROUP,
        **extra,
    }
    # Its complaints go to a file (a pipe nobody reads could fill up and stall it).
    log = open(Path(jwks_file).with_name(f"provider-{time.monotonic_ns()}.log"), "w")  # noqa: SIM115
    process = subprocess.Popen(
        ["node", "provider.mjs"], cwd=PROVIDER_DIR, env=env,
        stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    line = process.stdout.readline()  # "listening <issuer>", or nothing if it died
    if not line.startswith("listening "):
        process.kill()
        raise RuntimeError(f"oidc-provider did not start: {line}{Path(log.name).read_text()}")
    return process, line.split()[1]


@pytest.fixture
def real_provider(live_server, settings, tmp_path) -> Iterator[dict[str, str]]:
    if shutil.which("node") is None or not (PROVIDER_DIR / "node_modules").is_dir():
        message = "node or tests/oidc_provider/node_modules missing (make test installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(_private_jwks()))
    # Service tokens live a few seconds, so one can be seen to expire.
    ours, issuer = _start(live_server.url, jwks_file, SERVICE_TOKEN_TTL="4")
    # A second provider with the same key but another issuer: only the iss check stops it.
    other, other_issuer = _start(live_server.url, jwks_file)
    try:
        settings.IDENTITY_MODE = "authentik"
        settings.AUTHENTIK_URL = "http://127.0.0.1:9"
        settings.AUTHENTIK_TOKEN = "sample-directory-token"
        settings.AUTHENTIK_ADMIN_GROUP = ADMIN_GROUP
        settings.OIDC_ISSUER = issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_SERVICE_AUDIENCE = RESOURCE
        # oidc-provider names a client-credentials token's subject by the client.
        settings.OIDC_SERVICE_SUBJECTS = [CLIENT_ID]
        settings.OIDC_CLOCK_SKEW_SECONDS = 0
        policy = json.loads(json.dumps(settings.CONTENT_SECURITY_POLICY))
        policy["DIRECTIVES"]["form-action"] = ["'self'", issuer]
        settings.CONTENT_SECURITY_POLICY = policy
        yield {"issuer": issuer, "other_issuer": other_issuer}
    finally:
        for process in (ours, other):
            process.terminate()
            process.wait(timeout=10)


def _service_token(issuer: str, *, scope: str = "flags:read", resource: str = RESOURCE) -> str:
    response = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": scope,
            "resource": resource,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _sign_in(page: Any, live_url: str, login: str) -> None:
    page.goto(f"{live_url}/login/")
    page.get_by_test_id("login-authentik").click()
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any-password")
    page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{live_url}/")


def test_an_operator_logs_in_and_out_through_a_real_provider(
    page, live_server, real_provider, screenshot_dir
) -> None:
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    _sign_in(page, live_server.url, "grace")
    page.get_by_test_id("user-menu-button").click()
    assert page.get_by_test_id("user-menu").inner_text().count("Grace Sample") == 1
    page.screenshot(path=str(screenshot_dir / "oidc-signed-in.png"))

    page.get_by_test_id("sign-out").click()
    # The provider asks to confirm ending its own session.
    page.locator('button[name="logout"]').click()
    page.wait_for_url(f"{live_server.url}/login/")
    expect(page.get_by_test_id("login-authentik")).to_be_visible()

    # Signed out at the provider too: signing in again asks for the password.
    page.get_by_test_id("login-authentik").click()
    page.wait_for_url(f"{real_provider['issuer']}/**")
    expect(page.locator('input[name="password"]')).to_be_visible()
    assert violations == []


def test_a_service_jwt_from_the_provider_calls_the_api(live_server, real_provider) -> None:
    api = f"{live_server.url}/api/flags/"
    token = _service_token(real_provider["issuer"])
    ok = requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200, ok.text

    evaluate_only = _service_token(real_provider["issuer"], scope="flags:evaluate")
    assert requests.get(api, headers={"Authorization": f"Bearer {evaluate_only}"},
                        timeout=10).status_code == 403  # fmt: skip

    def refused(bad: str) -> None:
        response = requests.get(api, headers={"Authorization": f"Bearer {bad}"}, timeout=10)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    refused(_service_token(real_provider["issuer"], resource=OTHER_RESOURCE))  # wrong audience
    refused(_service_token(real_provider["other_issuer"]))  # wrong issuer, same key
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = {**claims, "scope": "flags:read flags:evaluate tenants:read"}
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    refused(f"{header}.{body}.{signature}")  # tampered
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    refused(f"{none_header}.{payload}.")  # unsigned

    # Expired: the provider's service tokens live SERVICE_TOKEN_TTL seconds, and the
    # console allows no clock skew in this test.
    expiring = _service_token(real_provider["issuer"])
    lifetime = jwt.decode(expiring, options={"verify_signature": False})["exp"] - time.time()
    time.sleep(max(lifetime, 0) + 1.5)
    refused(expiring)
