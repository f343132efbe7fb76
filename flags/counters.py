"""How often each flag answered on and off: counted in memory by each worker, flushed
to FlagEvaluationDay at most every FLAG_EVAL_FLUSH_SECONDS and at exit.

The evaluate endpoints answer from memory with no query (flags.snapshot); counting
must keep it that way, and must cost next to nothing however many flags there are.
So a whole-snapshot evaluation (the native evaluate and the OFREP bulk) is counted
once per request, not once per flag: under one uncontended lock, one dict entry keyed
by (the snapshot's flags, the tenant's context) gets +1. The engine is pure, so the
same flags and the same context always give the same answers: the first request with
a key stores its answers as one byte per flag (in the order of the snapshot's flags),
and every later one only adds 1. Per-flag on/off counts are made from those entries
at flush time, off the request path, as count times answers per entry. (Storing the
answers rather than asking the engine again at flush time: a fresh evaluation of
1,000 flags costs about as much as the request did, for every distinct tenant.)
Each row a batch touches gets the time of the batch's newest counted answer.

Single answers (OFREP for one flag, explain) are counted per flag directly, as before.

Bounds: a pending entry keeps its snapshot's flags tuple (for the keys, in order) until
the flush, so a snapshot rebuilt meanwhile changes nothing already counted. At most
MAX_PENDING_REQUESTS distinct entries and MAX_PENDING_SNAPSHOTS flags tuples are held
between flushes; past either, the entries are folded into the per-flag counts in
memory (no query), which are bounded by the number of flags.

The first request after the interval has passed writes the batch: one upsert
statement per 100 flags, additive, so any number of workers can flush the same
(key, day) row at once without losing counts.

Only keys that came out of the snapshot are counted (the callers pass the engine's
results), so a caller cannot grow the table by asking for made-up keys: it holds at
most one row per existing flag per day, and rows older than `days_kept()` are
pruned once a day by whichever flush comes first.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC as _UTC
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from flags.engine import FlagSnapshot, TenantContext

logger = logging.getLogger(__name__)
_monotonic = time.monotonic  # a name tests can replace without touching the time module

DAYS_KEPT = 90
ROWS_PER_STATEMENT = 100
# Distinct (snapshot, tenant context) entries held between flushes: about 1.3 kB each
# with 1,000 flags (the answers, one byte a flag). Past it they are folded into the
# per-flag counts under the lock, which takes 10-25 ms with 1,000 flags.
MAX_PENDING_REQUESTS = 1_024
# Snapshots whose flags tuple pending entries keep alive (a snapshot is rebuilt when
# a flag or a tenant changes, so a handful per minute at most).
MAX_PENDING_SNAPSHOTS = 4

Flags = tuple["FlagSnapshot", ...]
RequestKey = tuple[int, "TenantContext"]  # (id of the snapshot's flags tuple, context)


def days_kept() -> int:
    """Days of rows kept: 90, or more when the stale window needs more."""
    return max(DAYS_KEPT, int(settings.FLAG_STALE_DAYS) + 1)


class Tally:
    """One process's counts since its last flush. Thread-safe; `record_evaluation`
    costs the same for 10 flags as for 1,000, and nothing here touches the database
    unless the flush interval has passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, bool]] = Counter()  # per flag, counted directly
        # Whole-snapshot evaluations: [how many, the answers as bytes] per request key.
        self._requests: dict[RequestKey, list[Any]] = {}
        self._flag_sets: dict[int, Flags] = {}  # what the keys' ids refer to, kept alive
        self._last_at = 0.0  # wall clock of the newest counted answer
        self._day = _today()  # the UTC day the current batch belongs to
        self._flush_due = self._next_deadline()
        self._flushing = False
        self._pruned_on: date | None = None
        self._database = ""  # the database in use when the current batch began

    # ------------------------------------------------------------- the hot path --

    def record_evaluation(
        self, flags: Flags, ctx: TenantContext, answers: Mapping[str, Any]
    ) -> None:
        """Count one evaluation of every flag in `flags` (a snapshot's own tuple) for
        `ctx`; `answers` are the engine's, `{key: bool}` or `{key: Result}`, in the
        order of `flags` (engine.evaluate_all and explain_all keep it)."""
        if _monotonic() >= self._flush_due:
            self.flush()
        key = (id(flags), ctx)
        with self._lock:
            entry = self._requests.get(key)
            if entry is not None:  # the usual case: this tenant asked before
                entry[0] += 1
                self._last_at = time.time()
                return
        if len(answers) != len(flags) or not flags:  # not a whole snapshot: per flag
            self.record({k: _value_of(answer) for k, answer in answers.items()})
            return
        # TRICKY: made outside the lock (tens of µs with 1,000 flags), once per key and
        # batch; another thread may have added the key meanwhile, so look again.
        values = _answers_as_bytes(answers)
        with self._lock:
            if not self._requests and not self._counts:
                self._database = _database_name()
            entry = self._requests.get(key)
            if entry is not None:
                entry[0] += 1
            else:
                if len(self._requests) >= MAX_PENDING_REQUESTS or (
                    key[0] not in self._flag_sets and len(self._flag_sets) >= MAX_PENDING_SNAPSHOTS
                ):
                    self._fold()
                self._flag_sets[key[0]] = flags
                self._requests[key] = [1, values]
            self._last_at = time.time()

    def record(self, answers: Mapping[str, bool]) -> None:
        """Count `{key: value}` answers, per flag (a few answers; for a whole snapshot
        `record_evaluation` is the cheap one)."""
        if _monotonic() >= self._flush_due:
            self.flush()
        with self._lock:
            if not self._requests and not self._counts:
                self._database = _database_name()
            # dict_items is not a Mapping, so Counter counts its (key, value) tuples.
            self._counts.update(answers.items())
            self._last_at = time.time()

    def record_one(self, key: str, value: bool) -> None:
        if _monotonic() >= self._flush_due:
            self.flush()
        with self._lock:
            if not self._requests and not self._counts:
                self._database = _database_name()
            self._counts[(key, value)] += 1
            self._last_at = time.time()

    def _fold(self) -> None:
        """Turn the pending entries into per-flag counts (under the lock: no count can
        slip into another batch), freeing their answers and snapshots."""
        self._counts.update(expand(self._requests, self._flag_sets))
        self._requests, self._flag_sets = {}, {}

    # ---------------------------------------------------------------- flushing --

    def take(self) -> tuple[Counter[tuple[str, bool]], date, float]:
        """The batch so far as per-flag counts, leaving an empty one (for the next UTC
        day if it began). The entries are expanded after the lock is released."""
        with self._lock:
            counts, requests, flag_sets = self._counts, self._requests, self._flag_sets
            day, last_at = self._day, self._last_at
            self._counts, self._requests, self._flag_sets = Counter(), {}, {}
            self._day = _today()
            self._flush_due = self._next_deadline()
        counts.update(expand(requests, flag_sets))
        return counts, day, last_at

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
        """What the next flush would write, per flag (nothing is taken)."""
        with self._lock:
            counts = Counter(self._counts)
            requests = {key: list(entry) for key, entry in self._requests.items()}
            flag_sets = dict(self._flag_sets)
        counts.update(expand(requests, flag_sets))
        return dict(counts)

    def pending_requests(self) -> int:
        """Distinct whole-snapshot entries held (bounded by MAX_PENDING_REQUESTS)."""
        with self._lock:
            return len(self._requests)

    def pending_snapshots(self) -> int:
        with self._lock:
            return len(self._flag_sets)


def _value_of(answer: Any) -> bool:
    return answer if isinstance(answer, bool) else bool(answer.value)


def _answers_as_bytes(answers: Mapping[str, Any]) -> bytes:
    """One byte per flag, 1 for on, in the answers' order."""
    values = answers.values()
    if not values or isinstance(next(iter(values)), bool):
        return bytes(values)  # bools are the ints 0 and 1: this runs in C
    return bytes(map(_VALUE, values))  # Results: their `value`, still without a Python loop


_VALUE = attrgetter("value")


_LANE = array("Q").itemsize  # bytes per flag in a packed count
_LOW_BYTE = 0 if sys.byteorder == "little" else _LANE - 1  # where a lane's 0 or 1 goes


def expand(
    requests: Mapping[RequestKey, list[Any]], flag_sets: Mapping[int, Flags]
) -> Counter[tuple[str, bool]]:
    """Per-flag on/off counts from whole-snapshot entries: for each entry, every flag
    of its snapshot answered its stored value `count` times."""
    on_packed: dict[int, int] = {}
    asked: dict[int, int] = {}
    for (flags_id, _ctx), (count, values) in requests.items():
        # TRICKY: each entry's answers become one big integer with a 64-bit lane per
        # flag (0 or 1), so count times answers is summed for all flags in one C-level
        # multiply-add instead of a Python loop per flag. A lane holds at most the
        # number of requests, far below 2**64, so lanes never carry into each other.
        lanes = bytearray(len(values) * _LANE)
        lanes[_LOW_BYTE::_LANE] = values
        packed = int.from_bytes(lanes, sys.byteorder)
        on_packed[flags_id] = on_packed.get(flags_id, 0) + count * packed
        asked[flags_id] = asked.get(flags_id, 0) + count
    counts: Counter[tuple[str, bool]] = Counter()
    for flags_id, packed in on_packed.items():
        flags = flag_sets[flags_id]
        total = asked[flags_id]
        ons = array("Q", packed.to_bytes(len(flags) * _LANE, sys.byteorder))
        for flag, on in zip(flags, ons, strict=True):
            if on:
                counts[(flag.key, True)] += on
            if on != total:
                counts[(flag.key, False)] += total - on
    return counts


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


def record_evaluation(flags: Flags, ctx: TenantContext, answers: Mapping[str, Any]) -> None:
    """Count one evaluation of a whole snapshot: `flags` is the snapshot's own tuple,
    `answers` the engine's for `ctx` (evaluate_all or explain_all), in its order."""
    _tally.record_evaluation(flags, ctx, answers)


def record(answers: Mapping[str, bool]) -> None:
    """Count one request's answers per flag; `answers` must come from the snapshot's
    flags."""
    _tally.record(answers)


def record_results(results: Iterable[object]) -> None:
    """Count engine Results or explanations, per flag (the explain path)."""
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
