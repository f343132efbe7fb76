"""Reads of the monitor: the infrastructure cards (setup, latest probe, 24 hours in
hour buckets) and incidents (the list, one incident's page, the open ones for the
banner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncHour
from django.utils import timezone

from core.errors import NotFound
from monitor import probes
from monitor.display import STATE_LABELS, STATE_TONES
from monitor.models import Component, Incident, IncidentStatus, ProbeResult

HOURS = 24
SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}


@dataclass(frozen=True)
class Bucket:
    start: datetime
    total: int
    failed: int

    @property
    def state(self) -> str:
        if not self.total:
            return "none"
        return "down" if self.failed else "up"

    @property
    def label(self) -> str:
        hour = timezone.localtime(self.start).strftime("%H:00")
        if not self.total:
            return f"{hour}: not probed"
        if self.failed:
            return f"{hour}: {self.failed} of {self.total} probes failed"
        return f"{hour}: {self.total} probe{'s' if self.total != 1 else ''}, all up"


@dataclass(frozen=True)
class Card:
    component: str
    label: str
    setup: probes.Setup
    latest: ProbeResult | None
    last_failure: ProbeResult | None
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def state(self) -> str:
        """up, down, unknown (configured, never probed), not_configured or simulated."""
        # The demo simulates reconcile even where URLs are set: it is what the card says.
        if self.setup.simulated:
            return "simulated"
        if not self.setup.configured:
            return "not_configured"
        if self.latest is None:
            return "unknown"
        return "up" if self.latest.ok else "down"

    @property
    def tone(self) -> str:
        return STATE_TONES[self.state]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def chart_text(self) -> str:
        """The chart in words: "23 of 24 hours up; last failure 14:05"."""
        probed = [b for b in self.buckets if b.total]
        if not probed:
            return f"No probe in the last {HOURS} hours."
        up = sum(1 for b in probed if not b.failed)
        text = f"{up} of {len(probed)} probed hours up"
        if len(probed) < HOURS:
            text += f" ({HOURS - len(probed)} of the last {HOURS} not probed)"
        failures = [b for b in probed if b.failed]
        if failures and self.last_failure is not None:
            when = timezone.localtime(self.last_failure.at).strftime("%H:%M")
            text += f"; last failure {when}"
        elif not failures:
            text += "; no failure"
        return text + "."

    @property
    def chart_bars(self) -> list[dict[str, Any]]:
        """One bar per hour for the inline SVG: x and height in its viewBox units.
        Strings, so the template does not run 72 numbers through localization."""
        return [
            {
                "x": str(i * 10),
                "y": "0" if b.total else "26",
                "height": "32" if b.total else "6",
                "state": b.state,
                "label": b.label,
            }
            for i, b in enumerate(self.buckets)
        ]


def _hour_starts(now: datetime) -> list[datetime]:
    current = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def _buckets(now: datetime) -> dict[str, list[Bucket]]:
    """Every component's last 24 hours in hour buckets, from one grouped query."""
    starts = _hour_starts(now)
    rows = (
        ProbeResult.objects.filter(at__gte=starts[0])
        .annotate(hour=TruncHour("at"))
        .values("component", "hour")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(ok=False)))
    )
    found: dict[tuple[str, datetime], tuple[int, int]] = {}
    for row in rows:
        hour = timezone.localtime(row["hour"]) if timezone.is_aware(row["hour"]) else row["hour"]
        found[(row["component"], hour)] = (row["total"], row["failed"])
    return {c: [Bucket(s, *found.get((c, s), (0, 0))) for s in starts] for c in Component.values}


def infrastructure_cards(*, now: datetime | None = None) -> list[Card]:
    """A card per component. Queries: the buckets, then per component its latest
    result and its latest failure (each an index read on (component, -at))."""
    now = now or timezone.now()
    buckets = _buckets(now)
    labels = dict(Component.choices)
    cards = []
    for setup in probes.setups():
        results = ProbeResult.objects.filter(component=setup.component).order_by("-at", "-id")
        latest = results.first() if setup.probed else None
        last_failure = (
            results.filter(ok=False, at__gte=now - timedelta(hours=HOURS)).first()
            if setup.probed
            else None
        )
        cards.append(
            Card(
                component=setup.component,
                label=labels[setup.component],
                setup=setup,
                latest=latest,
                last_failure=last_failure,
                buckets=buckets[setup.component] if setup.probed else [],
            )
        )
    return cards


def component_health() -> dict[str, Card]:
    return {card.component: card for card in infrastructure_cards()}


# ---------------------------------------------------------------- incidents --


def _open_first() -> Case:
    return Case(When(resolved_at__isnull=True, then=Value(0)), default=Value(1),
                output_field=IntegerField())  # fmt: skip


def incident_list(*, state: str = "") -> QuerySet[Incident]:
    """Open incidents first, then resolved; newest first within each."""
    incidents = Incident.objects.annotate(
        open_rank=_open_first(), tenant_count=Count("affected_tenants", distinct=True)
    )
    if state == "open":
        incidents = incidents.filter(resolved_at__isnull=True)
    elif state == "resolved":
        incidents = incidents.filter(resolved_at__isnull=False)
    return incidents.order_by("open_rank", "-opened_at", "-id")


def incident_counts() -> dict[str, int]:
    counts = Incident.objects.aggregate(
        total=Count("id"), open=Count("id", filter=Q(resolved_at__isnull=True))
    )
    return {
        "": counts["total"],
        "open": counts["open"],
        "resolved": counts["total"] - counts["open"],
    }


def incident_get(*, pk: Any) -> Incident:
    try:
        return Incident.objects.select_related("opened_by").get(pk=int(pk))
    except (Incident.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such incident.") from None


def open_incidents() -> list[Incident]:
    """Open incidents, the most severe first, then the newest (few: one query)."""
    incidents = list(Incident.objects.filter(resolved_at__isnull=True))
    incidents.sort(key=lambda i: (SEVERITY_RANK.get(i.severity, 9), -i.opened_at.timestamp()))
    return incidents


def incident_detail(incident: Incident, *, health: dict[str, Card] | None = None) -> dict[str, Any]:
    """What the incident page and dialog show: metrics, the timeline newest first."""
    updates = list(incident.updates.select_related("author").order_by("-at", "-id"))
    if health is None:
        health = component_health() if incident.affected_components else {}
    affected = [
        {"component": c, "label": dict(Component.choices).get(c, c), "card": health.get(c)}
        for c in incident.affected_components
    ]
    end = incident.resolved_at or timezone.now()
    return {
        "incident": incident,
        "updates": updates,
        "latest_update": updates[0] if updates else None,
        "affected": affected,
        "tenant_count": incident.affected_tenants.count(),
        "open_for": end - incident.opened_at,
        "statuses": [
            (v, label) for v, label in IncidentStatus.choices if v != IncidentStatus.RESOLVED
        ],
    }
