"""What counting evaluations (flags.counters) costs the evaluate path: counting each
whole-snapshot request once (now) against counting every answer per flag (before).

1. The tally alone, 10 and 1,000 flags (microseconds per call, one thread):
   - per flag: `record` of one request's `{key: bool}` answers (before);
   - once, seen: `record_evaluation` for a tenant context already counted in this
     batch (the steady state: every later request of a tenant);
   - once, new: the first request of a tenant context in a batch, which stores its
     answers as bytes (`{key: bool}` for the native evaluate, engine Results for OFREP).
2. Whole requests through Django's test client (middleware, DRF, token
   authentication, the view): POST /api/flags/evaluate/ and the OFREP bulk, counting
   once (now), counting per flag (before) and counting nothing, in alternating rounds;
   medians of the process's CPU time per request and the medians of the paired
   rounds' ratios against counting nothing, with the garbage collector run between
   timed runs, not in them; and counting's own time measured inside those requests
   (the steadier figure: the machine's other load moves whole requests by more than
   counting costs). Target: counting adds at most 5 %.
   Each case runs twice: one tenant asking again and again, and 100 tenants in 3
   environments in turn with the tally emptied every round (nearly every request
   the first of its tenant context: the worst case for counting once).
3. A flush: expanding pending entries to per-flag counts (300 and 1,024 entries with
   1,000 flags; 1,024 is the most a worker holds), and writing one batch of 10 and of
   1,000 flags (milliseconds).

No flush happens during part 2 (the interval is a minute away). Runs on in-memory
SQLite, or on a throwaway PostgreSQL database when DATABASE_URL names one.
"""

from __future__ import annotations

import gc
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

from _setup import boot

ROUNDS = 21
REQUESTS = 150
ENVIRONMENTS = ("dev", "staging", "prod")


def sample_flags(count: int) -> tuple[Any, ...]:
    from flags.engine import FlagSnapshot

    return tuple(
        FlagSnapshot(key=f"flag_{i}", state=("off", "on", "rollout")[i % 3], pct=(i * 7) % 101)
        for i in range(count)
    )


def tally_alone() -> None:
    from flags import counters, engine
    from flags.engine import TenantContext

    for count in (10, 1_000):
        flags = sample_flags(count)
        ctx = TenantContext("0b7c1e52-sample", "bench-7", "business", None, "prod")
        answers = engine.evaluate_all(flags, ctx)
        results = engine.explain_all(flags, ctx)
        number = max(20, 200_000 // count)

        def per_call(run: Callable[[], object], number: int = number) -> float:
            return min(timeit.repeat(run, number=number, repeat=7)) / number * 1e6

        tally = counters.Tally()
        before = per_call(lambda t=tally, a=answers: t.record(a))
        tally = counters.Tally()
        tally.record_evaluation(flags, ctx, answers)
        seen = per_call(lambda t=tally, f=flags, c=ctx, a=answers: t.record_evaluation(f, c, a))

        def first(kind: dict, f: tuple = flags, c: Any = ctx) -> None:
            counters.Tally().record_evaluation(f, c, kind)

        empty = per_call(counters.Tally)
        new_bools = per_call(lambda a=answers: first(a)) - empty
        new_results = per_call(lambda r=results: first(r)) - empty
        print(f"{count:>5} flags: per flag {before:8.2f} us/call; once, seen {seen:6.2f} us; "
              f"once, new {new_bools:6.2f} us ({{key: bool}}), {new_results:6.2f} us "
              "(Results)")  # fmt: skip


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
    measure_cases(client, "")
    # The same with 1,000 flags (the engine's own target size).
    from flags import snapshot
    from flags.models import Flag

    Flag.objects.bulk_create(
        Flag(key=f"bench_flag_{i}", state=("off", "on", "rollout")[i % 3], pct=(i * 7) % 101)
        for i in range(1_000 - Flag.objects.count())
    )
    snapshot.reset_for_tests()
    measure_cases(client, ", 1,000 flags")


def bodies(kind: str, spread: bool) -> list[dict]:
    """One tenant again and again, or 100 tenants in 3 environments in turn."""
    pairs = [(f"bench-{i}", env) for env in ENVIRONMENTS for i in range(100)]
    pairs = pairs if spread else [("bench-7", "prod")]
    if kind == "native":
        return [{"tenantSlug": slug, "environment": env} for slug, env in pairs]
    return [{"context": {"targetingKey": slug, "environment": env}} for slug, env in pairs]


def measure_cases(client: Any, suffix: str) -> None:
    from flags import counters

    once = counters.record_evaluation

    def per_flag(flags: object, ctx: object, answers: dict) -> None:
        # What the views called before: per-flag counting of the same answers.
        first = next(iter(answers.values()), False)
        if isinstance(first, bool):
            counters.record(answers)
        else:
            counters.record_results(answers.values())

    clock_ns = statistics.median(-time.thread_time_ns() + time.thread_time_ns() for _ in range(999))
    spent_ns = {"once": 0, "per flag": 0}
    calls = {"once": 0, "per flag": 0}

    def timed(mode: str, count: Callable[..., None]) -> Callable[..., None]:
        # Counting's own time inside the real requests: a few µs against a request of
        # hundreds, which the whole-request comparison cannot resolve on a busy machine.
        # This thread's CPU time, not wall time: a preemption in the middle would
        # count the other jobs' time; the reading's own cost is taken off.
        def timed_count(flags: object, ctx: object, answers: dict) -> None:
            started = time.thread_time_ns()
            count(flags, ctx, answers)
            spent_ns[mode] += time.thread_time_ns() - started - clock_ns
            calls[mode] += 1

        return timed_count

    modes: dict[str, Callable[..., None]] = {
        "once": timed("once", once),
        "per flag": timed("per flag", per_flag),
        "none": lambda flags, ctx, answers: None,
    }
    cases = {
        "native evaluate": ("/api/flags/evaluate/", "native"),
        "OFREP bulk": ("/ofrep/v1/evaluate/flags", "ofrep"),
    }
    for spread in (False, True):
        for name, (url, kind) in cases.items():
            sent = bodies(kind, spread)
            for body in sent[:3]:
                assert client.post(url, body, content_type="application/json").status_code == 200

            def run(url: str = url, sent: list[dict] = sent) -> float:
                # CPU time of this process: the machine's other load moves wall time far
                # more than a few microseconds of counting would. TRICKY: the garbage
                # collector waits until the run is over: Django's test client leaves
                # three weakref finalizers behind per request, so the heap grows through
                # the bench and a full collection (tens of ms) lands on whichever mode
                # is running, which swamped the figure being measured.
                gc.collect()
                gc.disable()
                try:
                    started = time.process_time()
                    for n in range(REQUESTS):
                        client.post(url, sent[n % len(sent)], content_type="application/json")
                    return (time.process_time() - started) / REQUESTS * 1e6
                finally:
                    gc.enable()

            cpu: dict[str, list[float]] = {mode: [] for mode in modes}
            for mode in spent_ns:
                spent_ns[mode] = calls[mode] = 0
            ratios: dict[str, list[float]] = {"once": [], "per flag": []}
            order = list(modes)
            for n in range(ROUNDS):
                counters.reset_for_tests()
                # Rotate which goes first, so warming and drift favour none.
                for mode in order[n % 3 :] + order[: n % 3]:
                    counters.record_evaluation = modes[mode]  # type: ignore[assignment]
                    cpu[mode].append(run())
                for mode in ratios:
                    ratios[mode].append(cpu[mode][-1] / cpu["none"][-1])
            counters.record_evaluation = once  # type: ignore[assignment]
            label = f"{name}{suffix}, {'300 tenant contexts' if spread else 'one tenant'}"
            print(f"{label}: without counting {statistics.median(cpu['none']):7.1f} us CPU/request")
            for mode, paired in ratios.items():
                extra = (statistics.median(paired) - 1) * 100
                own = spent_ns[mode] / calls[mode] / 1e3
                share = own / statistics.median(cpu["none"]) * 100
                verdict = "ok" if share <= 5 else "OVER TARGET"
                print(f"    counting {mode:8} {own:7.2f} us inside the request = {share:5.2f} % "
                      f"(<= 5 %: {verdict}); whole requests {statistics.median(cpu[mode]):7.1f} "
                      f"us, {extra:+5.1f} % (median of paired rounds)")  # fmt: skip


def flush() -> None:
    from django.utils import timezone

    from flags import counters, engine
    from flags.engine import TenantContext

    flags = sample_flags(1_000)
    for entries in (300, counters.MAX_PENDING_REQUESTS):
        pending = {}
        for n in range(entries):
            ctx = TenantContext(f"tenant-id-{n}", f"bench-{n}", "business", None, "prod")
            answers = engine.evaluate_all(flags, ctx)
            pending[(id(flags), ctx)] = [1 + n % 5, bytes(answers.values())]
        started = time.perf_counter()
        counters.expand(pending, {id(flags): flags})
        ms = (time.perf_counter() - started) * 1e3
        print(f"expanding {entries:>5} entries of 1,000 flags: {ms:7.2f} ms")

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
