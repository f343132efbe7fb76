"""Version numbers of platform state, shared by every worker through the coordination
cache, so in-process snapshots know when to rebuild without asking the database.

`bump("flags")` after a write; readers compare `current("flags", ...)` with the
versions their snapshot was built from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import caches
from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

_listeners: list[Callable[[], None]] = []


def _cache():
    return caches["coordination"]


def _key(name: str) -> str:
    return f"version:{name}"


def current(*names: str) -> tuple[int, ...]:
    found = _cache().get_many([_key(n) for n in names])
    return tuple(int(found.get(_key(n)) or 0) for n in names)


def bump(name: str) -> None:
    """Mark `name` as changed, now and again when the current transaction commits.

    TRICKY: the bump at commit is the one that matters: a worker rebuilding before
    it could still read the old rows. The immediate bump lets this same connection
    (and a test, whose transaction never commits) see its own change at once.
    """
    _increment(name)
    transaction.on_commit(lambda: _increment(name))


def on_bump(listener: Callable[[], None]) -> None:
    """Call `listener` in this process after every bump (to drop local caches early)."""
    _listeners.append(listener)


def _increment(name: str) -> None:
    cache = _cache()
    if not cache.add(_key(name), 1, timeout=None):
        try:
            cache.incr(_key(name))
        except ValueError:  # evicted between add and incr
            cache.add(_key(name), 1, timeout=None)
    for listener in _listeners:
        listener()


class LocalState:
    """Process-local state (a snapshot, a memo) dropped when any named version moves.

    The versions are read from the shared cache at most every `check_seconds`,
    so other workers' changes arrive within that time and the hot path rarely
    leaves the process; a bump in this process is seen at once.
    """

    def __init__(self, *names: str, check_seconds: Callable[[], float]) -> None:
        self.names = names
        self.check_seconds = check_seconds
        self.lock = threading.Lock()
        self.value: object = None
        self.built_at: tuple[int, ...] | None = None
        self.checked_at = 0.0
        on_bump(self.forget_check)

    def forget_check(self) -> None:
        self.checked_at = 0.0

    def reset(self) -> None:
        self.value, self.built_at, self.checked_at = None, None, 0.0

    def get(self, build: Callable[[tuple[int, ...]], object]) -> object:
        now = time.monotonic()
        if self.built_at is not None and now - self.checked_at < self.check_seconds():
            return self.value
        latest = current(*self.names)
        if self.built_at == latest:
            self.checked_at = now
            return self.value
        # One thread rebuilds; while it does, the others keep answering from the
        # previous value instead of queueing behind the lock (a rebuild at 10,000
        # tenants takes a while). Only the very first build is waited for.
        if not self.lock.acquire(blocking=self.built_at is None):
            return self.value
        try:
            if self.built_at != latest:
                # Built after reading the versions: a change landing meanwhile moves
                # them again, and the next check rebuilds.
                try:
                    self.value = build(latest)
                except DatabaseError:
                    if self.built_at is None:
                        raise
                    # The database is away: keep answering from what was built, and
                    # try again after the next check interval, not on every request.
                    logger.warning("rebuild of %s failed; serving the previous one", self.names)
                    self.checked_at = now
                    return self.value
                self.built_at = latest
            self.checked_at = now
            return self.value
        finally:
            self.lock.release()
