"""Unleash for bench/unleash_side_by_side.py: installed from the npm registry at a
pinned version into bench/.unleash/ (git-ignored), with the Node.js it asks for
(the `node` package, also pinned), started as one process on its own database,
then given flags and API tokens through its admin API."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

UNLEASH_VERSION = "8.2.0"
# unleash-server 8 needs Node.js 22 or newer; the npm package carries the binary.
NODE_VERSION = "22.23.3"
FOLDER = Path(__file__).resolve().parent / ".unleash"
# The admin token of a throwaway server on loopback, given to it at start.
ADMIN_TOKEN = "*:*.bench-admin-0123456789abcdef"
INSTALL_SECONDS = 20 * 60


def install() -> Path:
    """unleash-server and Node.js in FOLDER (once); returns the node binary."""
    FOLDER.mkdir(exist_ok=True)
    manifest = {
        "name": "dezky-bench-unleash",
        "private": True,
        "description": "Unleash for bench/unleash_side_by_side.py; made by that script.",
        "dependencies": {"unleash-server": UNLEASH_VERSION, "node": NODE_VERSION},
    }
    package_json = FOLDER / "package.json"
    node = FOLDER / "node_modules" / ".bin" / "node"
    installed = FOLDER / "node_modules" / "unleash-server" / "package.json"
    wanted = json.dumps(manifest, indent=2) + "\n"
    up_to_date = (
        package_json.exists()
        and package_json.read_text() == wanted
        and installed.exists()
        and json.loads(installed.read_text())["version"] == UNLEASH_VERSION
        and node.exists()
    )
    if not up_to_date:
        package_json.write_text(wanted)
        print(f"installing unleash-server {UNLEASH_VERSION} and Node.js {NODE_VERSION} "
              f"into {FOLDER.name}/ (npm) ...", flush=True)  # fmt: skip
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=FOLDER, check=True, timeout=INSTALL_SECONDS,
        )  # fmt: skip
    return node


@dataclass(frozen=True)
class Unleash:
    base: str
    frontend_token: str
    client_token: str


def start(node: Path, *, database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """One Unleash process; its own rate limits raised so they never answer the bench."""
    env = {
        **os.environ,
        "TZ": "UTC",
        "DATABASE_URL": database_url,
        "DATABASE_SSL": "false",
        "HTTP_PORT": str(port),
        "HTTP_HOST": "127.0.0.1",
        "LOG_LEVEL": "error",
        "CHECK_VERSION": "false",
        "SEND_TELEMETRY": "false",
        "INIT_ADMIN_API_TOKENS": ADMIN_TOKEN,
        "SDK_API_RATE_LIMIT_PER_MINUTE": "100000000",
        "TOKEN_AUTHENTICATION_RATE_LIMIT_PER_MINUTE": "100000000",
        "NODE_ENV": "production",
    }
    server = FOLDER / "node_modules" / "unleash-server" / "dist" / "server.js"
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(node), str(server)], cwd=FOLDER, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_healthy(base: str, process: subprocess.Popen[bytes], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Unleash exited with {process.returncode}")
        try:
            if requests.get(f"{base}/health", timeout=2).json().get("health") == "GOOD":
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Unleash did not answer /health within {seconds:.0f} s")


def _admin(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = requests.post(
        f"{base}{path}", json=body, headers={"Authorization": ADMIN_TOKEN}, timeout=30
    )
    response.raise_for_status()
    return response.json() if response.content else None


def seed(base: str, keys: list[str], *, rollout: int) -> Unleash:
    """Each key a flag with one flexibleRollout strategy at `rollout` %, on in the
    development environment; then a frontend and a client token for it."""
    project = "/api/admin/projects/default/features"
    for key in keys:
        _admin(base, project, {"name": key, "description": "Side-by-side bench flag."})
        _admin(
            base,
            f"{project}/{key}/environments/development/strategies",
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": str(rollout), "stickiness": "default", "groupId": key},
            },
        )
        _admin(base, f"{project}/{key}/environments/development/on")
    tokens = {}
    for kind in ("frontend", "client"):
        answer = _admin(
            base,
            "/api/admin/api-tokens",
            {"tokenName": f"bench-{kind}", "type": kind,
             "environment": "development", "projects": ["*"]},
        )  # fmt: skip
        tokens[kind] = answer["secret"]
    return Unleash(base, tokens["frontend"], tokens["client"])


def fetch(url: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, Any, str]:
    """(status, JSON body or None, ETag) of one request; a 304 is not an error here."""
    method = "POST" if body is not None else "GET"
    response = requests.request(method, url, data=body, headers=headers, timeout=10)
    content = response.json() if response.content else None
    return response.status_code, content, response.headers.get("ETag", "")
