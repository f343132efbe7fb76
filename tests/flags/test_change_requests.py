"""Four eyes on flags: the policy, the one service every change goes through, the
life of a change request, and that neither the API nor the admin can bypass it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from audit.models import AuditEvent
from core.errors import Conflict
from flags import change_requests as cr
from flags import policy, services
from flags.models import ApprovalPolicy, ChangeRequestState, Flag, FlagChangeRequest
from tests.audit_helpers import watch_audit
from tests.flags.factories import FlagFactory
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prod_needs_one(db) -> None:
    ApprovalPolicy.objects.create(environment="prod", approvals_required=1)


@pytest.fixture
def author():
    return OperatorFactory(email="pat.rivera@northwind.example")


@pytest.fixture
def reviewer():
    return OperatorFactory(email="sam.okafor@northwind.example")


@pytest.fixture
def third():
    return OperatorFactory(email="lee.chen@northwind.example")


def propose(author, key: str = "sample_beta", **changes) -> FlagChangeRequest:
    outcome = cr.flag_change(key=key, actor=author, **(changes or {"state": "on"}))
    assert outcome.proposed
    return outcome.change_request


# ------------------------------------------------------------------ policy --


class TestPolicy:
    def test_the_default_asks_prod_for_one_approval_and_a_row_overrides_it(self, settings):
        settings.FLAG_APPROVALS_DEFAULT = {"prod": 1}
        assert policy.approvals_by_environment() == {"dev": 0, "staging": 0, "prod": 1}
        ApprovalPolicy.objects.create(environment="prod", approvals_required=0)
        assert policy.approvals_by_environment()["prod"] == 0

    def test_setting_the_policy_is_audited_once_and_a_repeat_is_not(self, author):
        with watch_audit() as log:
            assert cr.approval_policy_set(environment="staging", approvals_required=2, actor=author)
        event = log.one("flags.approval_policy_changed", actor=author)
        assert event.metadata == {"environment": "staging", "before": 0, "after": 2}
        with watch_audit() as log:
            assert not cr.approval_policy_set(
                environment="staging", approvals_required=2, actor=author
            )
        log.none()

    def test_an_unknown_environment_or_too_many_approvals_names_the_field(self, author):
        with pytest.raises(Exception) as unknown:
            cr.approval_policy_set(environment="moon", approvals_required=1, actor=author)
        assert unknown.value.field == "environment"
        with pytest.raises(Exception) as many:
            cr.approval_policy_set(environment="prod", approvals_required=9, actor=author)
        assert many.value.field == "approvals_required"
        assert not AuditEvent.objects.filter(action="flags.approval_policy_changed").exists()

    def test_an_unscoped_flag_touches_every_environment(self):
        assert policy.touched_environments([]) == ("dev", "staging", "prod")
        assert policy.touched_environments(["dev"]) == ("dev",)
        assert policy.touched_environments(["dev"], ["prod"]) == ("dev", "prod")


# ------------------------------------------------------- the one decision --


class TestFlagChange:
    def test_a_change_touching_prod_becomes_a_request_and_writes_nothing(
        self, prod_needs_one, author
    ):
        FlagFactory(key="sample_beta")
        with watch_audit() as log:
            outcome = cr.flag_change(key="sample_beta", actor=author, state="on", title="Beta on")
        event = log.one("flags.change_requested", actor=author)
        request = outcome.change_request
        assert event.metadata["approvals_required"] == 1
        assert request.title == "Beta on"
        assert request.changes == {"state": {"before": "off", "after": "on"}}
        assert request.base_version == 1 and request.state == "open"
        flag = Flag.objects.get(key="sample_beta")
        assert (flag.state, flag.version) == ("off", 1)

    def test_a_dev_only_flag_is_written_at_once(self, prod_needs_one, author):
        FlagFactory(key="sample_beta", scope_environments=["dev"])
        outcome = cr.flag_change(key="sample_beta", actor=author, state="on")
        assert not outcome.proposed and outcome.flag.state == "on"

    def test_moving_a_flag_into_prod_needs_approval(self, prod_needs_one, author):
        FlagFactory(key="sample_beta", scope_environments=["dev"])
        outcome = cr.flag_change(key="sample_beta", actor=author, scope_environments=["prod"])
        assert outcome.proposed

    def test_flag_update_itself_refuses_what_needs_approval(self, prod_needs_one, author):
        FlagFactory(key="sample_beta")
        with watch_audit() as log, pytest.raises(policy.ApprovalRequired) as refused:
            services.flag_update(key="sample_beta", actor=author, state="on")
        assert "prod needs 1 approval" in refused.value.message
        assert refused.value.status_code == 409
        log.none()

    def test_the_kill_switch_needs_no_approval_and_says_so(self, prod_needs_one, author):
        FlagFactory(key="sample_beta", state="rollout", pct=40)
        with watch_audit() as log:
            flag = services.flag_kill(key="sample_beta", actor=author)
        event = log.one("flag.killed", actor=author)
        assert event.metadata["kill_switch"] is True
        assert (flag.state, flag.pct) == ("off", 0)

    def test_turning_off_and_changing_the_scope_is_not_a_kill(self, prod_needs_one, author):
        FlagFactory(key="sample_beta", state="on")
        outcome = cr.flag_change(
            key="sample_beta", actor=author, state="off", scope_plans=["business"]
        )
        assert outcome.proposed

    def test_a_new_flag_that_is_on_in_prod_is_refused(self, prod_needs_one, author):
        with pytest.raises(policy.ApprovalRequired):
            services.flag_create(key="sample_new", state="on", actor=author)
        assert not Flag.objects.filter(key="sample_new").exists()

    def test_an_invalid_change_is_refused_before_it_becomes_a_request(self, prod_needs_one, author):
        FlagFactory(key="sample_beta")
        with pytest.raises(Exception) as refused:
            cr.flag_change(key="sample_beta", actor=author, pct=150)
        assert "pct" in refused.value.message_dict
        assert not FlagChangeRequest.objects.exists()


# ---------------------------------------------------------- its life --


class TestApprovals:
    def test_the_author_cannot_approve_their_own_request(self, prod_needs_one, author):
        FlagFactory(key="sample_beta")
        request = propose(author)
        with watch_audit() as log, pytest.raises(cr.NotAllowed) as refused:
            cr.change_request_approve(request_id=request.pk, actor=author)
        assert refused.value.status_code == 403
        assert "another operator" in refused.value.message
        log.none()

    def test_an_approval_makes_it_ready_and_apply_writes_the_flag(
        self, prod_needs_one, author, reviewer
    ):
        FlagFactory(key="sample_beta")
        request = propose(author)
        with watch_audit() as log:
            approved = cr.change_request_approve(request_id=request.pk, actor=reviewer)
        log.one("flags.change_approved", actor=reviewer)
        assert approved.state == ChangeRequestState.APPROVED
        with watch_audit() as log:
            applied = cr.change_request_apply(request_id=request.pk, actor=author)
        assert [e.action for e in log.events] == ["flag.updated", "flags.change_applied"]
        assert log.of("flag.updated")[0].metadata["change_request"] == request.pk
        assert log.of("flags.change_applied")[0].metadata["approved_by"] == [reviewer.email]
        assert applied.state == "applied" and applied.applied_version == 2
        flag = Flag.objects.get(key="sample_beta")
        assert (flag.state, flag.version) == ("on", 2)

    def test_approving_twice_is_a_conflict(self, prod_needs_one, author, reviewer):
        FlagFactory(key="sample_beta")
        request = propose(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        with pytest.raises(Conflict):
            cr.change_request_approve(request_id=request.pk, actor=reviewer)

    def test_an_edit_after_an_approval_drops_every_approval(self, prod_needs_one, author, reviewer):
        FlagFactory(key="sample_beta")
        request = propose(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        with watch_audit() as log:
            edited = cr.change_request_edit(
                request_id=request.pk, actor=author, state="rollout", pct=10
            )
        event = log.one("flags.change_request_edited", actor=author)
        assert event.metadata["approvals_dropped"] == [reviewer.email]
        assert edited.state == "open" and not edited.approvals.exists()
        assert edited.changes["pct"] == {"before": 0, "after": 10}
        with pytest.raises(Conflict):
            cr.change_request_apply(request_id=request.pk, actor=author)

    def test_only_the_author_edits_or_withdraws(self, prod_needs_one, author, reviewer):
        FlagFactory(key="sample_beta")
        request = propose(author)
        with pytest.raises(cr.NotAllowed):
            cr.change_request_edit(request_id=request.pk, actor=reviewer, pct=5)
        with pytest.raises(cr.NotAllowed):
            cr.change_request_withdraw(request_id=request.pk, actor=reviewer)
        with watch_audit() as log:
            withdrawn = cr.change_request_withdraw(request_id=request.pk, actor=author)
        log.one("flags.change_request_withdrawn", actor=author)
        assert withdrawn.state == "withdrawn"
        with pytest.raises(Conflict):
            cr.change_request_approve(request_id=request.pk, actor=reviewer)

    def test_reject_closes_it_and_the_author_cannot_reject(self, prod_needs_one, author, reviewer):
        FlagFactory(key="sample_beta")
        request = propose(author)
        with pytest.raises(cr.NotAllowed):
            cr.change_request_reject(request_id=request.pk, actor=author)
        with watch_audit() as log:
            rejected = cr.change_request_reject(
                request_id=request.pk, actor=reviewer, reason="Wait for the release."
            )
        log.one("flags.change_rejected", actor=reviewer)
        assert (rejected.state, rejected.reason) == ("rejected", "Wait for the release.")
        with pytest.raises(Conflict):
            cr.change_request_apply(request_id=request.pk, actor=author)
        assert Flag.objects.get(key="sample_beta").state == "off"

    def test_apply_reads_the_policy_at_apply_time(self, prod_needs_one, author, reviewer):
        FlagFactory(key="sample_beta")
        request = propose(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        cr.approval_policy_set(environment="prod", approvals_required=2, actor=reviewer)
        with watch_audit() as log, pytest.raises(Conflict) as refused:
            cr.change_request_apply(request_id=request.pk, actor=author)
        assert "prod needs 2 approvals and this request has 1" in refused.value.message
        log.none()
        assert Flag.objects.get(key="sample_beta").version == 1

    def test_apply_refuses_a_request_based_on_an_older_version(
        self, prod_needs_one, author, reviewer
    ):
        FlagFactory(key="sample_beta")
        first = propose(author)
        second = propose(author, pct=30)
        for request in (first, second):
            cr.change_request_approve(request_id=request.pk, actor=reviewer)
        cr.change_request_apply(request_id=first.pk, actor=reviewer)
        with watch_audit() as log, pytest.raises(Conflict) as refused:
            cr.change_request_apply(request_id=second.pk, actor=reviewer)
        assert refused.value.extra == {"current_version": 2, "base_version": 1}
        log.none()
        flag = Flag.objects.get(key="sample_beta")
        assert (flag.state, flag.pct, flag.version) == ("on", 0, 2)

    def test_lowering_the_policy_lets_an_open_request_apply(self, prod_needs_one, author):
        FlagFactory(key="sample_beta")
        request = propose(author)
        cr.approval_policy_set(environment="prod", approvals_required=0, actor=author)
        applied = cr.change_request_apply(request_id=request.pk, actor=author)
        assert applied.state == "applied"


# ------------------------------------------------ no way around it --


class TestNoBypass:
    def test_the_api_patch_answers_202_with_the_change_request(
        self, prod_needs_one, author, client
    ):
        FlagFactory(key="sample_beta")
        client.force_login(author)
        response = client.patch(
            "/api/flags/sample_beta/",
            {"state": "on"},
            content_type="application/json",
            headers={"If-Match": '"1"'},
        )
        assert response.status_code == 202
        body = response.json()
        assert body["state"] == "open" and body["approvals_required"] == 1
        assert body["changes"] == {"state": {"before": "off", "after": "on"}}
        assert response["ETag"] == '"1"'
        assert Flag.objects.get(key="sample_beta").state == "off"

    def test_the_admin_change_form_makes_a_request_not_a_write(self, prod_needs_one, client):
        admin_user = OperatorFactory(is_staff=True, is_superuser=True)
        flag = FlagFactory(key="sample_beta")
        client.force_login(admin_user)
        response = client.post(
            f"/admin/flags/flag/{flag.pk}/change/",
            {
                "description": flag.description,
                "state": "on",
                "pct": 0,
                "scope_plans": "",
                "scope_tenant_slugs": "",
                "scope_partner_slugs": "",
                "scope_environments": "",
                "based_on_version": 1,
                "history-TOTAL_FORMS": 0,
                "history-INITIAL_FORMS": 0,
            },
        )
        assert response.status_code == 302
        shown = [str(m) for m in response.wsgi_request._messages]
        assert any("Not saved: proposed as change request" in m for m in shown), shown
        assert not any("successfully" in m for m in shown), shown
        assert Flag.objects.get(key="sample_beta").state == "off"
        request = FlagChangeRequest.objects.get()
        assert request.changes == {"state": {"before": "off", "after": "on"}}

    def test_the_admin_cannot_change_requests_or_the_policy(self, prod_needs_one, client):
        admin_user = OperatorFactory(is_staff=True, is_superuser=True)
        client.force_login(admin_user)
        assert client.get("/admin/flags/flagchangerequest/add/").status_code == 403
        assert client.get("/admin/flags/approvalpolicy/add/").status_code == 403


# ------------------------------------------------------- concurrency --


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks are a PostgreSQL matter")
def test_two_applies_at_once_let_exactly_one_win() -> None:
    author = OperatorFactory()
    reviewer = OperatorFactory()
    ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
    FlagFactory(key="sample_beta")
    request = propose(author)
    cr.change_request_approve(request_id=request.pk, actor=reviewer)
    results: list[int] = []
    start = threading.Barrier(2)

    def apply() -> None:
        c = Client()
        c.force_login(reviewer)
        start.wait()
        response = c.post(f"/api/flags/change-requests/{request.pk}/apply/")
        results.append(response.status_code)
        connections.close_all()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [200, 409]
    assert Flag.objects.get(key="sample_beta").version == 2
    assert AuditEvent.objects.filter(action="flags.change_applied").count() == 1
