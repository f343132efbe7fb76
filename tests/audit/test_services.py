from __future__ import annotations

import pytest
from django.db import transaction

from audit import keys
from audit import services as audit
from audit.chain import GENESIS, verify
from audit.models import AppendOnlyError, AuditEvent
from tests.audit.tampering import tamper
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _chain_ok() -> bool:
    return verify(AuditEvent.objects.order_by("id"), keys=keys.key_for)[1] is None


def test_record_snapshots_actor_target_and_links_to_the_previous_event() -> None:
    actor = OperatorFactory(email="ops@dezky.example")
    tenant = TenantFactory(slug="acme", name="Acme Logistics")
    previous = AuditEvent.objects.order_by("-id").first()

    event = audit.record(
        action="tenant.suspended", actor=actor, target=tenant, tenant=tenant, ip="192.0.2.7",
        metadata={"reason": "unpaid"},
    )  # fmt: skip

    event.refresh_from_db()
    assert event.actor_id == actor.pk
    assert event.actor_email == "ops@dezky.example"
    assert event.actor_ip == "192.0.2.7"
    assert (event.target_type, event.target_id) == ("tenant", str(tenant.pk))
    assert event.target_repr == "Acme Logistics (acme)"
    assert event.tenant_id == tenant.pk
    assert event.metadata == {"reason": "unpaid"}
    assert event.prev_hash == (previous.hash if previous else GENESIS)
    assert _chain_ok()


def test_system_actor_is_recorded_without_a_user() -> None:
    event = audit.record(action="flag.created", target_type="flag", target_repr="x")
    assert event.actor_id is None
    assert event.actor_label == "system"


def test_record_rolls_back_with_the_callers_transaction() -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(action="tenant.suspended", target_type="tenant", target_id="1")
        raise RuntimeError("the write being audited failed")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("key", ["password", "temp_password", "api_token", "client_secret"])
def test_record_refuses_credentials_in_metadata(key: str) -> None:
    with pytest.raises(ValueError, match="credentials"):
        audit.record(action="platform.user_invited", metadata={key: "hunter2"})


@pytest.mark.parametrize("action", ["suspended", "Tenant.Suspended", "tenant.", "tenant suspended"])
def test_record_refuses_an_action_that_is_not_registered(action: str) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(action=action)


def test_record_refuses_a_well_formed_action_nobody_registered() -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match=r"name it in audit\.actions"):
        audit.record(action="tenant.teleported")
    assert AuditEvent.objects.count() == before


class TestAppendOnlyThroughTheOrm:
    def test_an_event_cannot_be_saved_again(self) -> None:
        event = audit.record(action="tenant.suspended")
        event.action = "tenant.resumed"
        with pytest.raises(AppendOnlyError):
            event.save()

    def test_an_event_cannot_be_deleted(self) -> None:
        event = audit.record(action="tenant.suspended")
        with pytest.raises(AppendOnlyError):
            event.delete()

    def test_querysets_cannot_update_or_delete(self) -> None:
        audit.record(action="tenant.suspended")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.update(action="tenant.resumed")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.bulk_create([AuditEvent(action="tenant.resumed")])


def test_verify_finds_an_event_changed_behind_the_orms_back() -> None:
    first = audit.record(action="tenant.suspended", metadata={"n": 1})
    audit.record(action="tenant.resumed", metadata={"n": 2})
    assert _chain_ok()
    tamper("UPDATE audit_auditevent SET metadata = %s WHERE id = %s", ['{"n": 9}', first.pk])
    _, broken = verify(AuditEvent.objects.order_by("id"), keys=keys.key_for)
    assert broken is not None and broken.event_id == first.pk


def test_verify_finds_a_removed_event() -> None:
    audit.record(action="tenant.suspended")
    middle = audit.record(action="tenant.resumed")
    last = audit.record(action="tenant.deleted")
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [middle.pk])
    _, broken = verify(AuditEvent.objects.order_by("id"), keys=keys.key_for)
    assert broken is not None and broken.event_id == last.pk
