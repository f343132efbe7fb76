from __future__ import annotations

import pytest
from django.core.management import call_command

from audit.chain import verify
from audit.models import AuditEvent
from demo.seed import DEMO_OPERATOR_EMAIL
from operators.models import User
from tenants.models import Membership, Partner, Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_console_worth_walking_and_is_idempotent(capsys) -> None:
    call_command("seed_demo")
    first = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    operator = User.objects.get(email=DEMO_OPERATOR_EMAIL)
    assert operator.platform_admin and operator.is_staff and operator.check_password(password)
    assert Partner.objects.count() == 3
    assert Tenant.objects.count() == 40
    statuses = set(Tenant.objects.values_list("status", flat=True))
    assert statuses == {"pending", "active", "suspended", "deleted"}
    assert set(Tenant.objects.values_list("plan", flat=True)) == {
        "starter", "business", "enterprise",
    }  # fmt: skip
    assert User.objects.filter(platform_admin=False).count() == 60
    assert Membership.objects.count() > 60
    counts = (Tenant.objects.count(), User.objects.count(), Membership.objects.count(),
              AuditEvent.objects.count())  # fmt: skip

    call_command("seed_demo")
    again = capsys.readouterr().out
    assert "nothing new" in again and password not in again
    assert counts == (Tenant.objects.count(), User.objects.count(), Membership.objects.count(),
                      AuditEvent.objects.count())  # fmt: skip
    assert verify(AuditEvent.objects.order_by("id"))[1] is None
    # The password is shown, never stored in the audit log.
    assert not AuditEvent.objects.filter(metadata__icontains=password).exists()


def test_a_new_demo_password_can_be_asked_for(capsys) -> None:
    call_command("seed_demo")
    capsys.readouterr()
    call_command("seed_demo", "--new-password")
    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert User.objects.get(email=DEMO_OPERATOR_EMAIL).check_password(password)
