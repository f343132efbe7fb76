"""Flag evaluation speed.

1. In process: the engine evaluating every flag for one tenant, with 10 and with
   1,000 flags (microseconds per call). Targets: 10 flags <= 20 us, 1,000 <= 2 ms.
2. Over HTTP: POST /api/flags/evaluate/ under gunicorn with 2 workers, driven by
   wrk on 127.0.0.1, beside /bench/floor/ (same app, same authentication, no work):
   req/s, p50 and p99 of both and their ratio. Target: evaluate >= 0.8x the floor.

Run with `make bench`. Needs `wrk` for part 2 (apt-get install wrk); without it
part 2 says so and is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flags import engine  # noqa: E402

TENANTS = 1_000
DURATION = os.environ.get("BENCH_SECONDS", "10")


def synthetic_flags(n: int) -> tuple[engine.FlagSnapshot, ...]:
    """A realistic mix: a quarter each off, on, targeted and rollout at varied pct."""
    flags = []
    for i in range(n):
        state = engine.STATES[i % 4]
        scope = engine.Scope(plans=frozenset({"business"})) if i % 3 == 0 else engine.Scope()
        flags.append(engine.FlagSnapshot(f"flag_{i}", state, (i * 7) % 101, scope))
    return tuple(flags)


def in_process() -> None:
    ctx = engine.TenantContext("64b7f0c2a1e4d5f6a7b8c9d0", "acme", "business", "nordic-it", "prod")
    for count, target_us in ((10, 20), (1_000, 2_000)):
        flags = synthetic_flags(count)
        number = 200_000 // count
        best = min(
            timeit.repeat(lambda f=flags: engine.evaluate_all(f, ctx), number=number, repeat=7)
        )
        per_call = best / number * 1e6
        verdict = "ok" if per_call <= target_us else "OVER TARGET"
        print(f"in-process evaluate_all, {count:>5} flags: {per_call:9.2f} us/call "
              f"(target <= {target_us} us: {verdict})")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEZKY_READ_DOTENV": "false",
        "DJANGO_SETTINGS_MODULE": "dezky.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DEZKY_CACHE_DIR": str(workdir / "cache"),
        "DEZKY_BENCH_FLOOR": "true",
        "LOG_LEVEL": "WARNING",
        # WhiteNoise warns about collected static files this API-only run does not need.
        "PYTHONWARNINGS": "ignore:No directory at",
    }


SETUP = """
import django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", verbosity=0)
from tenants.models import Tenant
from operators import services
Tenant.objects.bulk_create(
    Tenant(slug=f"bench-{i}", name=f"Bench tenant {i}", status="active",
           plan=("starter", "business", "enterprise")[i % 3])
    for i in range(__TENANTS__)
)
with transaction.atomic():
    _, secret = services.service_token_create(name="bench", scopes=["flags:evaluate"], actor=None)
print(secret)
"""


def _wrk(url: str, token: str, body: dict) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{DURATION}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=int(DURATION) + 60,
    ).stdout  # fmt: skip
    script.unlink()
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url} answered {non_2xx.group(1)} errors:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def over_http() -> None:
    if shutil.which("wrk") is None:
        print("HTTP: skipped, wrk is not installed (apt-get install wrk)")
        return
    workdir = Path(tempfile.mkdtemp(prefix="dezky-bench-"))
    env = _environment(workdir)
    bin_dir = Path(sys.executable).parent
    token = subprocess.run(
        [sys.executable, "-c", SETUP.replace("__TENANTS__", str(TENANTS))],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "dezky.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        _wait_for(port)
        base = f"http://127.0.0.1:{port}"
        body = {"tenantSlug": "bench-7"}
        _wrk(f"{base}/api/flags/evaluate/", token, body)  # warm both workers' snapshots
        evaluate = _wrk(f"{base}/api/flags/evaluate/", token, body)
        floor = _wrk(f"{base}/bench/floor/", token, body)
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = evaluate["rps"] / floor["rps"]
    for name, r in (("evaluate", evaluate), ("floor", floor)):
        print(f"HTTP {name:<8} (gunicorn 2 workers, {TENANTS} tenants, 10 flags): "
              f"{r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms")  # fmt: skip
    verdict = "ok" if ratio >= 0.8 else "UNDER TARGET"
    print(f"HTTP evaluate / floor: {ratio:.2f}x (target >= 0.8x: {verdict})")


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    in_process()
    over_http()
