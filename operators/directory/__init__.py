"""The directory: where operator accounts live (Authentik, or this database).

Services get it from `get_directory()` and never know which one it is.
"""

from __future__ import annotations

from django.conf import settings

from operators.directory.authentik import deadline
from operators.directory.base import Directory, DirectoryError, DirectoryUser

# `deadline(seconds)`: every Authentik call made inside ends by then; the local
# directory makes no calls, so it is a no-op there.
__all__ = ["Directory", "DirectoryError", "DirectoryUser", "deadline", "get_directory"]

_authentik: Directory | None = None


def get_directory() -> Directory:
    global _authentik
    if settings.IDENTITY_MODE != "authentik":
        from operators.directory.local import LocalDirectory

        return LocalDirectory()
    if _authentik is None or not _authentik.matches_settings():
        from operators.directory.authentik import AuthentikDirectory

        # One client (one requests.Session, one cached group id) per process.
        _authentik = AuthentikDirectory(
            base_url=settings.AUTHENTIK_URL,
            token=settings.AUTHENTIK_TOKEN,
            timeout=settings.AUTHENTIK_TIMEOUT_SECONDS,
            subject_mode=settings.AUTHENTIK_SUBJECT_MODE,
        )
    return _authentik
