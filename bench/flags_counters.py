"""What counting evaluations (flags.counters) costs the evaluate path.

1. The tally alone: `record` of one request's answers, with 10 and 1,000 flags
   (microseconds per call, one thread).
2. Whole requests through Django's test client (middleware, DRF, token
   authentication, the view): POST /api/flags/evaluate/ and the OFREP bulk, with
   counting on and with it replaced by a no-op, in alternating rounds; medians of
   the process's CPU time per request and the median of the paired rounds'
   ratios. Target: counting adds at most 5 %.
3. A flush: writing one batch of 10 and of 1,000 flags (milliseconds).

No flush happens during part 2 (the interval is a minute away). Runs on in-memory
SQLite, or on a throwaway PostgreSQL database when DATABASE_URL names one.
"""

from __future__ import annotations

import statistics
import time
import timeit

from _setup import boot

ROUNDS = 21
REQUESTS = 150


def tally_alone() -> None:
    from flags import counters

    for count in (10, 1_000):
        answers = {f"flag_{i}": i % 3 == 0 for i in range(count)}
        record = counters.Tally().record
        number = 200_000 // count
        best = min(timeit.repeat(lambda a=answers, r=record: r(a), number=number, repeat=7))
        print(f"tally.record, {count:>5} flags: {best / number * 1e6:8.2f} us/call")


def requests() -> None:
    from django.db import transaction
    from django.test import Client

    from operators import services
    from tenants.models import Tenant

    Tenant.objects.bulk_create(
        Tenant(slug=f"bench-{i}", name=f"Bench tenant {i}", status="active", plan="business")
        for i in range(100)
    )
    with transaction.atomic():
        _, token = services.service_token_create(
            name="bench", scopes=["flags:evaluate"], actor=None
        )
    client = Client(headers={"Authorization": f"Bearer {token}"})
    cases = {
        "native evaluate": ("/api/flags/evaluate/", {"tenantSlug": "bench-7"}),
        "OFREP bulk": ("/ofrep/v1/evaluate/flags", {"context": {"targetingKey": "bench-7"}}),
    }
    measure_cases(client, cases)
    # The same with 1,000 flags (the engine's own target size).
    from flags import snapshot
    from flags.models import Flag

    Flag.objects.bulk_create(
        Flag(key=f"bench_flag_{i}", state=("off", "on", "rollout")[i % 3], pct=(i * 7) % 101)
        for i in range(1_000 - Flag.objects.count())
    )
    snapshot.reset_for_tests()
    measure_cases(client, {f"{name}, 1,000 flags": case for name, case in cases.items()})


def measure_cases(client: object, cases: dict[str, tuple[str, dict]]) -> None:
    from flags import counters

    real = (counters.record, counters.record_results)

    def off() -> None:
        counters.record = lambda answers: None  # type: ignore[assignment]
        counters.record_results = lambda results: None  # type: ignore[assignment]

    def on() -> None:
        counters.record, counters.record_results = real

    for name, (url, body) in cases.items():
        assert client.post(url, body, content_type="application/json").status_code == 200

        def run(url: str = url, body: dict = body) -> float:
            # CPU time of this process: the machine's other load moves wall time far
            # more than a few microseconds of counting would.
            started = time.process_time()
            for _ in range(REQUESTS):
                client.post(url, body, content_type="application/json")
            return (time.process_time() - started) / REQUESTS * 1e6

        with_counting, without, ratios = [], [], []
        for n in range(ROUNDS):
            counters.reset_for_tests()
            # Alternate which goes first, so warming and drift favour neither.
            for counting in (True, False) if n % 2 else (False, True):
                (on if counting else off)()
                (with_counting if counting else without).append(run())
            ratios.append(with_counting[-1] / without[-1])
        on()
        a, b = statistics.median(with_counting), statistics.median(without)
        extra = (statistics.median(ratios) - 1) * 100
        verdict = "ok" if extra <= 5 else "OVER TARGET"
        print(f"{name:30} counting {a:7.1f} us CPU/request, without {b:7.1f} us: "
              f"{extra:+5.1f} % (median of paired rounds; target <= +5 %: {verdict})")  # fmt: skip


def flush() -> None:
    from django.utils import timezone

    from flags import counters

    today = timezone.now().date()
    for count in (10, 1_000):
        batch = {(f"flag_{i}", i % 2 == 0): 17 for i in range(count)}
        counters.write_batch(batch, day=today, last_at=0)  # the rows exist: updates from now
        timings = []
        for _ in range(9):
            started = time.perf_counter()
            counters.write_batch(batch, day=today, last_at=0)
            timings.append((time.perf_counter() - started) * 1e3)
        print(f"flush of {count:>5} flags: {statistics.median(timings):7.2f} ms")


if __name__ == "__main__":
    print(boot())
    tally_alone()
    requests()
    flush()
