from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.seed import DEMO_OPERATOR_EMAIL, demo_operator_set_password, seed_demo


class Command(BaseCommand):
    help = "Create demo partners, tenants, users and a demo operator (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--new-password",
            action="store_true",
            help="Give the demo operator a new password and print it.",
        )

    def handle(self, *args: Any, new_password: bool = False, **options: Any) -> None:
        result = seed_demo()
        created = ", ".join(f"{n} {what}" for what, n in result.created.items()) or "nothing new"
        self.stdout.write(f"Demo data: {created}.")
        if result.integrations_simulated:
            reconciled = (
                f"{result.reconciled} new tenants reconciled through them"
                if result.reconciled
                else "no new tenant to reconcile"
            )
            self.stdout.write(
                "Integrations: simulated (DEMO_INTEGRATIONS=true), nothing is called; "
                f"{reconciled}."
            )
        else:
            self.stdout.write(
                "Integrations: real (DEMO_INTEGRATIONS is off); new tenants wait, pending, "
                "for a reconcile."
            )
        password = result.operator_password
        if new_password and not password:
            password = demo_operator_set_password()
        if password:
            self.stdout.write(self.style.SUCCESS("Demo login (shown once, not stored):"))
            self.stdout.write(f"  email:    {DEMO_OPERATOR_EMAIL}")
            self.stdout.write(f"  password: {password}")
        else:
            self.stdout.write(
                f"Demo login: {DEMO_OPERATOR_EMAIL} (password printed when it was created; "
                "`make demo-password` sets a new one)."
            )
