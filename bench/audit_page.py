"""The audit page at 1,000,000 events: median render time of the first page, a deep
page and each filter, through Django's test client (middleware, session, queries,
template), with the query count.

The events are written straight into the table in big batches (COPY on PostgreSQL,
executemany on SQLite), not through record(): the bench measures reads. Their chain
is real all the same (each hash an HMAC over the event and the hash before it, by
audit.chain), so the detail page shows what it would in production. On PostgreSQL
the table's triggers refuse UPDATE/DELETE/TRUNCATE but allow these inserts; the
database is the bench's own (bench/_setup.py) and is dropped at exit.

    .venv/bin/python bench/audit_page.py                     # in-memory SQLite
    DATABASE_URL=postgres://... .venv/bin/python bench/audit_page.py
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from _setup import boot, measure

EVENTS = int(os.environ.get("AUDIT_BENCH_EVENTS", "1000000"))
TENANTS = 1_000
ACTORS = 40
BATCH = 50_000
DAYS = 365
COLUMNS = (
    "id", "at", "actor_id", "actor_email", "actor_ip", "action", "target_type", "target_id",
    "target_repr", "tenant_id", "metadata", "prev_hash", "hash", "key_id",
)  # fmt: skip
# How often each action happens: mostly edits and sign-ins, rarely a kill switch.
WEIGHTS = {
    "tenant.updated": 30, "user.logged_in": 25, "flag.updated": 12, "tenant.reconciled": 10,
    "user.logged_out": 8, "tenant.member_added": 5, "user.login_failed": 4, "tenant.created": 2,
    "tenant.suspended": 1, "tenant.resumed": 1, "flag.killed": 0.2, "partner.updated": 1,
    "audit.chain_verified": 0.3, "service_token.created": 0.1,
}  # fmt: skip
RARE_WORD = "Quillfeather"  # in one target name in 50,000: what a text search meets


def _tenants() -> list[tuple[int, str]]:
    from tenants.models import Tenant, TenantStatus

    Tenant.objects.bulk_create(
        Tenant(slug=f"bench-tenant-{n}", name=f"Bench Tenant {n}", status=TenantStatus.ACTIVE)
        for n in range(TENANTS)
    )
    return list(Tenant.objects.order_by("id").values_list("id", "slug"))


def _rows(tenants: list[tuple[int, str]], head_id: int, head_hash: str) -> Any:
    """EVENTS events after the head (the migrations' own events) in id order, each
    chained to the one before, as tuples of COLUMNS."""
    from audit import keys
    from audit.chain import event_hash, hashed_fields

    key, key_id = keys.signing_key(), keys.signing_key_id()
    rng = random.Random(20261128)
    codes, weights = list(WEIGHTS), list(WEIGHTS.values())
    actors = [f"operator{n}@northwind.example" for n in range(ACTORS)]
    start = datetime.now(UTC) - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / EVENTS
    prev = head_hash
    for n in range(1, EVENTS + 1):
        action = rng.choices(codes, weights)[0]
        tenant_id, slug = tenants[rng.randrange(TENANTS)]
        system = action.startswith("audit.") or rng.random() < 0.1
        email = "" if system else actors[rng.randrange(ACTORS)]
        name = f"{RARE_WORD} Works" if n % 50_000 == 0 else f"Bench Tenant {slug[13:]}"
        metadata = (
            {"changes": {"plan": {"before": "starter", "after": "business"}}}
            if action.endswith("updated")
            else {}
        )
        event = SimpleNamespace(
            at=start + step * n, actor_id=None, actor_email=email,
            actor_ip=None if system else "203.0.113.7", action=action, target_type="tenant",
            target_id=str(tenant_id), target_repr=name, tenant_id=tenant_id, metadata=metadata,
        )  # fmt: skip
        digest = event_hash(prev_hash=prev, fields=hashed_fields(event), key=key)
        yield (
            head_id + n, event.at, None, email, event.actor_ip, action, "tenant",
            event.target_id, name, tenant_id, json.dumps(metadata), prev, digest, key_id,
        )  # fmt: skip
        prev = digest


def seed() -> list[tuple[int, str]]:
    from django.db import connection, transaction

    from audit.chain import GENESIS
    from audit.models import AuditEvent

    tenants = _tenants()
    head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first() or (0, GENESIS)
    rows = _rows(tenants, *head)
    columns = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)",
                [head[0] + EVENTS],
            )
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})"  # noqa: S608 (constant column names)
            adapt = connection.ops.adapt_datetimefield_value  # how Django stores a datetime
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append((row[0], adapt(row[1]), *row[2:]))
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        # Statistics for the planner, and on PostgreSQL the visibility map (what
        # autovacuum keeps), so a count by id is an index-only scan as in production.
        cursor.execute(
            "VACUUM ANALYZE audit_auditevent" if connection.vendor == "postgresql" else "ANALYZE"
        )
    return tenants


def main() -> None:
    database = boot()
    from django.test import Client

    from operators.models import User

    started = time.perf_counter()
    tenants = seed()
    print(f"{database}; {EVENTS:,} audit events seeded in {time.perf_counter() - started:.1f} s")
    operator = User.objects.create_user(
        "bench@dezky.example", "x", name="Bench Operator", platform_admin=True
    )
    client = Client()
    client.force_login(operator)

    busy_slug = tenants[TENANTS // 2][1]
    busy_id = tenants[TENANTS // 2][0]
    mid = (datetime.now(UTC) - timedelta(days=DAYS // 2)).date()
    pages: dict[str, str] = {
        "first page": "/audit/",
        "deep page (cursor at event 10,000)": "/audit/?cursor=10000",
        "newer from a deep page": "/audit/?cursor=n10000",
        "actor": "/audit/?actor=operator7%40northwind.example",
        "actor = system": "/audit/?actor=system",
        "action (common)": "/audit/?action=tenant.updated",
        "action (rare: flag.killed)": "/audit/?action=flag.killed",
        "kind (Tenants)": "/audit/?action=kind:Tenants",
        "kind (Service tokens, rare)": "/audit/?action=kind:Service+tokens",
        "tenant": f"/audit/?tenant={busy_slug}",
        "tenant, deep": f"/audit/?tenant={busy_slug}&cursor=20000",
        "target (type and id)": f"/audit/?target_type=tenant&target_id={busy_id}",
        "time range (one day, mid-year)": f"/audit/?since={mid}&until={mid}",
        "time range (a month, deep)": (
            f"/audit/?since={mid - timedelta(days=120)}&until={mid - timedelta(days=90)}"
        ),
        "q (rare word, one window)": f"/audit/?q={RARE_WORD.lower()}",
        "q (common word)": "/audit/?q=operator7",
        "event detail (middle of the chain)": f"/audit/{EVENTS // 2}/",
        "tenant page, Audit tab": f"/tenants/{busy_slug}/?tab=audit",
        "API events, tenant filter": f"/api/audit/events/?tenant={busy_slug}",
    }
    print(f"{'page':38} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name, url in pages.items():
        m = measure(client, url)
        print(f"{name:38} {m.median_ms:10.1f} {m.p90_ms:8.1f} {m.queries:8d}")


if __name__ == "__main__":
    main()
