"""`manage.py check --deploy` says what the audit log's promise still lacks here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import connections


@register(Tags.security, deploy=True)
def audit_deployment(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if not settings.AUDIT_CHAIN_KEY:
        warnings.append(
            Warning(
                "AUDIT_CHAIN_KEY is not set: the audit chain is keyed with a key derived "
                "from SECRET_KEY, so rotating SECRET_KEY needs it in SECRET_KEY_FALLBACKS.",
                hint="Set AUDIT_CHAIN_KEY to 32+ random bytes kept only in the environment.",
                id="audit.W001",
            )
        )
    if not any(sink.startswith("syslog:") for sink in settings.AUDIT_CHECKPOINT_SINKS):
        warnings.append(
            Warning(
                "Audit checkpoints go only to a file the application itself can write.",
                hint="Add a syslog sink to AUDIT_CHECKPOINT_SINKS (a log host the app "
                "cannot rewrite), or make the file append-only (chattr +a).",
                id="audit.W002",
            )
        )
    if connections["default"].vendor == "postgresql" and not settings.DATABASE_SERVING_ROLE:
        warnings.append(
            Warning(
                "DATABASE_SERVING_ROLE is not set: if the console serves as the role that "
                "owns the tables, it can disable the audit log's triggers.",
                hint="Migrate as the owning role, serve as another (README: The audit log).",
                id="audit.W003",
            )
        )
    return warnings
