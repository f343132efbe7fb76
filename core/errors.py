"""The one exception type for business-rule refusals.

Services raise it; the API maps it to an HTTP status once (core.api_errors) and
pages turn it into a message. Anything else escaping a service is a bug.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A request the platform understood but refuses, with a reason for a person."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class Conflict(ApplicationError):
    """The request clashes with the current state (a duplicate, a stale version)."""

    status_code = 409


class NotFound(ApplicationError):
    status_code = 404


class RateLimited(ApplicationError):
    status_code = 429


class UpstreamError(ApplicationError):
    """Another system (Authentik) failed; the message carries its own words."""

    status_code = 502
