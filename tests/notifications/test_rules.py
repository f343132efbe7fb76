"""Which audit events notify: notifications/rules.py."""

from __future__ import annotations

from typing import Any

import pytest

from audit import actions
from audit.models import AuditEvent
from flags import services as flag_services
from notifications import rules, selectors
from tests.notifications.events import failed_reconcile, good_reconcile, record
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

# The rules whose events always notify, and an event of each.
PLAIN = [
    "platform.user_invited",
    "platform.user_invite_failed",
    "tenant.suspended",
    "tenant.deleted",
    "audit.chain_broken",
    "incident.opened",
    "incident.updated",
    "incident.resolved",
    "user.login_throttled",
]
SILENT = [
    "tenant.created",
    "tenant.resumed",
    "tenant.updated",
    "flag.created",
    "user.logged_in",
    "user.login_failed",
    "audit.chain_verified",
    "service_token.created",
]


def shown_ids(user: Any) -> list[int]:
    return [n.id for n in selectors.notification_list(user).items]


class TestTheList:
    def test_every_code_is_a_registered_audit_action(self) -> None:
        actions.require_known(rules.CODES)
        assert set(rules.CODES) <= set(actions.ACTIONS)

    def test_one_rule_per_action_and_the_required_ones_are_there(self) -> None:
        assert len(rules.CODES) == len(set(rules.CODES))
        required = {*PLAIN, "tenant.reconciled", "flag.updated", "flag.killed", "flag.deleted"}
        assert required <= set(rules.CODES)

    def test_an_unknown_code_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"no\.such"):
            actions.require_known([*rules.CODES, "no.such"])


class TestWhatNotifies:
    @pytest.mark.parametrize("code", PLAIN)
    def test_each_notifying_action_notifies_other_operators(self, code: str) -> None:
        actor, reader = OperatorFactory(), OperatorFactory()
        event = record(code, actor=actor)
        assert shown_ids(reader) == [event.id]
        assert selectors.unread_count(reader) == 1

    @pytest.mark.parametrize("code", SILENT)
    def test_other_actions_do_not(self, code: str) -> None:
        record(code, actor=OperatorFactory())
        assert shown_ids(OperatorFactory()) == []

    def test_system_events_notify_everybody(self) -> None:
        event = record("incident.opened", actor=None, target_type="incident", target_id="7")
        assert shown_ids(OperatorFactory()) == [event.id]

    def test_an_operator_is_not_notified_of_what_they_did(self) -> None:
        actor = OperatorFactory()
        record("tenant.suspended", actor=actor)
        assert shown_ids(actor) == []
        assert selectors.unread_count(actor) == 0
        assert len(shown_ids(OperatorFactory())) == 1


class TestProvisioningFailure:
    def test_a_reconcile_with_an_error_notifies(self) -> None:
        event = record("tenant.reconciled", actor=OperatorFactory(), metadata=failed_reconcile())
        [notification] = selectors.notification_list(OperatorFactory()).items
        assert notification.id == event.id
        assert notification.title == "Provisioning failed"
        assert notification.tone == "danger"
        assert "failed for stalwart" in notification.text

    def test_a_reconcile_that_went_well_does_not(self) -> None:
        record("tenant.reconciled", actor=OperatorFactory(), metadata=good_reconcile())
        assert shown_ids(OperatorFactory()) == []

    @pytest.mark.parametrize(
        ("metadata", "expected"),
        [
            (failed_reconcile(), True),
            (good_reconcile(), False),
            ({}, False),
            ({"outcomes": "garbage"}, False),
            ({"outcomes": {"ocis": "error"}}, False),
            ({"outcomes": {"ocis": {"state": "error"}}}, True),
        ],
    )
    def test_the_predicate(self, metadata: dict, expected: bool) -> None:
        event = AuditEvent(action="tenant.reconciled", metadata=metadata)
        assert rules.provisioning_failed(event, lookups()) is expected


def flag_event(action: str, metadata: dict, target_id: str = "5") -> AuditEvent:
    return AuditEvent(action=action, metadata=metadata, target_type="flag", target_id=target_id)


def lookups(**flags: list[str]) -> rules.Lookups:
    return rules.Lookups(
        flag_keys={pk: "sample" for pk in flags}, flag_environments=flags, tenant_slugs={}
    )


class TestFlagInProd:
    @pytest.mark.parametrize(
        ("environments", "expected"),
        [
            (["prod"], True),
            (["dev", "prod"], True),
            ([], True),
            (["dev"], False),
            (["staging"], False),
        ],
    )
    def test_a_deletion_reads_the_scope_it_recorded(self, environments, expected) -> None:
        event = flag_event("flag.deleted", {"before": {"scope_environments": environments}})
        assert rules.flag_reaches_prod(event, lookups()) is expected

    def test_a_deletion_without_a_recorded_scope_notifies(self) -> None:
        assert rules.flag_reaches_prod(flag_event("flag.deleted", {}), lookups()) is True

    @pytest.mark.parametrize(
        ("before", "after", "expected"),
        [
            (["dev"], ["dev", "prod"], True),  # prod gained it
            (["prod"], ["dev"], True),  # prod lost it
            ([], ["dev"], True),  # it reached every environment before
            (["dev"], ["staging"], False),
        ],
    )
    def test_a_change_of_environments_counts_either_side(self, before, after, expected) -> None:
        changes = {"scope_environments": {"before": before, "after": after}}
        event = flag_event("flag.updated", {"changes": changes})
        assert rules.flag_reaches_prod(event, lookups()) is expected

    @pytest.mark.parametrize(
        ("current", "expected"), [(["dev"], False), (["prod"], True), ([], True)]
    )
    def test_other_changes_read_the_flag_as_it_is_now(self, current, expected) -> None:
        event = flag_event("flag.killed", {"changes": {"state": {"before": "on", "after": "off"}}})
        assert rules.flag_reaches_prod(event, lookups(**{"5": current})) is expected

    def test_a_flag_of_unknown_scope_is_taken_to_reach_prod(self) -> None:
        event = flag_event("flag.updated", {"changes": {"pct": {"before": 1, "after": 2}}})
        assert rules.flag_reaches_prod(event, lookups()) is True

    def test_through_the_flag_services(self) -> None:
        actor, reader = OperatorFactory(), OperatorFactory()
        flag_services.flag_create(key="dev_only", actor=actor, scope_environments=["dev"])
        flag_services.flag_create(key="everywhere", actor=actor)
        flag_services.flag_update(key="dev_only", actor=actor, state="on")
        flag_services.flag_update(key="everywhere", actor=actor, state="on")
        flag_services.flag_kill(key="everywhere", actor=actor)
        flag_services.flag_delete(key="dev_only", actor=actor)
        flag_services.flag_delete(key="everywhere", actor=actor)
        titles = [(n.title, n.text) for n in selectors.notification_list(reader).items]
        assert [t for t, _ in titles] == [
            "Flag deleted in prod",
            "Flag killed in prod",
            "Flag changed in prod",
        ]
        # dev_only's change is read against its scope when it was deleted: dev only.
        assert all("everywhere" in text for _, text in titles)


class TestLinks:
    def test_a_tenant_notification_leads_to_the_tenant(self) -> None:
        tenant = TenantFactory(slug="acme-mail")
        record("tenant.suspended", actor=OperatorFactory(), target_id=str(tenant.pk), tenant=tenant)
        [notification] = selectors.notification_list(OperatorFactory()).items
        assert notification.url == "/tenants/acme-mail/"

    def test_an_incident_leads_to_its_page(self) -> None:
        record("incident.opened", target_type="incident", target_id="12", target_repr="Mail delays")
        [notification] = selectors.notification_list(OperatorFactory()).items
        assert notification.url == "/incidents/12/"

    def test_a_flag_leads_to_its_panel_and_a_gone_one_to_the_audit_log(self) -> None:
        actor = OperatorFactory()
        flag = flag_services.flag_create(key="prod_thing", actor=actor)
        flag_services.flag_update(key="prod_thing", actor=actor, state="on")
        [changed] = selectors.notification_list(OperatorFactory()).items
        assert changed.url == f"/flags/{flag.key}/"
        flag_services.flag_delete(key="prod_thing", actor=actor)
        deleted, changed = selectors.notification_list(OperatorFactory()).items
        assert deleted.url.startswith("/audit/")
        assert changed.url.startswith("/audit/")

    def test_an_invite_leads_to_the_operator_team(self) -> None:
        record("platform.user_invited", actor=OperatorFactory(), target_type="user")
        [notification] = selectors.notification_list(OperatorFactory()).items
        assert notification.url == "/operator-team/"


class TestChangeRequestWaits:
    """ "Change request waits for your approval" lasts while the request is open (or
    approved and not yet applied); once it is closed nobody waits for it."""

    @pytest.fixture
    def author(self) -> Any:
        from flags.models import ApprovalPolicy

        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
        flag_services.flag_create(key="sample_beta", actor=None)
        return OperatorFactory(email="pat.rivera@northwind.example")

    @pytest.fixture
    def reviewer(self) -> Any:
        return OperatorFactory(email="sam.okafor@northwind.example")

    def propose(self, author: Any) -> Any:
        from flags import change_requests as cr

        return cr.flag_change(key="sample_beta", actor=author, state="on").change_request

    def waiting(self, user: Any) -> list[str]:
        return [
            n.title
            for n in selectors.notification_list(user).items
            if n.title == "Change request waits for your approval"
        ]

    @pytest.mark.parametrize("close", ["reject", "withdraw", "apply"])
    def test_it_goes_once_the_request_is_closed(self, author, reviewer, close) -> None:
        from flags import change_requests as cr

        request = self.propose(author)
        assert self.waiting(reviewer) == ["Change request waits for your approval"]
        assert selectors.unread_count(reviewer) == 1
        if close == "reject":
            cr.change_request_reject(request_id=request.pk, actor=reviewer, reason="Not now")
        elif close == "withdraw":
            cr.change_request_withdraw(request_id=request.pk, actor=author)
        else:
            cr.change_request_approve(request_id=request.pk, actor=reviewer)
            assert self.waiting(OperatorFactory()) != []  # approved, not applied: still there
            cr.change_request_apply(request_id=request.pk, actor=author)
        assert self.waiting(reviewer) == []
        left = [n.title for n in selectors.notification_list(reviewer).items]
        # Applying writes the flag in prod, which notifies on its own.
        assert left == (["Flag changed in prod"] if close == "apply" else [])
        assert selectors.unread_count(reviewer) == len(left)

    def test_an_open_request_stays_when_another_closes(self, author, reviewer) -> None:
        from flags import change_requests as cr

        first = self.propose(author)
        second = cr.change_request_create(key="sample_beta", actor=author, pct=40)
        cr.change_request_withdraw(request_id=first.pk, actor=author)
        [left] = [
            n for n in selectors.notification_list(reviewer).items if n.title.startswith("Change")
        ]
        assert left.url == f"/flags/change-requests/{second.pk}/"

    @pytest.mark.parametrize(
        ("metadata", "live", "expected"),
        [
            ({"approvals_required": 1}, {"7"}, True),
            ({"approvals_required": 1}, set(), False),  # closed, or gone with its flag
            ({"approvals_required": 0}, {"7"}, False),
            ({}, {"7"}, False),
        ],
    )
    def test_the_predicate(self, metadata: dict, live: set, expected: bool) -> None:
        event = AuditEvent(
            action="flags.change_requested", metadata=metadata, target_id="7",
            target_type="flagchangerequest",
        )  # fmt: skip
        found = rules.Lookups(
            flag_keys={}, flag_environments={}, tenant_slugs={},
            live_change_requests=frozenset(live),
        )  # fmt: skip
        assert rules.waits_for_approval(event, found) is expected

    def test_a_batch_of_requests_costs_one_query_more(
        self, author, reviewer, django_assert_num_queries
    ) -> None:
        for _ in range(3):
            self.propose(author)
        # the watermark, one batch, then which of its requests are still open
        with django_assert_num_queries(3):
            assert selectors.unread_count(reviewer) == 3
