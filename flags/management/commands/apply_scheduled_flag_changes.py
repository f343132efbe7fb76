"""Apply the scheduled flag changes that are due; one line per schedule touched.

Run it every minute from a systemd timer or cron (README), or keep it running with
`--loop SECONDS` (as `make run` does). Running it again, or on several hosts at
once, applies nothing twice. It exits 1 when a schedule was held for a decision in
this run, so the timer's own status shows that something needs an operator.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from flags import schedules


class Command(BaseCommand):
    help = "Apply the scheduled flag changes (and rollout ramp steps) that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", type=float, default=None, metavar="SECONDS",
            help="Keep running, once every SECONDS (5 to 3600); without it, run once.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["loop"]
        if every is None:
            report = self.run_once()
            if report.held:
                self.stderr.write(f"{report.held} schedule(s) held for a decision.")
                raise SystemExit(1)
            return
        if not 5 <= every <= 3600:
            self.stderr.write("--loop must be between 5 and 3600 seconds.")
            raise SystemExit(2)
        while True:
            try:
                self.run_once()
            except DatabaseError as error:
                # A database that is away for a moment must not end the loop: the
                # next round catches up on whatever fell due meanwhile.
                self.stderr.write(f"Database unavailable, retrying in {every:g} s: {error}")
            time.sleep(every)

    def run_once(self) -> schedules.RunReport:
        report = schedules.run_due()
        for line in report.lines:
            self.stdout.write(line)
        if report.lines:
            self.stdout.write(
                f"Applied {report.applied}, proposed {report.proposed}, held {report.held}."
            )
        return report
