"""Median time of the command palette's answer (GET /palette/?q=, as htmx asks for it)
at 10,000 tenants and 50,000 users, with its query count, through Django's test client
(the whole request: middleware, session, the sources' queries, the template)."""

from __future__ import annotations

import statistics
import time

from _setup import boot

RUNS = 25
TENANTS, USERS = 10_000, 50_000
HTMX = {"HTTP_HX_REQUEST": "true"}


def main() -> None:
    database = boot()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from operators.models import User

    started = time.perf_counter()
    call_command("seed_scale", tenants=TENANTS, users=USERS, verbosity=0)
    seconds = time.perf_counter() - started
    print(f"{database}; seed_scale: {TENANTS} tenants, {USERS} users in {seconds:.1f} s")
    operator = User.objects.create_user(
        "bench@dezky.example", "x", name="Bench Operator", platform_admin=True
    )
    client = Client()
    client.force_login(operator)
    queries = {
        "empty box (recents, actions)": "",
        "tenant name fragment": "company 123",
        "email fragment": "user4711@",
        "flag key": "jmap_native",
        "one letter": "e",
        "no match": "zzzz-nothing",
    }
    print(f"{'query':30} {'q':14} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'rows':>5}")
    for name, q in queries.items():
        response = client.get("/palette/", {"q": q}, **HTMX)  # warm
        assert response.status_code == 200, q
        timings = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            client.get("/palette/", {"q": q}, **HTMX)
            timings.append((time.perf_counter() - t0) * 1e3)
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/palette/", {"q": q}, **HTMX)
        rows = response.content.count(b'role="option"')
        timings.sort()
        print(f"{name:30} {q!r:14} {statistics.median(timings):10.1f} "
              f"{timings[int(RUNS * 0.9)]:8.1f} {len(captured):8d} {rows:5d}")  # fmt: skip


if __name__ == "__main__":
    main()
