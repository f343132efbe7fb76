from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from audit import checks  # noqa: F401  (registers the deploy checks)

        post_migrate.connect(_grant_serving_role, sender=self)


def _grant_serving_role(sender: Any, using: str = "default", **kwargs: Any) -> None:
    # After every migrate, new tables get the serving role's grants (and the audit
    # table keeps only SELECT and INSERT for it).
    from django.conf import settings
    from django.db import connections

    if settings.DATABASE_SERVING_ROLE and connections[using].vendor == "postgresql":
        from audit.roles import grant_serving_role

        grant_serving_role(settings.DATABASE_SERVING_ROLE, using=using)
