"""Median render time of each tenants page (and its API list) at 10,000 tenants and
50,000 users, through Django's test client (the whole request: middleware, session,
queries, template)."""

from __future__ import annotations

import statistics
import time

from _setup import boot

RUNS = 25
TENANTS, USERS = 10_000, 50_000


def main() -> None:
    database = boot()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from operators.models import User
    from tenants.models import Tenant

    started = time.perf_counter()
    call_command("seed_scale", tenants=TENANTS, users=USERS, verbosity=0)
    seconds = time.perf_counter() - started
    print(f"{database}; seed_scale: {TENANTS} tenants, {USERS} users in {seconds:.1f} s")
    operator = User.objects.create_user(
        "bench@dezky.example", "x", name="Bench Operator", platform_admin=True
    )
    client = Client()
    client.force_login(operator)
    busiest = Tenant.objects.filter(status="active").order_by("pk").first().slug
    pages: dict[str, str | tuple[str, dict[str, str]]] = {
        "overview": "/",
        "tenants list": "/tenants/",
        "tenants list, page 100": "/tenants/?page=100",
        "tenants list, search": "/tenants/?q=company+12",
        "tenants list, chip": "/tenants/?status=suspended",
        "tenants list, sort by partner": "/tenants/?sort=partner",
        "tenants list, needs follow-up": "/tenants/?problem=follow_up",
        "tenants list, swap (htmx)": ("/tenants/?plan=business&sort=-name", {"HX-Request": "true"}),
        "tenant detail (overview tab)": f"/tenants/{busiest}/",
        "tenant detail, users tab": f"/tenants/{busiest}/?tab=users",
        "tenant detail, resources tab": f"/tenants/{busiest}/?tab=resources",
        "tenant detail, audit tab": f"/tenants/{busiest}/?tab=audit",
        "tenant detail, danger tab": f"/tenants/{busiest}/?tab=danger",
        "tenant suspend, confirm page": f"/tenants/{busiest}/suspend/",
        "partners": "/partners/",
        "partner detail": "/partners/bench-partner-1/",
        "API tenants list": "/api/tenants/",
        "API tenant users": f"/api/tenants/{busiest}/users/",
    }
    print(f"{'page':34} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name, target in pages.items():
        url, headers = target if isinstance(target, tuple) else (target, {})
        assert client.get(url, headers=headers).status_code == 200, url  # warm
        timings = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            client.get(url, headers=headers)
            timings.append((time.perf_counter() - t0) * 1e3)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers=headers)
        timings.sort()
        print(f"{name:34} {statistics.median(timings):10.1f} "
              f"{timings[int(RUNS * 0.9)]:8.1f} {len(queries):8d}")  # fmt: skip


if __name__ == "__main__":
    main()
