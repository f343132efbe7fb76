"""`manage.py check --deploy` passes with production-like settings, and settings refuse
to start without what production needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_LIKE = {
    "DEZKY_READ_DOTENV": "false",
    "DJANGO_SETTINGS_MODULE": "dezky.settings",
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-of-sufficient-length-and-variety-0123456789",
    "ALLOWED_HOSTS": "console.dezky.example",
    "CSRF_TRUSTED_ORIGINS": "https://console.dezky.example",
    "DEZKY_ENVIRONMENT": "prod",
    "DATABASE_URL": "sqlite://:memory:",
    "AUDIT_CHAIN_KEY": "a-production-like-audit-chain-key-kept-only-in-the-environment",
    "AUDIT_CHECKPOINT_SINKS": "file:/tmp/dezky-deploy-check/checkpoints.jsonl,syslog:",
}


# Set for the test process (tests/settings.py, the browser tests); a deployment has none.
TEST_ONLY = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in (*PRODUCTION_LIKE, *TEST_ONLY)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION_LIKE, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings() -> None:
    result = _manage("check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # HSTS preload is a commitment for the whole domain, so it is opt-in
    # (SECURE_HSTS_PRELOAD); it is the one warning allowed.
    assert "issue" not in output or ("(security.W021)" in output and "1 issue" in output), output


def test_check_deploy_is_clean_with_hsts_preload_opted_in() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", SECURE_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_names_what_the_audit_log_promise_lacks() -> None:
    result = _manage("check", "--deploy", AUDIT_CHAIN_KEY="", AUDIT_CHECKPOINT_SINKS="file:x")
    output = result.stdout + result.stderr
    assert "(audit.W001)" in output
    assert "(audit.W002)" in output


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = _manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_an_unknown_environment_is_refused() -> None:
    result = _manage("check", DEZKY_ENVIRONMENT="qa")
    assert result.returncode != 0
    assert "DEZKY_ENVIRONMENT must be one of" in result.stderr
