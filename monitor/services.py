"""Writes of the monitor: probe results (bounded) and incidents.

Incident services run in one transaction each and record their audit event inside
it. Probe results are not audited: the timer writes one per component every minute,
and they are measurements, not anybody's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core.errors import Conflict
from monitor import probes
from monitor.models import (
    BODY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Component,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    ProbeResult,
    Severity,
)
from operators.models import User
from tenants.models import Tenant

RETENTION = timedelta(days=7)


# ------------------------------------------------------------------- probes --


def probes_run(
    *, components: list[str] | None = None, deadline: float | None = None
) -> list[probes.Outcome]:
    """Probe every configured component once, store the results and drop those older
    than RETENTION, so the table never grows past a week of probes."""
    # The probes call out first; only their outcome is written (no transaction held
    # open across an HTTP call).
    outcomes = probes.run_probes(components, deadline=deadline)
    now = timezone.now()
    with transaction.atomic():
        ProbeResult.objects.bulk_create(
            ProbeResult(
                component=o.component, at=now, ok=o.ok, latency_ms=o.latency_ms, error=o.error[:500]
            )
            for o in outcomes
        )
        ProbeResult.objects.filter(at__lt=now - RETENTION).delete()
    return outcomes


# ---------------------------------------------------------------- incidents --

_no_nul = ProhibitNullCharactersValidator()


def _text(value: Any, *, field: str, label: str, max_length: int) -> str:
    """Required text without NUL bytes, at most `max_length` characters; errors name
    the field."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError({field: f"{label} is required."})
    if len(text) > max_length:
        raise ValidationError(
            {field: f"{label} is {len(text)} characters long; at most {max_length} are allowed."}
        )
    try:
        _no_nul(text)
    except ValidationError:
        raise ValidationError({field: f"{label} cannot contain NUL bytes."}) from None
    return text


def _choice(value: Any, choices: Iterable[str], *, field: str, label: str) -> str:
    allowed = list(choices)
    if value not in allowed:
        raise ValidationError({field: f"{label} must be one of: {', '.join(allowed)}."})
    return str(value)


def _components(values: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(values))
    unknown = [v for v in chosen if v not in Component.values]
    if unknown:
        raise ValidationError(
            {"affected_components": f"Unknown component: {', '.join(map(str, unknown))}."}
        )
    return [c for c in Component.values if c in chosen]  # the cards' order


def _email(actor: User | None) -> str:
    return actor.email if actor is not None and getattr(actor, "is_authenticated", False) else ""


@transaction.atomic
def incident_open(
    *,
    actor: User | None,
    title: str,
    severity: str,
    body: str,
    affected_components: Iterable[str] = (),
    affected_tenants: Iterable[Tenant] = (),
    ip: str | None = None,
) -> Incident:
    """A new incident, investigating, with `body` as its first update."""
    title = _text(title, field="title", label="Title", max_length=TITLE_MAX_LENGTH)
    severity = _choice(severity, Severity.values, field="severity", label="Severity")
    body = _text(body, field="body", label="Update", max_length=BODY_MAX_LENGTH)
    components = _components(affected_components)
    tenants = list(affected_tenants)
    now = timezone.now()
    incident = Incident.objects.create(
        title=title,
        severity=severity,
        status=IncidentStatus.INVESTIGATING,
        affected_components=components,
        opened_by=actor if _email(actor) else None,
        opened_at=now,
    )
    if tenants:
        incident.affected_tenants.set(tenants)
    IncidentUpdate.objects.create(
        incident=incident, status=incident.status, body=body,
        author=incident.opened_by, author_email=_email(actor), at=now,
    )  # fmt: skip
    audit.record(
        action="incident.opened", actor=actor, target=incident, ip=ip,
        metadata={
            "severity": severity, "components": components, "tenants": len(tenants),
        },
    )  # fmt: skip
    return incident


def _locked_open(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if not locked.is_open:
        when = timezone.localtime(locked.resolved_at).strftime("%Y-%m-%d %H:%M")
        raise Conflict(f"This incident was resolved at {when}; open a new one.", field="status")
    return locked


@transaction.atomic
def incident_post_update(
    *, actor: User | None, incident: Incident, status: str, body: str, ip: str | None = None
) -> IncidentUpdate:
    """The next update on an open incident; its status becomes the incident's."""
    status = _choice(
        status,
        [s for s in IncidentStatus.values if s != IncidentStatus.RESOLVED],
        field="status",
        label="Status (resolve with Resolve)",
    )
    body = _text(body, field="body", label="Update", max_length=BODY_MAX_LENGTH)
    locked = _locked_open(incident)
    previous = locked.status
    if status != previous:
        locked.status = status
        locked.save(update_fields=["status"])
    update = IncidentUpdate.objects.create(
        incident=locked, status=status, body=body,
        author=actor if _email(actor) else None, author_email=_email(actor),
    )  # fmt: skip
    audit.record(
        action="incident.updated", actor=actor, target=locked, ip=ip,
        metadata={"status": status, "previous_status": previous},
    )  # fmt: skip
    incident.status = locked.status
    return update


@transaction.atomic
def incident_resolve(
    *, actor: User | None, incident: Incident, body: str, ip: str | None = None
) -> Incident:
    """Resolve an open incident with a final note (its last update)."""
    body = _text(body, field="body", label="Final note", max_length=BODY_MAX_LENGTH)
    locked = _locked_open(incident)
    now = timezone.now()
    locked.status = IncidentStatus.RESOLVED
    locked.resolved_at = now
    locked.save(update_fields=["status", "resolved_at"])
    IncidentUpdate.objects.create(
        incident=locked, status=IncidentStatus.RESOLVED, body=body,
        author=actor if _email(actor) else None, author_email=_email(actor), at=now,
    )  # fmt: skip
    audit.record(
        action="incident.resolved", actor=actor, target=locked, target_repr=locked.title, ip=ip,
        metadata={"severity": locked.severity},
    )  # fmt: skip
    return locked
