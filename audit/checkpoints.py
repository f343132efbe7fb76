"""Signed checkpoints of the chain, written outside the database.

A checkpoint says "the chain had `count` events and ended at `head_id` with
`head_hash`", signed with the chain key. Verification holds the chain to the last
one, so a chain that was emptied, shortened or rewritten and re-hashed fails even
if every remaining hash is self-consistent: the database cannot change a file it
has no access to, and nobody without the key can sign a new checkpoint.

Sinks (AUDIT_CHECKPOINT_SINKS): `file:<path>`, an append-only JSON-lines file (the
first one is read back by verification), and `syslog:` / `syslog://host:port`, a
write-only copy for a log host the application cannot rewrite.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils import timezone

from audit import keys
from audit.chain import Anchor

TAIL_BYTES = 64 * 1024  # a checkpoint line is ~300 bytes; the last one is in here


class CheckpointError(Exception):
    """A sink could not be written or read, or what it holds is not trustworthy."""


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head_id: int | None
    head_hash: str
    keyed_from: int | None
    at: str
    key_id: str
    first_hash: str = ""  # the chain's first event: tells a new database from a rewrite
    signature: str = ""

    def payload(self) -> bytes:
        fields = asdict(self)
        fields.pop("signature")
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def anchor(self) -> Anchor | None:
        if self.head_id is None:
            return None
        return Anchor(self.count, self.head_id, self.head_hash, self.keyed_from)


def _sign(checkpoint: Checkpoint, key: bytes) -> str:
    return hmac.new(key, b"checkpoint:" + checkpoint.payload(), hashlib.sha256).hexdigest()


def make(
    *, count: int, head_id: int | None, head_hash: str, keyed_from: int | None, first_hash: str
) -> Checkpoint:
    unsigned = Checkpoint(
        count=count,
        head_id=head_id,
        head_hash=head_hash,
        keyed_from=keyed_from,
        first_hash=first_hash,
        at=timezone.now().isoformat(timespec="seconds"),
        key_id=keys.signing_key_id(),
    )
    return Checkpoint(**{**asdict(unsigned), "signature": _sign(unsigned, keys.signing_key())})


def write(checkpoint: Checkpoint) -> None:
    """Append to every sink; a sink that cannot be written is an error, never skipped."""
    line = json.dumps(asdict(checkpoint), sort_keys=True, separators=(",", ":"))
    for sink in _sinks():
        if sink.scheme == "file":
            _append(Path(sink.path), line)
        else:
            _syslog(sink, line)


def last() -> Checkpoint | None:
    """The newest checkpoint in the first file sink, its signature checked; None if
    there is none yet. A line that does not verify is a CheckpointError: a forged or
    damaged checkpoint is itself a sign of tampering."""
    path = _readable_path()
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise CheckpointError(f"cannot read the checkpoint file {path}: {exc.strerror}") from exc
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        checkpoint = Checkpoint(**json.loads(lines[-1]))
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"the last line of {path} is not a checkpoint") from exc
    key = keys.key_for(checkpoint.key_id)
    if key is None:
        raise CheckpointError(
            f"the last checkpoint is signed with key {checkpoint.key_id}, which is not configured"
        )
    if not hmac.compare_digest(checkpoint.signature, _sign(checkpoint, key)):
        raise CheckpointError("the last checkpoint's signature does not match: it was forged")
    return checkpoint


def describe_sinks() -> list[str]:
    return [sink.geturl() for sink in _sinks()]


def _sinks() -> list[SplitResult]:
    sinks = []
    for raw in settings.AUDIT_CHECKPOINT_SINKS:
        parsed = urlsplit(raw)
        if parsed.scheme not in ("file", "syslog"):
            raise CheckpointError(f"unknown checkpoint sink {raw!r} (use file:<path> or syslog:)")
        sinks.append(parsed)
    return sinks


def _readable_path() -> Path | None:
    for sink in _sinks():
        if sink.scheme == "file":
            return Path(sink.path)
    return None


def _append(path: Path, line: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: every write lands at the end, also on a file marked append-only
        # (chattr +a), which is how a deployment stops the app rewriting old lines.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise CheckpointError(f"cannot write the checkpoint file {path}: {exc.strerror}") from exc


def _syslog(sink: SplitResult, line: str) -> None:
    address: str | tuple[str, int] = (
        (sink.hostname, sink.port or 514) if sink.hostname else sink.path or "/dev/log"
    )
    try:
        handler = logging.handlers.SysLogHandler(
            address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH
        )
    except OSError as exc:
        raise CheckpointError(f"cannot reach syslog at {address}: {exc.strerror}") from exc
    try:
        record = logging.LogRecord("dezky.audit", logging.INFO, __file__, 0, line, None, None)
        handler.setFormatter(logging.Formatter("dezky-audit-checkpoint: %(message)s"))
        handler.emit(record)
    finally:
        handler.close()
