"""Dezky's flag evaluation beside Unleash, on the same machine, in one run.

1. Dezky under gunicorn (2 sync workers) on a fresh PostgreSQL database with
   `manage.py seed_scale` data (40 tenants) and the 10 platform flags at rollout
   50 %, and Unleash (unleash-server from the npm registry, one Node.js process) on
   its own fresh database with 10 flexibleRollout flags at 50 %, both on loopback.
   wrk (-t2 -c32, 10 s, --latency) drives each request in turn, three rounds:
   Dezky's evaluate (service token), OFREP bulk, OFREP bulk answering 304, evaluate
   with an operator's session cookie, /bench/floor/ (same app and authentication, no
   work); Unleash's frontend API (POST and GET), client features (200 and 304) and
   /health. The table gives medians of the three rounds: req/s, p50 and p99, and
   the server's CPU time per request (its processes' user + system time over the
   run); then the ratios of req/s that matter.
2. A cProfile of the evaluate path inside one process: Django's WSGI handler (what
   a gunicorn worker calls) answering many token requests; the top 15 by
   cumulative time, per request.

Run with `make bench-unleash` (not part of `make bench`: it installs Unleash with
npm into bench/.unleash/ the first time, about a minute, and takes about 7 minutes).
Needs npm, wrk and a local PostgreSQL server (BENCH_POSTGRES_URL, default the
`postgres` database at 127.0.0.1:5432, used only to create and drop the two
bench databases). If Unleash cannot be installed or started, its rows say so and
Dezky's are still measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _unleash  # noqa: E402

TENANTS = 40
USERS = 200
ROLLOUT = 50
ROUNDS = 3
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS, CONNECTIONS = 2, 32
PROFILE_REQUESTS = 3_000
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DEZKY_DATABASE = os.environ.get("BENCH_DEZKY_DATABASE", "dezky_bench_unleash")
UNLEASH_DATABASE = os.environ.get("BENCH_UNLEASH_DATABASE", "unleash_bench")
UNLEASH_START_SECONDS = 120
OPERATOR_PASSWORD = "bench-operator-password-4711"  # a throwaway local account's

SETUP = """
import json
import django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", verbosity=0)  # also creates the 10 platform flags (off)
call_command("seed_scale", tenants=__TENANTS__, users=__USERS__, partners=5, verbosity=0)
from flags import services as flag_services
from flags.seed import PLATFORM_FLAGS
from operators import services
from operators.models import User
from tenants.models import Tenant, TenantStatus
for key in PLATFORM_FLAGS:
    with transaction.atomic():
        flag_services.flag_update(key=key, actor=None, state="rollout", pct=__ROLLOUT__)
with transaction.atomic():
    _, secret = services.service_token_create(name="bench", scopes=["flags:evaluate"], actor=None)
User.objects.create_user("operator@northwind-bakery.example", "__PASSWORD__",
                         name="Bench Operator", platform_admin=True)
slug = Tenant.objects.filter(status=TenantStatus.ACTIVE).order_by("id").values_list(
    "slug", flat=True)[0]
print(json.dumps({"token": secret, "slug": slug, "email": "operator@northwind-bakery.example"}))
"""

PROFILE = """
import cProfile, io, json, pstats, sys, time
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
token, slug, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
handler = WSGIHandler()
body = json.dumps({"tenantSlug": slug, "environment": "prod"}).encode()

def request():
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/flags/evaluate/", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": "Bearer " + token, "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    status = []
    response = handler(environ, lambda s, h, e=None: status.append(s))
    b"".join(response)
    response.close()
    assert status[0].startswith("200"), status

for _ in range(300):
    request()
started = time.perf_counter()
for _ in range(count):
    request()
plain_us = (time.perf_counter() - started) / count * 1e6
profile = cProfile.Profile()
profile.enable()
for _ in range(count):
    request()
profile.disable()
stats = pstats.Stats(profile)
rows = []
for (path, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
    rows.append({"path": path, "line": line, "name": name, "calls": nc, "tottime": tt,
                 "cumtime": ct})
print(json.dumps({"plain_us": plain_us, "count": count, "rows": rows}))
"""


# --- processes ----------------------------------------------------------------


@dataclass
class Started:
    """What this run started (process groups it made) and created, to undo at the end."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)  # the group this run started
                except ProcessLookupError:
                    continue
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()
        if os.environ.get("BENCH_KEEP_DATABASES") != "true":
            for url in self.databases:
                _drop_database(url)
        self.databases.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _rss_mb(pid: int, *, with_children: bool) -> float:
    pids = [pid]
    if with_children:
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    kb = 0
    for p in pids:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{p}/status").read_text()
            kb += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return kb / 1024


def _cpu_seconds(pid: int, *, with_children: bool) -> float:
    """User + system time of a process (all its threads), and of its children."""
    pids = [pid]
    if with_children:
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# --- databases ----------------------------------------------------------------


def _database_url(name: str) -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _maintenance(sql: str) -> None:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def _fresh_database(name: str, started: Started) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    _maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _maintenance(f'CREATE DATABASE "{name}"')
    url = _database_url(name)
    started.databases.append(url)
    return url


def _drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    try:
        _maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:
        print(f"could not drop {name}: {exc}")


# --- Dezky ----------------------------------------------------------------------


def _dezky_environment(workdir: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEZKY_READ_DOTENV": "false",
        "DJANGO_SETTINGS_MODULE": "dezky.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        # Plain HTTP on loopback: the cookies must travel without TLS.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url,
        "DEZKY_CACHE_DIR": str(workdir / "cache"),
        "AUDIT_CHECKPOINT_SINKS": f"file:{workdir / 'checkpoints.jsonl'}",
        "DEZKY_BENCH_FLOOR": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at",
    }


def _sign_in(base: str, email: str) -> dict[str, str]:
    """An operator's session through the real sign-in form (posted straight away: the
    form page itself needs collected static files); the cookie and CSRF headers a
    browser's API call would then send."""
    import requests

    # Django accepts its unmasked 32-character CSRF secret in the cookie and the form.
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    with requests.Session() as browser:
        browser.cookies.set("csrftoken", secret, domain="127.0.0.1", path="/")
        answer = browser.post(
            f"{base}/login/",
            data={"email": email, "password": OPERATOR_PASSWORD, "csrfmiddlewaretoken": secret},
            headers={"Referer": f"{base}/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, f"sign-in answered {answer.status_code}"
        cookies = {c.name: c.value for c in browser.cookies}
    assert "sessionid" in cookies, "no session cookie after sign-in"
    return {
        "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        "X-CSRFToken": cookies["csrftoken"],
    }


# --- wrk ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # "dezky" or "unleash": whose CPU time is counted
    url: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Figures:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


def _lua(target: Target) -> Path:
    lines = [f"wrk.method = {json.dumps(target.method)}"]
    if target.body is not None:
        lines.append(f"wrk.body = {json.dumps(target.body)}")
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in target.headers.items()]
    handle, name = tempfile.mkstemp(suffix=".lua")
    os.close(handle)
    path = Path(name)
    path.write_text("\n".join(lines) + "\n")
    return path


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(\w+)", value)
    assert match, value
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(target: Target, seconds: int, cpu: Callable[[], float]) -> dict[str, float]:
    script = _lua(target)
    try:
        before = cpu()
        out = subprocess.run(
            ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
             "-s", str(script), target.url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
        used = cpu() - before
    finally:
        script.unlink()
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise RuntimeError(f"{target.name}: {failed.group(1)} error answers\n{out}")
    requests_done = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    assert requests_done and rps and p50 and p99, out
    return {
        "rps": float(rps.group(1)),
        "p50": _ms(p50.group(1)),
        "p99": _ms(p99.group(1)),
        "cpu_ms": used * 1e3 / max(int(requests_done.group(1)), 1),
    }


# --- the run --------------------------------------------------------------------


def _check(target: Target, expect: int) -> Any:
    status, body, _ = _unleash.fetch(
        target.url, target.headers, target.body.encode() if target.body is not None else None
    )
    if status != expect:
        raise RuntimeError(f"{target.name} answered {status}, expected {expect}")
    return body


def _dezky_targets(base: str, token: str, slug: str, session: dict[str, str]) -> list[Target]:
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    evaluate_body = json.dumps({"tenantSlug": slug, "environment": "prod"})
    ofrep_body = json.dumps({"context": {"targetingKey": slug, "environment": "prod"}})
    evaluate = Target("Dezky evaluate (token)", "dezky", f"{base}/api/flags/evaluate/", "POST",
                      evaluate_body, auth)  # fmt: skip
    answers = _check(evaluate, 200)
    assert len(answers) == 10, answers
    ofrep = Target("Dezky OFREP bulk", "dezky", f"{base}/ofrep/v1/evaluate/flags", "POST",
                   ofrep_body, auth)  # fmt: skip
    _, body, etag = _unleash.fetch(ofrep.url, ofrep.headers, ofrep_body.encode())
    assert len(body["flags"]) == 10 and etag, body
    ofrep_304 = Target("Dezky OFREP bulk, 304", "dezky", ofrep.url, "POST", ofrep_body,
                       {**auth, "If-None-Match": etag})  # fmt: skip
    _check(ofrep_304, 304)
    by_session = Target("Dezky evaluate (session cookie)", "dezky", evaluate.url, "POST",
                        evaluate_body, {**session, "Content-Type": "application/json"})  # fmt: skip
    assert _check(by_session, 200) == answers
    floor = Target("Dezky /bench/floor/", "dezky", f"{base}/bench/floor/", "POST",
                   evaluate_body, auth)  # fmt: skip
    _check(floor, 200)
    return [evaluate, ofrep, ofrep_304, by_session, floor]


def _unleash_targets(unleash: _unleash.Unleash, slug: str) -> list[Target]:
    base = unleash.base
    frontend = {"Authorization": unleash.frontend_token, "Content-Type": "application/json"}
    client = {"Authorization": unleash.client_token}
    post = Target("Unleash frontend, POST", "unleash", f"{base}/api/frontend", "POST",
                  json.dumps({"context": {"userId": slug}}), frontend)  # fmt: skip
    get = Target("Unleash frontend, GET", "unleash", f"{base}/api/frontend?userId={slug}",
                 headers={"Authorization": unleash.frontend_token})  # fmt: skip
    features = Target("Unleash client features", "unleash", f"{base}/api/client/features",
                      headers=client)  # fmt: skip
    # The frontend API reads a cache that fills shortly after start: wait for the flags.
    deadline = time.monotonic() + 60
    while True:
        _, body, _ = _unleash.fetch(f"{base}/api/frontend?userId=probe", get.headers)
        _, full, etag = _unleash.fetch(features.url, client)
        if len(full["features"]) == 10 and body is not None:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("Unleash's APIs did not show the 10 flags")
        time.sleep(1)
    _check(post, 200)
    _check(get, 200)
    features_304 = Target("Unleash client features, 304", "unleash", features.url,
                          headers={**client, "If-None-Match": etag})  # fmt: skip
    _check(features_304, 304)
    health = Target("Unleash /health", "unleash", f"{base}/health")
    _check(health, 200)
    return [post, get, features, features_304, health]


def _start_unleash(started: Started, workdir: Path) -> tuple[_unleash.Unleash | None, str]:
    """Unleash seeded and answering, or None and why not."""
    try:
        node = _unleash.install()
        url = _fresh_database(UNLEASH_DATABASE, started)
        port = _free_port()
        process = _unleash.start(node, database_url=url, port=port, log=workdir / "unleash.log")
        started.processes.append(process)
        base = f"http://127.0.0.1:{port}"
        _unleash.wait_healthy(base, process, seconds=UNLEASH_START_SECONDS)
        from flags.seed import PLATFORM_FLAGS

        unleash = _unleash.seed(base, list(PLATFORM_FLAGS), rollout=ROLLOUT)
        return unleash, f"unleash-server {_unleash.UNLEASH_VERSION} (pid {process.pid})"
    except Exception as exc:
        log = workdir / "unleash.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return None, f"NOT MEASURED: {exc}\n{tail}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _table(targets: list[Target], figures: dict[str, Figures], missing: list[str]) -> None:
    print()
    print(f"| request | req/s (median of {ROUNDS}) | p50 ms | p99 ms | server CPU ms/req |")
    print("| --- | --- | --- | --- | --- |")
    for target in targets:
        f = figures[target.name]
        print(f"| {target.name} | {_median(f.rps):,.0f} | {_median(f.p50):.1f} | "
              f"{_median(f.p99):.1f} | {_median(f.cpu_ms):.2f} |")  # fmt: skip
    for name in missing:
        print(f"| {name} | not measured | | | |")


def _ratios(figures: dict[str, Figures]) -> None:
    def rps(name: str) -> float | None:
        f = figures.get(name)
        return _median(f.rps) if f and f.rps else None

    print()
    print("| ratio of req/s | figure |")
    print("| --- | --- |")
    for label, top, bottom in (
        ("evaluate / floor", "Dezky evaluate (token)", "Dezky /bench/floor/"),
        ("OFREP bulk / floor", "Dezky OFREP bulk", "Dezky /bench/floor/"),
        ("OFREP 304 / floor", "Dezky OFREP bulk, 304", "Dezky /bench/floor/"),
        ("session evaluate / floor", "Dezky evaluate (session cookie)", "Dezky /bench/floor/"),
        ("evaluate / Unleash frontend POST", "Dezky evaluate (token)", "Unleash frontend, POST"),
        ("OFREP bulk / Unleash client features", "Dezky OFREP bulk", "Unleash client features"),
        ("OFREP 304 / Unleash client 304", "Dezky OFREP bulk, 304",
         "Unleash client features, 304"),
    ):  # fmt: skip
        a, b = rps(top), rps(bottom)
        figure = f"{a / b:.2f}x" if a and b else "not measured"
        print(f"| {label} | {figure} |")


# Frames whose cumulative time is everything below them: a middleware's __call__,
# Django's handler and view wrappers, DRF's dispatch.
PASS_THROUGH = {"__call__", "get_response", "_get_response", "inner", "_view_wrapper", "view",
                "dispatch", "wrapper_view", "_wrapper_view", "__acall__"}  # fmt: skip


def _profile(env: dict[str, str], token: str, slug: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROFILE, token, slug, str(PROFILE_REQUESTS)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    result = json.loads(out)
    count = result["count"]
    rows = sorted(result["rows"], key=lambda r: r["cumtime"], reverse=True)
    total = max(r["cumtime"] for r in rows)
    prefixes = sorted({str(ROOT) + "/", *(p + "/" for p in sys.path if "site-packages" in p)},
                      key=len, reverse=True)  # fmt: skip

    def where(row: dict[str, Any]) -> str:
        path = row["path"]
        for prefix in prefixes:
            path = path.removeprefix(prefix)
        return f"{path}:{row['line']}({row['name']})" if row["line"] else row["name"]

    print()
    print(f"Profile: POST /api/flags/evaluate/ through Django's WSGI handler, token caller, "
          f"{count} requests in one process on PostgreSQL")  # fmt: skip
    print(f"without the profiler {result['plain_us']:.0f} us per request; under it "
          f"{total / count * 1e6:.0f} us (cProfile inflates small calls)")  # fmt: skip
    print()
    print("| # | function | calls/req | cumulative us/req | % of request | own us/req |")
    print("| --- | --- | --- | --- | --- | --- |")
    shown = [r for r in rows if "profile" not in r["name"] and r["name"] != "request"]
    for n, row in enumerate(shown[:15], 1):
        print(f"| {n} | `{where(row)}` | {row['calls'] / count:.1f} | "
              f"{row['cumtime'] / count * 1e6:.1f} | {row['cumtime'] / total * 100:.0f} % | "
              f"{row['tottime'] / count * 1e6:.1f} |")  # fmt: skip
    print()
    print("The same, leaving out the frames that only hand the request on (the WSGI handler,")
    print("each middleware's __call__, the view wrappers and DRF's dispatch):")
    inner = [r for r in shown if r["name"] not in PASS_THROUGH]
    for row in inner[:15]:
        print(f"  {row['cumtime'] / count * 1e6:6.1f} us  {row['cumtime'] / total * 100:3.0f} %  "
              f"{where(row)}")  # fmt: skip
    print()
    print("Largest own time (tottime), per request:")
    for row in sorted(rows, key=lambda r: r["tottime"], reverse=True)[:10]:
        print(f"  {row['tottime'] / count * 1e6:6.1f} us  {where(row)}")


def main() -> None:
    for tool in ("wrk", "npm"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (apt-get install {tool}): "
                  f"{'nothing measured' if tool == 'wrk' else 'Unleash not measured'}")  # fmt: skip
            if tool == "wrk":
                return
    started = Started()
    workdir = Path(tempfile.mkdtemp(prefix="dezky-unleash-"))

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        run(started, workdir)
    finally:
        started.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(started: Started, workdir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    dezky_url = _fresh_database(DEZKY_DATABASE, started)
    env = _dezky_environment(workdir, dezky_url)
    setup = SETUP
    for name, value in (("__TENANTS__", TENANTS), ("__USERS__", USERS),
                        ("__ROLLOUT__", ROLLOUT), ("__PASSWORD__", OPERATOR_PASSWORD)):  # fmt: skip
        setup = setup.replace(name, str(value))
    seeded = json.loads(
        subprocess.run(
            [sys.executable, "-c", setup], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True, timeout=600,
        ).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    port = _free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "dezky.wsgi", "--workers", "2",
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    started.processes.append(gunicorn)
    _wait_for_port(port, gunicorn, "gunicorn")
    base = f"http://127.0.0.1:{port}"
    session = _sign_in(base, seeded["email"])
    targets = _dezky_targets(base, seeded["token"], seeded["slug"], session)
    print(f"Dezky: gunicorn 2 sync workers (pid {gunicorn.pid}), PostgreSQL {DEZKY_DATABASE}, "
          f"{TENANTS} tenants (seed_scale), 10 flags at rollout {ROLLOUT} %")  # fmt: skip

    unleash, about = _start_unleash(started, workdir)
    print(f"Unleash: {about}")
    missing: list[str] = []
    unleash_process = started.processes[-1] if unleash else None
    if unleash:
        targets += _unleash_targets(unleash, seeded["slug"])
        print(f"Unleash: PostgreSQL {UNLEASH_DATABASE}, 10 flexibleRollout flags at {ROLLOUT} %")
    else:
        missing = ["Unleash frontend, POST", "Unleash frontend, GET", "Unleash client features",
                   "Unleash client features, 304", "Unleash /health"]  # fmt: skip

    def cpu_of(target: Target) -> Callable[[], float]:
        if target.server == "unleash" and unleash_process is not None:
            return lambda: _cpu_seconds(unleash_process.pid, with_children=False)
        return lambda: _cpu_seconds(gunicorn.pid, with_children=True)

    print(f"machine: {os.cpu_count()} cores, load average before the runs {_load()}")
    print(f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s --latency, loopback; "
          f"{ROUNDS} rounds taking each request in turn", flush=True)  # fmt: skip
    for target in targets:  # warm both workers' snapshots and Unleash's caches
        _wrk(target, 2, cpu_of(target))
    figures = {t.name: Figures() for t in targets}
    for round_ in range(1, ROUNDS + 1):
        for target in targets:
            r = _wrk(target, DURATION, cpu_of(target))
            f = figures[target.name]
            f.rps.append(r["rps"])
            f.p50.append(r["p50"])
            f.p99.append(r["p99"])
            f.cpu_ms.append(r["cpu_ms"])
            print(f"  round {round_}: {target.name:<32} {r['rps']:8.0f} req/s  "
                  f"p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
                  f"CPU {r['cpu_ms']:.2f} ms/req", flush=True)  # fmt: skip
    print(f"load average after the runs: {_load()}; resident memory: Dezky (gunicorn master "
          f"and workers) {_rss_mb(gunicorn.pid, with_children=True):.0f} MB"
          + (f", Unleash {_rss_mb(unleash_process.pid, with_children=False):.0f} MB"
             if unleash_process else ""))  # fmt: skip
    _table(targets, figures, missing)
    _ratios(figures)
    # The servers are stopped before profiling, so the profile has the machine to itself.
    for process in list(started.processes):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        started.processes.remove(process)
    _profile(env, seeded["token"], seeded["slug"])


if __name__ == "__main__":
    if os.environ.get("BENCH_UNLEASH") != "true":
        # `make bench` runs every script here; this one installs and starts Unleash.
        print("skipped: run it with `make bench-unleash` (installs and starts Unleash)")
        sys.exit(0)
    try:
        main()
    except subprocess.CalledProcessError as exc:
        traceback.print_exc()
        print(exc.stdout or "", exc.stderr or "", sep="\n")
        sys.exit(1)
