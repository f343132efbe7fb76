"""Viewing the console as a tenant member: the services, the middleware's refusals
and audit, the member view and the start and exit pages."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import ApplicationError, Conflict
from operators.impersonation import (
    SESSION_KEY,
    current,
    impersonation_end,
    impersonation_start,
)
from operators.models import Impersonation, ImpersonationEnd
from tenants.models import MemberRole, TenantStatus
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

REASON = "Ticket 4711: member says the domains list is empty"
START = reverse("operators:impersonation-start")
EXIT = reverse("operators:impersonation-exit")
HOME = reverse("operators:member-view")


@pytest.fixture
def tenant() -> Any:
    return TenantFactory(slug="northwind", name="Northwind Traders", domains=["northwind.example"])


@pytest.fixture
def member(tenant: Any) -> Any:
    user = UserFactory(email="pat@northwind.example", name="Pat Rivera")
    MembershipFactory(tenant=tenant, user=user, role=MemberRole.ADMIN)
    return user


def _start(client: Client, member: Any, *, reason: str = REASON, **extra: Any) -> Any:
    return client.post(START, {"member": member.email, "reason": reason, **extra})


@pytest.fixture
def viewing(operator_client: Client, member: Any) -> Client:
    """An operator's browser that is viewing the console as `member`."""
    response = _start(operator_client, member)
    assert response.status_code == 303, response.content.decode()[:2000]
    return operator_client


def viewing_operator(client: Client) -> Any:
    return Impersonation.objects.get(pk=client.session[SESSION_KEY]).operator


def _open(operator: Any) -> Impersonation:
    return Impersonation.objects.get(operator=operator, ended_at__isnull=True)


# ------------------------------------------------------------------ services --


class TestStart:
    def test_starts_and_records_one_event_with_the_reason(
        self, operator: Any, member: Any, settings: Any
    ) -> None:
        settings.IMPERSONATION_MAX_MINUTES = 15
        with watch_audit() as audit:
            record = impersonation_start(
                member=member, reason=REASON, actor=operator, session_key="k1"
            )
        event = audit.one("impersonation.started", actor=operator)
        assert event.target_id == str(member.pk)
        assert event.metadata["reason"] == REASON
        assert event.metadata["tenants"] == ["northwind"]
        assert record.expires_at - record.started_at == timedelta(minutes=15)
        assert record.ended_at is None

    @pytest.mark.parametrize(
        "who",
        ["operator_member", "inactive", "no_membership", "self", "nobody"],
    )
    def test_refuses_who_cannot_be_viewed_as(self, operator: Any, tenant: Any, who: str) -> None:
        if who == "operator_member":
            target = OperatorFactory()
            MembershipFactory(tenant=tenant, user=target)
        elif who == "inactive":
            target = UserFactory(is_active=False)
            MembershipFactory(tenant=tenant, user=target)
        elif who == "no_membership":
            target = UserFactory()
        elif who == "self":
            target = operator
        else:
            target = None
        with watch_audit() as audit, pytest.raises(ApplicationError) as err:
            impersonation_start(member=target, reason=REASON, actor=operator, session_key="k")
        assert err.value.field == "member"
        audit.none()
        assert not Impersonation.objects.exists()

    def test_a_member_of_only_deleted_tenants_is_refused(self, operator: Any) -> None:
        gone = TenantFactory(status=TenantStatus.DELETED, deleted_at=timezone.now())
        target = UserFactory()
        MembershipFactory(tenant=gone, user=target)
        with pytest.raises(ApplicationError):
            impersonation_start(member=target, reason=REASON, actor=operator, session_key="k")

    def test_refuses_a_non_operator(self, member: Any, tenant: Any) -> None:
        other = UserFactory()
        MembershipFactory(tenant=tenant, user=other)
        with watch_audit() as audit, pytest.raises(ApplicationError):
            impersonation_start(member=other, reason=REASON, actor=member, session_key="k")
        audit.none()

    @pytest.mark.parametrize("reason", ["", "   ", "too short", "x" * 501])
    def test_refuses_a_reason_too_short_or_too_long(
        self, operator: Any, member: Any, reason: str
    ) -> None:
        with watch_audit() as audit, pytest.raises(ApplicationError) as err:
            impersonation_start(member=member, reason=reason, actor=operator, session_key="k")
        assert err.value.field == "reason"
        assert "Reason" in err.value.message
        audit.none()

    def test_refuses_when_already_viewing_as_someone_in_this_session(
        self, operator: Any, member: Any, tenant: Any
    ) -> None:
        impersonation_start(member=member, reason=REASON, actor=operator, session_key="k")
        other = UserFactory()
        MembershipFactory(tenant=tenant, user=other)
        with watch_audit() as audit, pytest.raises(Conflict):
            impersonation_start(member=other, reason=REASON, actor=operator, session_key="k")
        audit.none()
        assert Impersonation.objects.count() == 1

    def test_one_left_open_in_another_session_is_ended_as_new_session(
        self, operator: Any, member: Any
    ) -> None:
        first = impersonation_start(member=member, reason=REASON, actor=operator, session_key="a")
        with watch_audit() as audit:
            impersonation_start(member=member, reason=REASON, actor=operator, session_key="b")
        assert [e.action for e in audit.events] == [
            "impersonation.ended",
            "impersonation.started",
        ]
        first.refresh_from_db()
        assert first.ended_reason == ImpersonationEnd.NEW_SESSION


class TestEnd:
    def test_ends_once_with_one_event(self, operator: Any, member: Any) -> None:
        record = impersonation_start(member=member, reason=REASON, actor=operator, session_key="k")
        with watch_audit() as audit:
            assert impersonation_end(impersonation=record, actor=operator) is True
            assert impersonation_end(impersonation=record, actor=operator) is False
        event = audit.one("impersonation.ended", actor=operator)
        assert event.metadata["ended_reason"] == "exit"
        record.refresh_from_db()
        assert record.ended_at is not None and record.ended_reason == "exit"

    def test_an_unknown_end_is_a_bug(self, operator: Any, member: Any) -> None:
        record = impersonation_start(member=member, reason=REASON, actor=operator, session_key="k")
        with pytest.raises(ValueError):
            impersonation_end(impersonation=record, actor=operator, ended_reason="bored")


# ------------------------------------------------------------- start page --


class TestStartPage:
    def test_the_row_button_opens_the_start_page_with_the_member(
        self, operator_client: Client, member: Any, tenant: Any
    ) -> None:
        membership = member.memberships.get()
        html = Template("{% load impersonation %}{% impersonate_button m t %}").render(
            Context({"m": membership, "t": tenant})
        )
        assert 'data-testid="impersonate-button"' in html
        url = html.split('href="')[1].split('"')[0].replace("&amp;", "&")
        page = operator_client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "pat@northwind.example" in body
        assert "Northwind Traders" in body and "Admin" in body
        assert "For at most 15 minutes" in body

    def test_the_button_says_why_not_for_an_operator_or_inactive_member(self, tenant: Any) -> None:
        for user in (OperatorFactory(), UserFactory(is_active=False)):
            membership = MembershipFactory(tenant=tenant, user=user)
            html = Template("{% load impersonation %}{% impersonate_button m t %}").render(
                Context({"m": membership, "t": tenant})
            )
            assert "impersonate-button" not in html
            assert "cannot be viewed as" in html

    def test_a_short_reason_is_a_400_naming_the_field(
        self, operator_client: Client, member: Any
    ) -> None:
        with watch_audit() as audit:
            response = _start(operator_client, member, reason="help")
        assert response.status_code == 400
        assert "Reason:" in response.content.decode()
        assert 'id="imp-reason-errors"' in response.content.decode()
        audit.none()
        assert SESSION_KEY not in operator_client.session

    def test_an_unknown_member_is_a_400_naming_the_field(self, operator_client: Client) -> None:
        response = operator_client.post(
            START, {"member": "nobody@nowhere.example", "reason": REASON}
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "Member&#x27;s email: No user has this email." in body

    def test_a_member_that_is_an_operator_is_refused_on_the_page(
        self, operator_client: Client
    ) -> None:
        other = OperatorFactory(email="ops2@dezky.example")
        response = operator_client.post(START, {"member": other.email, "reason": REASON})
        assert response.status_code == 400
        assert "Operators cannot be viewed as" in response.content.decode()

    def test_garbage_is_a_400_not_a_500(self, operator_client: Client) -> None:
        response = operator_client.post(START, {"member": "\x00" * 300, "reason": "é" * 600})
        assert response.status_code == 400
        # A NUL in the query string is refused before the view (console.request_guard).
        assert operator_client.get(START, {"member": "a\x00b@x.example"}).status_code == 400

    def test_non_operators_cannot_start(self, client: Client, member: Any, tenant: Any) -> None:
        other = UserFactory()
        MembershipFactory(tenant=tenant, user=other)
        client.force_login(other)
        assert _start(client, member).status_code == 403
        assert not Impersonation.objects.exists()

    def test_confirming_starts_and_opens_the_member_view(
        self, operator_client: Client, member: Any, operator: Any
    ) -> None:
        response = _start(operator_client, member, tenant="northwind")
        assert response.status_code == 303
        assert response["Location"] == HOME
        record = _open(operator)
        assert operator_client.session[SESSION_KEY] == record.pk


# ------------------------------------------------------- while viewing as --


class TestMemberView:
    def test_the_home_lists_the_members_tenants_with_their_role(
        self, viewing: Client, member: Any
    ) -> None:
        other = TenantFactory(name="Someone Else Ltd")
        page = viewing.get(HOME)
        body = page.content.decode()
        assert page.status_code == 200
        assert "Northwind Traders" in body and "Admin" in body
        assert other.name not in body

    def test_the_banner_shows_who_why_and_until_when_with_exit(
        self, viewing: Client, operator: Any
    ) -> None:
        body = viewing.get(HOME).content.decode()
        record = _open(operator)
        assert 'data-testid="impersonation-banner"' in body
        assert "Pat Rivera" in body
        assert REASON in body
        assert f"{record.expires_at:%H:%M} UTC" in body
        assert f'action="{EXIT}"' in body

    def test_a_tenant_of_the_member_is_shown_read_only(self, viewing: Client) -> None:
        page = viewing.get(reverse("operators:member-view-tenant", args=["northwind"]))
        body = page.content.decode()
        assert page.status_code == 200
        assert "northwind.example" in body and "pat@northwind.example" in body
        assert "<form" not in body.split('data-testid="impersonation-banner"')[0]
        assert reverse("tenants:suspend", args=["northwind"]) not in body

    def test_a_tenant_the_member_is_not_in_is_a_404(self, viewing: Client) -> None:
        other = TenantFactory()
        page = viewing.get(reverse("operators:member-view-tenant", args=[other.slug]))
        assert page.status_code == 404

    @pytest.mark.parametrize(
        "url",
        [
            reverse("console:overview"),
            reverse("tenants:list"),
            reverse("tenants:detail", args=["northwind"]),
            reverse("operators:users"),
            reverse("operators:team"),
            reverse("audit:list"),
            START,
        ],
    )
    def test_every_other_page_is_a_403_naming_the_member(self, viewing: Client, url: str) -> None:
        page = viewing.get(url)
        assert page.status_code == 403
        body = page.content.decode()
        assert "Pat Rivera cannot see this page." in body
        assert f'href="{HOME}"' in body and f'action="{EXIT}"' in body

    def test_an_htmx_get_of_another_page_is_a_toast(self, viewing: Client) -> None:
        page = viewing.get(reverse("tenants:list"), HTTP_HX_REQUEST="true")
        assert page.status_code == 403
        assert "cannot see this page" in page.content.decode()
        assert page["HX-Reswap"] == "none"

    def test_the_api_is_refused_with_json(self, viewing: Client) -> None:
        response = viewing.get("/api/tenants/")
        assert response.status_code == 403
        assert "detail" in response.json()


class TestWritesRefused:
    def test_a_page_post_is_a_403_with_the_sentence_and_changes_nothing(
        self, viewing: Client, tenant: Any
    ) -> None:
        with watch_audit() as audit:
            response = viewing.post(reverse("tenants:suspend", args=["northwind"]))
        assert response.status_code == 403
        assert (
            "Writes are off while you view the console as Pat Rivera. Exit to make changes."
            in response.content.decode()
        )
        tenant.refresh_from_db()
        assert tenant.status == TenantStatus.ACTIVE
        assert audit.of("tenant.suspended") == []

    def test_an_htmx_post_is_a_toast(self, viewing: Client) -> None:
        response = viewing.post(
            reverse("tenants:suspend", args=["northwind"]), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 403
        assert "Writes are off" in response.content.decode()
        assert response["HX-Reswap"] == "none"

    @pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
    def test_api_writes_are_403_json(self, viewing: Client, method: str, tenant: Any) -> None:
        response = getattr(viewing, method)(
            "/api/tenants/northwind/",
            data=json.dumps({"name": "Renamed"}),
            content_type="application/json",
        )
        assert response.status_code == 403
        assert "Writes are off" in response.json()["detail"]
        tenant.refresh_from_db()
        assert tenant.name == "Northwind Traders"

    def test_starting_another_is_refused_too(self, viewing: Client, tenant: Any) -> None:
        other = UserFactory()
        MembershipFactory(tenant=tenant, user=other)
        assert _start(viewing, other).status_code == 403
        assert Impersonation.objects.count() == 1


class TestPageViewsAudited:
    def test_each_page_view_records_one_event_with_the_path_and_reason(
        self, viewing: Client, operator: Any, member: Any
    ) -> None:
        url = reverse("operators:member-view-tenant", args=["northwind"])
        with watch_audit() as audit:
            viewing.get(url)
        event = audit.one("impersonation.page_viewed", actor=operator)
        assert event.target_id == str(member.pk)
        assert event.metadata["path"] == url
        assert event.metadata["reason"] == REASON
        assert event.metadata["status"] == 200

    def test_a_refused_page_is_recorded_with_its_status(self, viewing: Client) -> None:
        with watch_audit() as audit:
            viewing.get(reverse("tenants:list"))
        event = audit.single("impersonation.page_viewed", actor=viewing_operator(viewing))
        assert event.metadata["status"] == 403

    def test_swaps_scripts_and_the_api_are_not_page_views(self, viewing: Client) -> None:
        with watch_audit() as audit:
            viewing.get(HOME, HTTP_HX_REQUEST="true")
            viewing.get(HOME, HTTP_SEC_FETCH_MODE="cors")
            viewing.get("/api/tenants/")
            viewing.head(HOME)
        audit.none()

    def test_without_impersonation_nothing_is_recorded(self, operator_client: Client) -> None:
        with watch_audit() as audit:
            operator_client.get(reverse("tenants:list"))
        assert audit.of("impersonation.page_viewed") == []


class TestExit:
    def test_exit_ends_it_once_and_goes_back_to_the_users_tab(
        self, operator_client: Client, member: Any, operator: Any
    ) -> None:
        _start(operator_client, member, tenant="northwind")
        with watch_audit() as audit:
            response = operator_client.post(EXIT)
        assert response.status_code == 303
        assert response["Location"] == reverse("tenants:detail", args=["northwind"]) + "?tab=users"
        event = audit.one("impersonation.ended", actor=operator)
        assert event.metadata["ended_reason"] == "exit"
        assert SESSION_KEY not in operator_client.session
        page = operator_client.get(reverse("tenants:list"))
        assert page.status_code == 200
        assert "impersonation-banner" not in page.content.decode()

    def test_exit_without_impersonating_changes_nothing(self, operator_client: Client) -> None:
        with watch_audit() as audit:
            response = operator_client.post(EXIT)
        assert response.status_code == 303
        audit.none()

    def test_exit_is_post_only(self, viewing: Client) -> None:
        assert viewing.get(EXIT).status_code == 405

    def test_signing_out_is_allowed_and_ends_it(self, viewing: Client, operator: Any) -> None:
        with watch_audit() as audit:
            response = viewing.post(reverse("operators:logout"))
        assert response.status_code in (302, 303)
        ended, signed_out = audit.events
        assert (ended.action, signed_out.action) == ("impersonation.ended", "user.logged_out")
        assert ended.metadata["ended_reason"] == "signed out"
        assert Impersonation.objects.get(operator=operator).ended_at is not None


class TestExpiry:
    def test_past_the_limit_it_ends_by_itself_and_says_so(
        self, viewing: Client, operator: Any, monkeypatch: Any
    ) -> None:
        record = _open(operator)
        later = record.expires_at + timedelta(seconds=1)
        monkeypatch.setattr(timezone, "now", lambda: later)
        with watch_audit() as audit:
            page = viewing.get(reverse("tenants:list"))
        assert page.status_code == 200
        body = page.content.decode()
        assert "impersonation-banner" not in body
        assert "15-minute limit was reached" in body
        event = audit.one("impersonation.ended", actor=operator)
        assert event.metadata["ended_reason"] == "expired"
        record.refresh_from_db()
        assert record.ended_reason == ImpersonationEnd.EXPIRED
        assert SESSION_KEY not in viewing.session

    def test_a_minute_before_the_limit_it_still_holds(
        self, viewing: Client, operator: Any, monkeypatch: Any
    ) -> None:
        record = _open(operator)
        earlier = record.expires_at - timedelta(minutes=1)
        monkeypatch.setattr(timezone, "now", lambda: earlier)
        assert viewing.get(reverse("tenants:list")).status_code == 403


class TestNewSession:
    def test_signing_in_again_ends_it(self, viewing: Client, operator: Any, member: Any) -> None:
        record = _open(operator)
        viewing.force_login(operator)  # a new sign-in cycles the session key
        with watch_audit() as audit:
            page = viewing.get(reverse("tenants:list"))
        assert page.status_code == 200
        assert (
            audit.single("impersonation.ended", actor=operator).metadata["ended_reason"]
            == "new session"
        )
        record.refresh_from_db()
        assert record.ended_reason == ImpersonationEnd.NEW_SESSION

    def test_current_ignores_a_stale_or_foreign_id(
        self, rf: Any, operator: Any, member: Any
    ) -> None:
        from django.contrib.sessions.backends.db import SessionStore

        other_operator = OperatorFactory()
        record = impersonation_start(
            member=member, reason=REASON, actor=other_operator, session_key="x"
        )
        request = rf.get("/")
        request.user = operator
        request.session = SessionStore()
        request.session[SESSION_KEY] = record.pk
        assert current(request) is None
        assert SESSION_KEY not in request.session
        request.session[SESSION_KEY] = "not-an-id"
        assert current(request) is None


def test_every_impersonation_action_has_a_sentence() -> None:
    from audit import actions

    for code in ("impersonation.started", "impersonation.ended", "impersonation.page_viewed"):
        assert actions.is_known(code)
    event = AuditEvent(
        action="impersonation.page_viewed",
        actor_email="ops@dezky.example",
        target_repr="Pat Rivera <pat@northwind.example>",
        metadata={"path": "/view-as/", "reason": REASON},
    )
    assert actions.describe(event) == (
        "ops@dezky.example viewed a page as Pat Rivera <pat@northwind.example> "
        f"(/view-as/; reason: {REASON})"
    )


class TestPalette:
    def test_a_found_member_offers_view_as_leading_to_the_start_page(self, member: Any) -> None:
        from operators.palette import UserSource

        source = UserSource()
        [item] = source.search("pat@northwind", 5)
        [action] = source.actions_for(item)
        assert action.title == "View as Pat Rivera…"
        assert action.url == f"{START}?member=pat%40northwind.example"

    def test_an_operator_is_offered_nothing(self, operator: Any) -> None:
        from operators.palette import UserSource

        source = UserSource()
        [item] = source.search(operator.email, 5)
        assert source.actions_for(item) == []

    @pytest.mark.parametrize(("query", "found"), [("view as", 1), ("imperso", 1), ("vie", 0)])
    def test_the_start_entry_answers_to_its_name_only(self, query: str, found: int) -> None:
        from operators.palette import ImpersonationSource

        items = ImpersonationSource().search(query, 5)
        assert len(items) == found
        if items:
            assert items[0].url == START


def test_the_favicon_and_health_probe_are_not_pages(viewing: Client) -> None:
    with watch_audit() as audit:
        assert viewing.get("/favicon.ico").status_code in (200, 301, 302, 304)
        assert viewing.get("/healthz").status_code == 200
    audit.none()
