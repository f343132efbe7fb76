"""The demo integrations mode is visible in the console, written into a development
`.env`, and refused in production."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BADGE = 'data-testid="demo-badge"'


@pytest.mark.django_db
def test_the_badge_says_integrations_are_simulated_only_in_the_demo(
    operator_client, settings
) -> None:
    settings.DEMO_INTEGRATIONS = True
    page = operator_client.get("/tenants/").text
    assert BADGE in page
    badge = page.split(BADGE, 1)[1].split("</span>", 1)[0]
    assert "Demo: integrations simulated" in badge  # the words, not a hover title
    assert page.index('data-testid="env-badge"') < page.index(BADGE)

    settings.DEMO_INTEGRATIONS = False
    page = operator_client.get("/tenants/").text
    assert BADGE not in page and "integrations simulated" not in page


def _ensure_env(monkeypatch: pytest.MonkeyPatch, env_file: Path) -> None:
    spec = importlib.util.spec_from_file_location("ensure_env", ROOT / "scripts/ensure_env.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ENV_FILE", env_file)
    module.main()


def test_the_development_env_file_turns_the_demo_integrations_on(monkeypatch, tmp_path) -> None:
    env_file = tmp_path / ".env"
    _ensure_env(monkeypatch, env_file)
    assert "DEMO_INTEGRATIONS=true" in env_file.read_text().splitlines()


def test_an_existing_env_file_keeps_its_own_choice(monkeypatch, tmp_path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\n")
    _ensure_env(monkeypatch, env_file)
    assert "DEMO_INTEGRATIONS" not in env_file.read_text()


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DEMO_", "DEZKY_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DEZKY_READ_DOTENV": "false", "DEBUG": "true",
             "DATABASE_URL": "sqlite://:memory:", "DJANGO_SETTINGS_MODULE": "dezky.settings",
             **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_refuses_simulated_integrations() -> None:
    refused = _check(DEMO_INTEGRATIONS="true", DEZKY_ENVIRONMENT="prod")
    assert refused.returncode != 0
    assert "DEMO_INTEGRATIONS simulates provisioning" in refused.stderr
    assert _check(DEMO_INTEGRATIONS="true", DEZKY_ENVIRONMENT="dev").returncode == 0
