"""Validators for identifiers that cross system boundaries (slugs become DNS labels,
Authentik group names and mail domains), so they are stricter than Django's."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"

validate_slug = RegexValidator(
    SLUG_PATTERN,
    "Use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
    code="invalid_slug",
)

_DOMAIN_RE = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
    re.IGNORECASE,  # models store domains lower-cased in clean(), after this check
)


def validate_domain(value: str) -> None:
    if not isinstance(value, str) or not _DOMAIN_RE.match(value):
        raise ValidationError(
            "%(value)s is not a valid domain name (lower-case, e.g. mail.example.com).",
            code="invalid_domain",
            params={"value": value},
        )


# The most entries a stored list (a scope allowlist, a tenant's domains) may hold: far
# above any real use, and a bound on what one request can make the database keep.
STRING_LIST_MAX = 1000


def validate_string_list(value: object, *, allowed: set[str] | None = None, item=None) -> None:
    """A JSON list of unique strings, optionally from a fixed set or checked one by one."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Must be a list of strings.", code="invalid_list")
    if len(value) > STRING_LIST_MAX:
        raise ValidationError(
            "Holds %(count)s entries; at most %(max)s.",
            code="too_long",
            params={"count": len(value), "max": STRING_LIST_MAX},
        )
    if len(set(value)) != len(value):
        raise ValidationError("Contains duplicates.", code="duplicates")
    for v in value:
        if allowed is not None and v not in allowed:
            raise ValidationError(
                "%(value)s is not one of: %(allowed)s.",
                code="invalid_choice",
                params={"value": v, "allowed": ", ".join(sorted(allowed))},
            )
        if item is not None:
            item(v)
