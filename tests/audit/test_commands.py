from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from audit import services as audit
from tests.audit.tampering import tamper

pytestmark = pytest.mark.django_db


def test_verify_audit_chain_reports_an_intact_chain(capsys: pytest.CaptureFixture) -> None:
    audit.record(action="tenant.suspended")
    call_command("verify_audit_chain")
    assert "Audit chain intact" in capsys.readouterr().out


def test_verify_audit_chain_fails_on_a_tampered_event() -> None:
    event = audit.record(action="tenant.suspended")
    tamper("UPDATE audit_auditevent SET actor_email = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(CommandError, match=f"Broken at event #{event.pk}"):
        call_command("verify_audit_chain")
