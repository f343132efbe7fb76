"""Assertions every service test makes about the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from audit.models import AuditEvent


class AuditWatch:
    def __init__(self, since_id: int) -> None:
        self.since_id = since_id

    @property
    def events(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=self.since_id).order_by("id"))

    def one(self, action: str, *, actor: Any = None) -> AuditEvent:
        events = self.events
        assert [e.action for e in events] == [action], f"expected one {action}, got {events}"
        event = events[0]
        assert event.actor_id == (actor.pk if actor is not None else None)
        return event

    def of(self, action: str) -> list[AuditEvent]:
        return [e for e in self.events if e.action == action]

    def single(self, action: str, *, actor: Any = None, target: Any = None) -> AuditEvent:
        """The one `action` event among possibly several others (a login writes a few)."""
        found = self.of(action)
        assert len(found) == 1, f"expected one {action}, got {self.events}"
        event = found[0]
        assert event.actor_id == (actor.pk if actor is not None else None)
        if target is not None:
            assert event.target_id == str(target.pk)
        return event

    def none(self) -> None:
        assert self.events == []


@contextmanager
def watch_audit() -> Iterator[AuditWatch]:
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    yield AuditWatch(last)
