from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoints
from audit.integrity import verify_chain


class Command(BaseCommand):
    help = (
        "Walk the whole audit chain and hold it to the last signed checkpoint; on success "
        "write a new checkpoint. Exit 1 if an event was changed, removed or reordered."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="Only walk the events after the last checkpoint (fast; what the timer runs).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = verify_chain(full=not options["since_checkpoint"])
        if not outcome.ok:
            raise CommandError(f"Audit chain NOT intact. {outcome.message}")
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain {outcome.message[0].lower()}{outcome.message[1:]}")
        )
        self.stdout.write(f"Checkpoint written to: {', '.join(checkpoints.describe_sinks())}")
