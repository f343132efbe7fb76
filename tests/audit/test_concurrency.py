"""Writers appending at the same time still leave one unbroken chain."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from audit import keys
from audit import services as audit
from audit.chain import verify
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 4
EACH = 25


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="in-memory SQLite shares one cache across threads; PostgreSQL is the concurrent case",
)
def test_concurrent_writers_do_not_fork_the_chain() -> None:
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    audit.record(action="tenant.updated", target_id=f"{n}-{i}")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    events = AuditEvent.objects.order_by("id")
    assert events.filter(action="tenant.updated").count() == WRITERS * EACH
    checked, broken = verify(events, keys=keys.key_for)
    assert broken is None
    assert len(set(events.values_list("prev_hash", flat=True))) == checked
