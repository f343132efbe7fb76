"""Fixed-window counters in the coordination cache, shared by every worker.

Every count is one atomic step, so concurrent callers never both see "under the
limit" for the last slot: Redis INCR and the local-memory cache's lock are atomic
already; Django's file cache is not (its `add` and `incr` read, then write), so
here its counters are read and written under an exclusive flock held across
processes. A limit that must hold (sign-in) reserves its slot first with
`reserve()` and gives it back with `give_back()` when the attempt turns out not
to count, instead of checking a count and adding to it later.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.cache import BaseCache, caches
from django.core.cache.backends.filebased import FileBasedCache

LOCK_FILE_NAME = "ratelimit.lock"  # not *.djcache, so the cache's clear() and cull keep it


@dataclass(frozen=True)
class Reservation:
    """One counted hit: the window's bucket it went into and the count it made."""

    bucket: str
    count: int
    limit: int
    expires_at: float

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


def allow(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit of `key` in the current window; False once `limit` is passed."""
    return reserve(key, limit=limit, window_seconds=window_seconds).allowed


def count(key: str, *, window_seconds: int) -> int:
    """How many hits `key` has in the current window (without counting one)."""
    bucket, _ = _window(key, window_seconds)
    return int(caches["coordination"].get(bucket) or 0)


def hit(key: str, *, window_seconds: int) -> int:
    """Count one hit of `key` in the current window; returns the new count."""
    return reserve(key, limit=0, window_seconds=window_seconds).count


def reserve(key: str, *, limit: int, window_seconds: int) -> Reservation:
    """Count one hit of `key` now; `.allowed` says whether it is within `limit`."""
    bucket, expires_at = _window(key, window_seconds)
    return Reservation(bucket, _add(bucket, 1, expires_at), limit, expires_at)


def give_back(reservation: Reservation) -> None:
    """Uncount a reserved hit (the attempt did not count after all). Its own window's
    bucket, even if a new window has begun since; nothing if the bucket is gone."""
    if reservation.expires_at > time.time():
        _add(reservation.bucket, -1, reservation.expires_at, create=False)


def _window(key: str, window_seconds: int) -> tuple[str, float]:
    index = int(time.time() // window_seconds)
    # Kept one window longer than it counts, so a late give_back still finds it.
    return f"ratelimit:{key}:{index}", float((index + 2) * window_seconds)


def _add(bucket: str, delta: int, expires_at: float, *, create: bool = True) -> int:
    cache = caches["coordination"]
    timeout = max(1, int(expires_at - time.time()))
    if isinstance(cache, FileBasedCache):
        with _file_lock(cache):
            # TRICKY: set, not incr: BaseCache.incr re-sets with the cache's default
            # timeout (None here), which would keep every old bucket forever.
            current = cache.get(bucket)
            if current is None and not create:
                return 0
            new = int(current or 0) + delta
            cache.set(bucket, new, timeout=timeout)
            return new
    return _add_atomic(cache, bucket, delta, timeout, create=create)


def _add_atomic(cache: BaseCache, bucket: str, delta: int, timeout: int, *, create: bool) -> int:
    """Backends whose add and incr are atomic themselves (Redis, local memory)."""
    for _ in range(3):
        if create and cache.add(bucket, delta, timeout=timeout):
            return delta
        try:
            return cache.incr(bucket, delta)
        except ValueError:  # expired between add and incr: start it again
            if not create:
                return 0
    return delta  # it keeps vanishing under us: count this hit alone


@contextmanager
def _file_lock(cache: FileBasedCache) -> Iterator[None]:
    # An open file per call: flock excludes other threads of this process too.
    directory: str = cache._dir  # type: ignore[attr-defined]  # its folder: nothing public names it
    os.makedirs(directory, 0o700, exist_ok=True)
    fd = os.open(os.path.join(directory, LOCK_FILE_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
