"""The chain key: read from the deployment's settings, never stored in the database.

AUDIT_CHAIN_KEY signs new events and checkpoints. When it is not set, a key is
derived from SECRET_KEY (so a development machine works with no setup); a
deployment sets its own, so that rotating SECRET_KEY does not orphan the chain.
AUDIT_CHAIN_PREVIOUS_KEYS keeps older keys for verifying events they signed; the
keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS are always accepted for
verifying, so setting AUDIT_CHAIN_KEY later keeps the earlier events readable.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

from audit.chain import key_fingerprint


def _derive(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"dezky.audit.chain-key", hashlib.sha256).digest()


@lru_cache(maxsize=8)
def _keys(
    current: str, previous: tuple[str, ...], secrets: tuple[str, ...]
) -> tuple[bytes, dict[str, bytes]]:
    signing = current.encode() if current else _derive(secrets[0])
    candidates = [_derive(secret) for secret in secrets if secret]
    candidates += [key.encode() for key in previous if key]
    known = {key_fingerprint(key): key for key in candidates}
    known[key_fingerprint(signing)] = signing
    return signing, known


def _configured() -> tuple[bytes, dict[str, bytes]]:
    return _keys(
        settings.AUDIT_CHAIN_KEY,
        tuple(settings.AUDIT_CHAIN_PREVIOUS_KEYS),
        (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())),
    )


def signing_key() -> bytes:
    return _configured()[0]


def signing_key_id() -> str:
    return key_fingerprint(signing_key())


def key_for(key_id: str) -> bytes | None:
    """The configured key an event names, or None if none has that name."""
    return _configured()[1].get(key_id)
