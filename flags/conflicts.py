"""A save that lost a race: what the operator changed, what the other operator
changed since the panel was rendered, and where both touched the same field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flags.forms import FIELD_LABELS, FlagEditForm, FlagValuesForm
from flags.models import HISTORY_KEPT, Flag
from flags.presentation import HistoryEntry, display_value, history_entries


@dataclass(frozen=True)
class ConflictRow:
    label: str
    started: str
    theirs: str
    yours: str
    they_changed: bool
    you_changed: bool

    @property
    def clash(self) -> bool:
        return self.they_changed and self.you_changed and self.theirs != self.yours


@dataclass(frozen=True)
class ConflictView:
    submitted_version: int
    current_version: int
    rows: tuple[ConflictRow, ...]
    entries: list[HistoryEntry]
    older: int

    @property
    def summary(self) -> str:
        return (
            f"You started from version {self.submitted_version}; it is now version "
            f"{self.current_version}. Nothing was saved. Your values are still in the form below."
        )


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


def changed_fields(form: FlagEditForm, base_form: FlagValuesForm) -> dict[str, Any]:
    """Only what the operator changed, so applying it on top of someone else's newer
    version does not quietly put back the fields they changed."""
    yours = form.service_kwargs()
    if not base_form.is_valid():
        return yours
    base = base_form.service_kwargs()
    return {field: value for field, value in yours.items() if not same(value, base[field])}


def conflict_view(
    flag: Flag, form: FlagEditForm, base_form: FlagValuesForm, submitted: int
) -> ConflictView:
    current = FlagValuesForm.initial_from(flag)
    yours = form.service_kwargs()
    base = base_form.service_kwargs() if base_form.is_valid() else None
    rows = []
    for field, theirs in current.items():
        started = base[field] if base is not None else None
        they_changed = base is not None and not same(theirs, started)
        you_changed = base is not None and not same(yours[field], started)
        if base is None and same(theirs, yours[field]):
            continue
        if base is not None and not (they_changed or you_changed):
            continue
        rows.append(
            ConflictRow(
                label=FIELD_LABELS[field],
                started=display_value(field, started),
                theirs=display_value(field, theirs),
                yours=display_value(field, yours[field]),
                they_changed=they_changed,
                you_changed=you_changed,
            )
        )
    # TRICKY: every change raises the version by exactly one and appends exactly one
    # history entry, so the newest (current - submitted) entries are the changes made
    # since the panel was rendered. Older ones may have rolled out of the kept history.
    since = max(0, flag.version - submitted)
    kept = list(flag.history.all())[: min(since, HISTORY_KEPT)]
    return ConflictView(
        submitted_version=submitted,
        current_version=flag.version,
        rows=tuple(rows),
        entries=history_entries(kept),
        older=since - len(kept),
    )
