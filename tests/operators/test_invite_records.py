"""The record of an invite, shared by operator and member invites
(operators/invite_records.py); the invites themselves are tested through their
services in test_invites.py and tests/tenants/test_members.py."""

from __future__ import annotations

import pytest
from django.db import transaction

from operators import invite_records as records
from operators.directory import DirectoryError
from operators.models import InviteState, OperatorInvite
from tenants.models import MemberInvite, MemberInviteState
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_both_kinds_of_invite_share_the_states_the_steps_write() -> None:
    for state in (records.DIRECTORY_USER_CREATED, records.FAILED, records.COMPLETED):
        assert state in InviteState.values and state in MemberInviteState.values


@pytest.mark.parametrize("kind", ["operator", "member"])
def test_an_unfinished_invite_is_resumed_not_made_twice(kind: str) -> None:
    actor = OperatorFactory()
    if kind == "operator":
        model, match = OperatorInvite, {"email": "pat.rivera@northwind.example"}
    else:
        model, match = MemberInvite, {"tenant": TenantFactory(), "email": "pat@northwind.example"}
    with transaction.atomic():
        first = records.invite_open(
            model, match=match, values={"name": "Pat"}, directory="authentik", actor=actor
        )
    model.objects.filter(pk=first.pk).update(state=records.FAILED, last_error="Authentik down")
    with transaction.atomic():
        again = records.invite_open(
            model, match=match, values={"name": "Pat Rivera"}, directory="authentik", actor=actor
        )
    assert again.pk == first.pk and model.objects.count() == 1
    again.refresh_from_db()
    assert (again.name, again.last_error, again.invited_by_email) == ("Pat Rivera", "", actor.email)
    records.invite_completed(again, user=actor, handoff="link")
    with transaction.atomic():
        third = records.invite_open(
            model, match=match, values={"name": "Pat"}, directory="authentik", actor=actor
        )
    assert third.pk != first.pk  # a completed invite is never reopened


def test_a_failure_is_kept_and_audited_under_the_records_own_type() -> None:
    actor = OperatorFactory()
    tenant = TenantFactory()
    with transaction.atomic():
        invite = records.invite_open(
            MemberInvite, match={"tenant": tenant, "email": "pat@northwind.example"},
            values={"name": "Pat"}, directory="authentik", actor=actor,
        )  # fmt: skip
    records.invite_progressed(invite, 42)
    with watch_audit() as log:
        records.invite_failed(
            invite, DirectoryError("Token invalid", status=403),
            action="tenant.member_invite_failed", actor=actor, ip=None,
            target_repr="pat@northwind.example into sample", tenant=tenant,
        )  # fmt: skip
    event = log.one("tenant.member_invite_failed", actor=actor)
    assert (event.target_type, event.target_id) == ("memberinvite", str(invite.pk))
    assert event.metadata == {"email": invite.email, "error": "Token invalid", "status": 403}
    invite.refresh_from_db()
    assert (invite.state, invite.directory_user_pk, invite.last_error) == (
        "failed",
        42,
        "Token invalid",
    )


def test_a_local_failure_keeps_nothing() -> None:
    actor = OperatorFactory()
    with transaction.atomic():
        invite = records.invite_open(
            OperatorInvite, match={"email": "pat@northwind.example"}, values={"name": "Pat"},
            directory="local", actor=actor,
        )  # fmt: skip
    with watch_audit() as log:
        records.invite_failed(
            invite, DirectoryError("boom", status=500), action="platform.user_invite_failed",
            actor=actor, ip=None, target_repr=invite.email,
        )  # fmt: skip
    log.none()
    invite.refresh_from_db()
    assert (invite.state, invite.last_error) == ("started", "")
