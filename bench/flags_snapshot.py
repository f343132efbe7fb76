"""The evaluation snapshot at 10,000 tenants and 1,000 flags: how long a rebuild
takes, how much memory it holds per worker, and that requests are not stalled while
one is built (other threads answer from the previous snapshot meanwhile).

1. `manage.py seed_scale` (10,000 tenants) and 1,000 flags on the bench database.
2. `build_snapshot` timed, median of 5 (what a worker pays after a flag or tenant
   change), and the memory the snapshot holds (tracemalloc: what the build allocated
   and kept) beside the process's resident size.
3. While one thread rebuilds, another thread's get_snapshot(): how long it waited
   (it should get the previous snapshot at once).
"""

from __future__ import annotations

import resource
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import boot

TENANTS = 10_000
FLAGS = 1_000


def main() -> None:
    database = boot()
    from django.core.management import call_command

    from core import versions
    from flags import snapshot
    from flags.models import Flag

    call_command("seed_scale", tenants=TENANTS, users=100, verbosity=0)
    Flag.objects.bulk_create(
        Flag(
            key=f"bench_flag_{i:04d}",
            state=("off", "on", "targeted", "rollout")[i % 4],
            pct=(i * 7) % 101,
            scope_plans=["business"] if i % 3 == 0 else [],
            scope_environments=["prod"] if i % 5 == 0 else [],
        )
        for i in range(FLAGS)
    )
    flags = Flag.objects.count()
    print(f"{database}; {TENANTS} tenants (seed_scale), {flags} flags")

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        built = snapshot.build_snapshot((0, 0))
        timings.append((time.perf_counter() - started) * 1e3)
    print(
        f"rebuild: median {statistics.median(timings):.0f} ms "
        f"(min {min(timings):.0f}, max {max(timings):.0f}); "
        f"{len(built.tenants)} live tenants, {len(built.flags)} flags"
    )
    del built

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = snapshot.build_snapshot((0, 0))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(s.size_diff for s in after.compare_to(before, "filename"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: the snapshot holds {held / 1e6:.1f} MB "
        f"(peak resident size of this process {rss_mb:.0f} MB)"
    )
    del kept

    # A rebuild in this thread; another thread asks meanwhile. (The asking thread must
    # not touch the database: on in-memory SQLite another thread has a database of
    # its own. Getting the previous snapshot, it does not.)
    snapshot.reset_for_tests()
    snapshot.get_snapshot()  # the first build is waited for
    versions.bump("flags")
    started_build = threading.Event()
    waited: list[float] = []
    state = snapshot._state

    def ask() -> None:
        started_build.wait(10)
        started = time.perf_counter()
        state.get(lambda at: None)
        waited.append((time.perf_counter() - started) * 1e3)

    def slow_build(at: tuple[int, ...]) -> snapshot.Snapshot:
        started_build.set()
        asker.join(30)  # the other request is answered before this build ends
        return snapshot.build_snapshot(at)

    asker = threading.Thread(target=ask)
    asker.start()
    started = time.perf_counter()
    state.get(slow_build)
    built_ms = (time.perf_counter() - started) * 1e3
    print(
        f"a request during a {built_ms:.0f} ms rebuild waited {waited[0]:.2f} ms "
        "(it got the previous snapshot)"
    )


if __name__ == "__main__":
    main()
