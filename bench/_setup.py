"""Boot Django for a bench script on a throwaway database with the schema migrated:
in-memory SQLite by default; with DATABASE_URL pointing at PostgreSQL, a fresh
`test_<name>` database beside it (Django's test database), dropped at exit."""

from __future__ import annotations

import atexit
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def boot() -> str:
    """Set Django up; returns the database the figures are about."""
    sys.path.insert(0, str(ROOT))
    # WhiteNoise looks for collected static files, which requests for pages do not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        call_command("migrate", verbosity=0)
        return "in-memory SQLite"
    if connection.vendor != "postgresql":
        raise SystemExit("bench scripts run on in-memory SQLite or PostgreSQL")
    # Never the configured database itself: a fresh one, migrated, dropped afterwards.
    original = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    atexit.register(connection.creation.destroy_test_db, original, verbosity=0)
    return f"PostgreSQL ({name})"


RUNS = 25


def scale_and_sign_in(*, tenants: int = 10_000, users: int = 50_000) -> Any:
    """`manage.py seed_scale` on the bench database, then a test client signed in as
    an operator; prints what the figures are about."""
    database = boot()
    from django.core.management import call_command
    from django.test import Client

    from operators.models import User

    started = time.perf_counter()
    call_command("seed_scale", tenants=tenants, users=users, verbosity=0)
    seconds = time.perf_counter() - started
    print(f"{database}; seed_scale: {tenants} tenants, {users} users in {seconds:.1f} s")
    operator = User.objects.create_user(
        "bench@dezky.example", "x", name="Bench Operator", platform_admin=True
    )
    client = Client()
    client.force_login(operator)
    return client


@dataclass(frozen=True)
class Measured:
    median_ms: float
    p90_ms: float
    queries: int
    content: bytes


def measure(client: Any, url: str, *, data: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> Measured:  # fmt: skip
    """One warm request (it must answer 200), RUNS timed ones, then one more counting
    its queries: the whole request, middleware, session, queries and template."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> Any:
        return client.get(url, data or {}, headers=headers or {})

    assert get().status_code == 200, url
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        get()
        timings.append((time.perf_counter() - started) * 1e3)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    timings.sort()
    return Measured(
        statistics.median(timings), timings[int(RUNS * 0.9)], len(captured), response.content
    )
