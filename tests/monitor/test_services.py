"""Incident services write exactly one audit event each (and nothing when refused);
the probe run stores its results and keeps only a week of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Conflict
from monitor import services
from monitor.models import Component, Incident, IncidentUpdate, ProbeResult
from tests.audit_helpers import watch_audit
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _open(actor: Any, **overrides: Any) -> Incident:
    values = {
        "title": "Mail delivery delayed",
        "severity": "major",
        "body": "Queues on the outbound relay are growing.",
        "affected_components": ["stalwart"],
    }
    return services.incident_open(actor=actor, **{**values, **overrides})


def test_opening_an_incident_records_one_event_and_its_first_update(operator) -> None:
    tenants = [TenantFactory(slug="acme"), TenantFactory(slug="globex")]
    with watch_audit() as audit:
        incident = _open(operator, affected_tenants=tenants)
    event = audit.one("incident.opened", actor=operator)
    assert event.metadata["severity"] == "major"
    assert event.target_repr == "Mail delivery delayed"
    assert event.target_id == str(incident.pk)
    assert incident.status == "investigating" and incident.is_open
    assert incident.affected_components == ["stalwart"]
    assert set(incident.affected_tenants.values_list("slug", flat=True)) == {"acme", "globex"}
    (update,) = incident.updates.all()
    assert (update.status, update.author, update.author_email) == (
        "investigating", operator, operator.email,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": "  "}, "title", "Title is required."),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": "Mail\x00down"}, "title", "NUL"),
        ({"body": ""}, "body", "Update is required."),
        ({"body": "y" * 5001}, "body", "at most 5000"),
        ({"body": "a\x00b"}, "body", "NUL"),
        ({"severity": "apocalyptic"}, "severity", "Severity must be one of"),
        ({"affected_components": ["mainframe"]}, "affected_components", "mainframe"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(
    operator, overrides: dict[str, Any], field: str, words: str
) -> None:
    with watch_audit() as audit, pytest.raises(ValidationError) as caught:
        _open(operator, **overrides)
    assert list(caught.value.message_dict) == [field]
    assert words in " ".join(caught.value.message_dict[field])
    audit.none()
    assert not Incident.objects.exists()


def test_an_update_records_its_status(operator) -> None:
    incident = _open(operator)
    with watch_audit() as audit:
        services.incident_post_update(
            actor=operator, incident=incident, status="identified", body="A full disk on relay 2."
        )
    event = audit.one("incident.updated", actor=operator)
    assert event.metadata["status"] == "identified"
    incident.refresh_from_db()
    assert incident.status == "identified"
    assert [u.status for u in incident.updates.order_by("-at", "-id")] == [
        "identified", "investigating",
    ]  # fmt: skip


def test_an_update_cannot_resolve_or_be_empty(operator) -> None:
    incident = _open(operator)
    with watch_audit() as audit:
        with pytest.raises(ValidationError) as caught:
            services.incident_post_update(
                actor=operator, incident=incident, status="resolved", body="Done."
            )
        assert list(caught.value.message_dict) == ["status"]
        with pytest.raises(ValidationError) as caught:
            services.incident_post_update(
                actor=operator, incident=incident, status="monitoring", body=" "
            )
        assert list(caught.value.message_dict) == ["body"]
    audit.none()


def test_resolving_records_one_event_named_after_the_title(operator) -> None:
    incident = _open(operator)
    with watch_audit() as audit:
        resolved = services.incident_resolve(
            actor=operator, incident=incident, body="Relay 2 has space again; queues drained."
        )
    event = audit.one("incident.resolved", actor=operator)
    assert event.target_repr == "Mail delivery delayed"
    assert event.target_id == str(incident.pk)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    assert incident.updates.order_by("-at", "-id").first().status == "resolved"


def test_a_resolved_incident_takes_nothing_more(operator) -> None:
    incident = _open(operator)
    services.incident_resolve(actor=operator, incident=incident, body="Fixed.")
    updates = IncidentUpdate.objects.count()
    with watch_audit() as audit:
        with pytest.raises(Conflict):
            services.incident_resolve(actor=operator, incident=incident, body="Again.")
        with pytest.raises(Conflict):
            services.incident_post_update(
                actor=operator, incident=incident, status="monitoring", body="Still?"
            )
    audit.none()
    assert IncidentUpdate.objects.count() == updates


def test_the_system_can_open_an_incident(db) -> None:
    with watch_audit() as audit:
        incident = _open(None)
    audit.one("incident.opened", actor=None)
    assert incident.opened_by is None


def test_a_probe_run_stores_results_and_keeps_a_week() -> None:
    old = ProbeResult.objects.create(
        component=Component.DATABASE, ok=True, latency_ms=1, at=timezone.now() - timedelta(days=8)
    )
    recent = ProbeResult.objects.create(
        component=Component.DATABASE, ok=True, latency_ms=1, at=timezone.now() - timedelta(days=6)
    )
    with watch_audit() as audit:
        outcomes = services.probes_run()
    audit.none()  # measurements, not anybody's decision
    assert {o.component for o in outcomes} == {Component.DATABASE, Component.CACHE}
    assert not ProbeResult.objects.filter(pk=old.pk).exists()
    assert ProbeResult.objects.filter(pk=recent.pk).exists()
    assert ProbeResult.objects.count() == 3
