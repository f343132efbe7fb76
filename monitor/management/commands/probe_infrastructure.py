"""Probe every component once and store the results; one line per component.

Run it every minute from a systemd timer or cron (README). It exits 1 when any
configured component is down, so the timer's own status shows a failure too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitor import probes, services
from monitor.models import Component


class Command(BaseCommand):
    help = "Probe the database, cache, Authentik, Stalwart and oCIS once; exit 1 if any is down."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--deadline", type=float, default=None,
            help=f"Seconds each probe may take (default {probes.DEFAULT_DEADLINE_SECONDS:g}).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = options["deadline"]
        if deadline is not None and not 0 < deadline <= 60:
            self.stderr.write("--deadline must be between 0 and 60 seconds.")
            raise SystemExit(2)
        outcomes = {o.component: o for o in services.probes_run(deadline=deadline)}
        labels = dict(Component.choices)
        for setup in probes.setups():
            name = f"{setup.component:<10}"
            outcome = outcomes.get(setup.component)
            if setup.simulated:
                line = f"{name} simulated (demo): not probed"
            elif not setup.configured:
                line = f"{name} not configured (set {setup.configure_hint})"
            elif outcome is None:
                line = f"{name} not probed"
            elif outcome.ok:
                line = f"{name} up    {outcome.latency_ms} ms"
            else:
                line = f"{name} DOWN  {outcome.latency_ms} ms  {outcome.error}"
            self.stdout.write(line)
        down = [labels[c] for c, o in outcomes.items() if not o.ok]
        if down:
            self.stderr.write(f"Down: {', '.join(down)}.")
            raise SystemExit(1)
