"""How often each flag answered on and off: counted in memory by each worker, flushed
to FlagEvaluationDay at most every FLAG_EVAL_FLUSH_SECONDS and at exit.

The evaluate endpoints answer from memory with no query (flags.snapshot); counting
must keep it that way. A request adds its answers to an in-process Counter under one
uncontended lock (one lock and one C-level `Counter.update` per request, however
many flags), and the first request after the interval has passed writes the batch:
one upsert statement per 100 flags, additive, so any number of workers can flush the
same (key, day) row at once without losing counts.

Only keys that came out of the snapshot are counted (the callers pass the engine's
results), so a caller cannot grow the table by asking for made-up keys: it holds at
most one row per existing flag per day, and rows older than `days_kept()` are
pruned once a day by whichever flush comes first.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC as _UTC
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)
_monotonic = time.monotonic  # a name tests can replace without touching the time module

DAYS_KEPT = 90
ROWS_PER_STATEMENT = 100


def days_kept() -> int:
    """Days of rows kept: 90, or more when the stale window needs more."""
    return max(DAYS_KEPT, int(settings.FLAG_STALE_DAYS) + 1)


class Tally:
    """One process's counts since its last flush. Thread-safe; `record` is O(number of
    answers) in C under one lock, and never touches the database unless the flush
    interval has passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, bool]] = Counter()
        self._last_at = 0.0  # wall clock of the newest counted answer
        self._day = _today()  # the UTC day the current batch belongs to
        self._flush_due = self._next_deadline()
        self._flushing = False
        self._pruned_on: date | None = None
        self._database = ""  # the database in use when the current batch began

    # ------------------------------------------------------------- the hot path --

    def record(self, answers: Mapping[str, bool]) -> None:
        """Count `{key: value}` answers (the engine's results for one request)."""
        if _monotonic() >= self._flush_due:
            self.flush()
        with self._lock:
            if not self._counts:
                self._database = _database_name()
            # dict_items is not a Mapping, so Counter counts its (key, value) tuples.
            self._counts.update(answers.items())
            self._last_at = time.time()

    def record_one(self, key: str, value: bool) -> None:
        if _monotonic() >= self._flush_due:
            self.flush()
        with self._lock:
            if not self._counts:
                self._database = _database_name()
            self._counts[(key, value)] += 1
            self._last_at = time.time()

    # ---------------------------------------------------------------- flushing --

    def take(self) -> tuple[Counter[tuple[str, bool]], date, float]:
        """The batch so far, leaving an empty one (for the next UTC day if it began)."""
        with self._lock:
            batch, day, last_at = self._counts, self._day, self._last_at
            self._counts = Counter()
            self._day = _today()
            self._flush_due = self._next_deadline()
        return batch, day, last_at

    def give_back(self, batch: Counter[tuple[str, bool]]) -> None:
        """A batch whose write failed rejoins the current one (bounded: existing keys)."""
        with self._lock:
            self._counts.update(batch)

    def flush(self) -> int:
        """Write the batch; returns how many rows it touched. Never raises: the
        evaluate path must answer even when the database does not."""
        with self._lock:
            if self._flushing:  # another thread of this process is at it
                return 0
            self._flushing = True
        try:
            batch, day, last_at = self.take()
            if not batch:
                return 0
            try:
                written = write_batch(batch, day=day, last_at=last_at)
            except DatabaseError:
                logger.warning("flag evaluation counts not written; kept for the next flush",
                               exc_info=True)  # fmt: skip
                self.give_back(batch)
                return 0
            self._prune_once_a_day()
            return written
        finally:
            self._flushing = False

    def _prune_once_a_day(self) -> None:
        today = _today()
        if self._pruned_on == today:
            return
        try:
            prune(today=today)
            self._pruned_on = today
        except DatabaseError:
            logger.warning("old flag evaluation days not pruned", exc_info=True)

    def _next_deadline(self) -> float:
        """FLAG_EVAL_FLUSH_SECONDS from now, or the next UTC midnight if sooner: a batch
        never spans two days."""
        now = datetime.now(_UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), _UTC)
        seconds = min(float(settings.FLAG_EVAL_FLUSH_SECONDS), (midnight - now).total_seconds())
        return _monotonic() + max(seconds, 0.0)

    def flush_at_exit(self) -> int:
        """The last flush of a process, unless the database it would write to is no
        longer the one the counts were taken against (a test run's database is gone
        by then and the connection names the developer's own)."""
        if self._database and self._database != _database_name():
            return 0
        return self.flush()

    def pending(self) -> dict[tuple[str, bool], int]:
        with self._lock:
            return dict(self._counts)


def _today() -> date:
    return datetime.now(_UTC).date()


def _database_name() -> str:
    return str(connection.settings_dict.get("NAME") or "")


# ------------------------------------------------------------ the database --


def write_batch(batch: Mapping[tuple[str, bool], int], *, day: date, last_at: float) -> int:
    """Add `batch` to the (key, day) rows in one transaction: an INSERT … ON CONFLICT
    that adds to the stored counts (SQLite 3.24+ and PostgreSQL), so concurrent
    flushers never overwrite each other. Keys are written in order, so two flushers
    lock rows in the same order and cannot deadlock."""
    from flags.models import FlagEvaluationDay

    per_key: dict[str, list[int]] = {}
    for (key, value), count in batch.items():
        per_key.setdefault(key, [0, 0])[bool(value)] += count
    if not per_key:
        return 0
    table = connection.ops.quote_name(FlagEvaluationDay._meta.db_table)
    newest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    at = datetime.fromtimestamp(last_at, _UTC) if last_at else timezone.now()
    at_value = connection.ops.adapt_datetimefield_value(at)
    day_value = connection.ops.adapt_datefield_value(day)
    rows = [(key, day_value, on, off, at_value) for key, (off, on) in sorted(per_key.items())]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                # The table name is the model's; the values are parameters.
                f"INSERT INTO {table} (key, day, on_count, off_count, last_evaluated_at) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (key, day) DO UPDATE SET "
                f"on_count = {table}.on_count + excluded.on_count, "
                f"off_count = {table}.off_count + excluded.off_count, "
                f"last_evaluated_at = {newest}({table}.last_evaluated_at, "
                "excluded.last_evaluated_at)",
                [param for row in chunk for param in row],
            )
    return len(rows)


def prune(*, today: date | None = None) -> int:
    """Delete days older than `days_kept()`; returns how many rows went."""
    from flags.models import FlagEvaluationDay

    oldest = (today or _today()) - timedelta(days=days_kept() - 1)
    deleted, _ = FlagEvaluationDay.objects.filter(day__lt=oldest).delete()
    return deleted


# ------------------------------------------------------- the process's tally --

_tally = Tally()


def record(answers: Mapping[str, bool]) -> None:
    """Count one request's answers; `answers` must come from the snapshot's flags."""
    _tally.record(answers)


def record_results(results: Iterable[object]) -> None:
    """Count engine Results (the explain and OFREP paths)."""
    _tally.record({r.key: r.value for r in results})  # type: ignore[attr-defined]


def record_one(key: str, value: bool) -> None:
    _tally.record_one(key, value)


def flush() -> int:
    return _tally.flush()


def pending() -> dict[tuple[str, bool], int]:
    return _tally.pending()


def reset_for_tests() -> None:
    """A fresh tally (nothing pending, the next flush a whole interval away). A test
    process never flushes at exit: by then its test database is gone and the
    connection names the developer's own database."""
    global _tally, _flush_on_exit
    _tally = Tally()
    _flush_on_exit = False


_flush_on_exit = True


@atexit.register
def _flush_at_exit() -> None:
    if not _flush_on_exit:
        return
    try:
        _tally.flush_at_exit()
    except Exception:
        logger.warning("flag evaluation counts lost at exit", exc_info=True)
