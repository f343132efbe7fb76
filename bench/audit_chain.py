"""How fast the audit log appends (record() inside its own transaction, as a service
does) and how fast verify_audit_chain walks it."""

from __future__ import annotations

import statistics
import time

from _setup import boot

EVENTS = 5_000


def main() -> None:
    boot()
    from django.db import transaction

    from audit import keys
    from audit import services as audit
    from audit.chain import verify
    from audit.models import AuditEvent

    durations = []
    for n in range(EVENTS):
        started = time.perf_counter()
        with transaction.atomic():
            audit.record(
                action="tenant.updated",
                target_type="tenant",
                target_id=str(n),
                target_repr=f"Sample Tenant {n}",
                metadata={"changes": {"plan": {"before": "starter", "after": "business"}}},
            )
        durations.append(time.perf_counter() - started)

    from audit.integrity import verify_chain

    started = time.perf_counter()
    outcome = verify_chain(full=True)
    full_seconds = time.perf_counter() - started
    assert outcome.ok, outcome.message

    started = time.perf_counter()
    checked, broken = verify(
        AuditEvent.objects.order_by("id").iterator(chunk_size=2000), keys=keys.key_for
    )
    verify_seconds = time.perf_counter() - started
    assert broken is None

    durations.sort()
    print(f"audit.record: {EVENTS} events, median {statistics.median(durations) * 1e3:.3f} ms, "
          f"p99 {durations[int(EVENTS * 0.99)] * 1e3:.3f} ms, "
          f"{EVENTS / sum(durations):.0f} events/s")  # fmt: skip
    rate = outcome.checked / full_seconds
    print(f"verify_audit_chain (full walk + checkpoint): {outcome.checked} events in "
          f"{full_seconds * 1e3:.0f} ms, {rate:.0f} events/s")  # fmt: skip
    print(f"chain.verify over model instances: {checked} events in {verify_seconds * 1e3:.0f} ms "
          f"({checked / verify_seconds:.0f} events/s)")  # fmt: skip


if __name__ == "__main__":
    main()
