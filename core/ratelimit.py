from __future__ import annotations

import time

from django.core.cache import caches


def allow(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit of `key` in the current window; False once `limit` is passed.

    Kept in the coordination cache, so every worker (and with Redis every host)
    counts together.
    """
    cache = caches["coordination"]
    bucket = f"ratelimit:{key}:{int(time.time() // window_seconds)}"
    if cache.add(bucket, 1, timeout=window_seconds * 2):
        return limit >= 1
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds * 2)
        return True


def _window_key(key: str, window_seconds: int) -> str:
    return f"ratelimit:{key}:{int(time.time() // window_seconds)}"


def count(key: str, *, window_seconds: int) -> int:
    """How many hits `key` has in the current window (without counting one)."""
    return int(caches["coordination"].get(_window_key(key, window_seconds)) or 0)


def hit(key: str, *, window_seconds: int) -> int:
    """Count one hit of `key` in the current window; returns the new count."""
    cache = caches["coordination"]
    bucket = _window_key(key, window_seconds)
    if cache.add(bucket, 1, timeout=window_seconds * 2):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds * 2)
        return 1
