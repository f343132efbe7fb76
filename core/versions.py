"""Version numbers of platform state, shared by every worker through the coordination
cache, so in-process snapshots know when to rebuild without asking the database.

`bump("flags")` after a write; readers compare `current("flags", ...)` with the
versions their snapshot was built from.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import caches
from django.db import transaction

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
