"""Audit events as CSV or JSON Lines, one line at a time (for a streamed download).

Each line carries the sentence a person reads beside the raw fields, so an export
still reads right in a spreadsheet. CSV cells that a spreadsheet would run as a
formula (starting with = + - @, or a tab or carriage return) get a leading
apostrophe: an actor's email or a tenant's name is typed by someone outside.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from audit.models import AuditEvent
from audit.selectors import as_row

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
COLUMNS = (
    "id",
    "at",
    "sentence",
    "action",
    "kind",
    "actor_email",
    "actor_ip",
    "tenant",
    "target_type",
    "target_id",
    "target_repr",
    "metadata",
    "prev_hash",
    "hash",
    "key_id",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One event as an export's line holds it (metadata as an object)."""
    row = as_row(event)
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "sentence": row.sentence,
        "action": event.action,
        "kind": row.kind,
        "actor_email": event.actor_email,
        "actor_ip": event.actor_ip or "",
        "tenant": event.tenant.slug if event.tenant_id and event.tenant else "",
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "metadata": event.metadata,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "key_id": event.key_id,
    }


def safe_cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for event in events:
        record = event_record(event)
        yield line(safe_cell(record[name]) for name in COLUMNS)


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event_record(event), ensure_ascii=False, default=str) + "\n"


def lines(export_format: str, events: Iterable[AuditEvent]) -> Iterator[str]:
    return csv_lines(events) if export_format == "csv" else jsonl_lines(events)


def filename(export_format: str, today: date) -> str:
    return f"audit-events-{today.isoformat()}.{export_format}"
