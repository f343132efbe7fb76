from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.roles import grant_serving_role


class Command(BaseCommand):
    help = (
        "PostgreSQL: grant the serving role what the console needs, and on the audit table "
        "only SELECT and INSERT. Run as the owning (migrating) role after every migrate; "
        "with DATABASE_SERVING_ROLE set, migrate does it by itself."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("role", nargs="?", help="Defaults to DATABASE_SERVING_ROLE.")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"] or settings.DATABASE_SERVING_ROLE
        if not role:
            raise CommandError("Name the serving role (or set DATABASE_SERVING_ROLE).")
        try:
            statements = grant_serving_role(role)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for statement in statements:
            self.stdout.write(statement)
        self.stdout.write(self.style.SUCCESS(f"{role} can serve; it cannot rewrite the audit log."))
