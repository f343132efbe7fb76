"""The change-request pages, the flag panel's four-eyes parts, the change-requests
API, and the notification that a request waits for approval."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from flags import change_requests as cr
from flags.models import ApprovalPolicy, Flag, FlagChangeRequest
from notifications import selectors as notifications
from tests.audit_helpers import watch_audit
from tests.console.url_matrix import CONSOLE_CHANGE_REQUEST, MATRIX
from tests.flags.factories import FlagFactory
from tests.flags.test_views import save_form
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def prod_needs_one(db) -> None:
    ApprovalPolicy.objects.create(environment="prod", approvals_required=1)


@pytest.fixture
def author():
    return OperatorFactory(email="pat.rivera@northwind.example")


@pytest.fixture
def reviewer():
    return OperatorFactory(email="sam.okafor@northwind.example")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposed(author, key: str = "sample_beta", **changes) -> FlagChangeRequest:
    if not Flag.objects.filter(key=key).exists():
        FlagFactory(key=key)
    return cr.flag_change(key=key, actor=author, **(changes or {"state": "on"})).change_request


def detail_url(request: FlagChangeRequest, action: str = "") -> str:
    if action:
        return reverse(f"flags:change_request_{action}", kwargs={"request_id": request.pk})
    return reverse("flags:change_request", kwargs={"request_id": request.pk})


@pytest.mark.parametrize(
    "name", sorted(n for n, e in MATRIX.items() if e[0] == CONSOLE_CHANGE_REQUEST)
)
def test_change_request_pages_are_for_operators_only(author, name) -> None:
    request = proposed(author)
    url = reverse(name, kwargs={"request_id": request.pk})
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")
    assert Client().get(url, HTTP_HX_REQUEST="true").status_code == 401
    assert signed_in(UserFactory()).get(url).status_code == 403
    assert signed_in(author).get(url).status_code == 200
    gone = reverse(name, kwargs={"request_id": request.pk + 1})
    assert signed_in(author).get(gone).status_code == 404


class TestPanel:
    def test_an_unscoped_flag_says_propose_and_why(self, author) -> None:
        FlagFactory(key="sample_beta")
        html = signed_in(author).get(reverse("flags:detail", args=["sample_beta"])).text
        assert "Propose change" in html
        assert "Prod needs 1 approval: a save is proposed as a change request." in html

    def test_a_dev_only_flag_says_save(self, author) -> None:
        FlagFactory(key="sample_beta", scope_environments=["dev"])
        html = signed_in(author).get(reverse("flags:detail", args=["sample_beta"])).text
        assert "Save changes" in html and "Propose change" not in html

    def test_the_panel_save_proposes_and_lists_the_open_request(self, author) -> None:
        flag = FlagFactory(key="sample_beta")
        with watch_audit() as log:
            response = signed_in(author).post(
                reverse("flags:save", args=["sample_beta"]), save_form(flag, state="on"), **HTMX
            )
        assert response.status_code == 200
        log.one("flags.change_requested", actor=author)
        request = FlagChangeRequest.objects.get()
        assert f"Proposed change request #{request.pk} (prod needs 1 approval)" in response.text
        assert 'data-testid="flag-open-request"' in response.text
        assert Flag.objects.get(key="sample_beta").state == "off"


class TestList:
    def test_filters_by_state_and_waiting_for_me(self, author, reviewer) -> None:
        mine = proposed(author)
        theirs = proposed(reviewer, key="sample_other")
        cr.change_request_withdraw(request_id=theirs.pk, actor=reviewer)
        client = signed_in(author)
        url = reverse("flags:change_requests")
        everything = client.get(url).text
        assert f'data-id="{mine.pk}"' in everything and f'data-id="{theirs.pk}"' in everything
        open_only = client.get(url, {"state": "open"}).text
        assert f'data-id="{theirs.pk}"' not in open_only
        waiting = signed_in(reviewer).get(url, {"who": "waiting"}, **HTMX)
        assert waiting.status_code == 200
        assert f'data-id="{mine.pk}"' in waiting.text
        assert "<html" not in waiting.text  # the results partial
        assert f'data-id="{mine.pk}"' not in client.get(url, {"who": "waiting"}).text
        by_flag = client.get(url, {"flag": "sample_other"}).text
        assert f'data-id="{mine.pk}"' not in by_flag

    def test_the_policy_form_names_the_field_and_saves_audited(self, author) -> None:
        client = signed_in(author)
        url = reverse("flags:approval_policy")
        bad = client.post(url, {"dev": "0", "staging": "9", "prod": "1"}, **HTMX)
        assert bad.status_code == 400
        assert "staging: from 0 to 5" in bad.text
        assert not AuditEvent.objects.filter(action="flags.approval_policy_changed").exists()
        with watch_audit() as log:
            good = client.post(url, {"dev": "0", "staging": "2", "prod": "1"})
        assert good.status_code == 303
        log.one("flags.approval_policy_changed", actor=author)


class TestDetail:
    def test_the_author_sees_why_they_cannot_approve(self, author) -> None:
        request = proposed(author)
        html = signed_in(author).get(detail_url(request)).text
        assert "You wrote it; another operator approves it." in html
        assert "Prod needs 1 approval; it has 0." in html
        assert 'data-testid="cr-diff"' in html

    def test_a_posted_approve_by_the_author_is_a_403_with_a_sentence(self, author) -> None:
        request = proposed(author)
        response = signed_in(author).post(detail_url(request, "approve"), **HTMX)
        assert response.status_code == 403
        assert "another operator has to approve it" in response.text

    def test_approve_then_apply(self, author, reviewer) -> None:
        request = proposed(author)
        client = signed_in(reviewer)
        assert client.get(detail_url(request, "apply")).status_code == 200  # confirm page
        approved = client.post(detail_url(request, "approve"))
        assert approved.status_code == 303 and approved["Location"] == detail_url(request)
        applied = signed_in(author).post(detail_url(request, "apply"), **HTMX)
        assert applied.status_code == 200
        assert "is now version 2" in applied.text
        assert Flag.objects.get(key="sample_beta").state == "on"

    def test_apply_on_a_newer_flag_shows_the_conflict(self, author, reviewer) -> None:
        first = proposed(author)
        second = proposed(author, pct=40)
        for request in (first, second):
            cr.change_request_approve(request_id=request.pk, actor=reviewer)
        cr.change_request_apply(request_id=first.pk, actor=reviewer)
        response = signed_in(reviewer).post(detail_url(second, "apply"), **HTMX)
        assert response.status_code == 409
        assert 'data-testid="cr-conflict"' in response.text
        assert "Changed since version 1 (now version 2)" in response.text

    def test_an_edit_drops_the_approvals(self, author, reviewer) -> None:
        request = proposed(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        response = signed_in(author).post(
            detail_url(request, "edit"), {"title": "Beta at 10 %", "state": "rollout", "pct": "10"}
        )
        assert response.status_code == 303
        request.refresh_from_db()
        assert request.title == "Beta at 10 %" and not request.approvals.exists()

    def test_a_bad_edit_names_the_field(self, author) -> None:
        request = proposed(author)
        response = signed_in(author).post(
            detail_url(request, "edit"), {"title": "x", "state": "on", "pct": "300"}, **HTMX
        )
        assert response.status_code == 400
        assert "Rollout %: Ensure this value is less than or equal to 100." in response.text


class TestApi:
    def test_propose_approve_apply_through_the_api(self, author, reviewer) -> None:
        FlagFactory(key="sample_beta")
        made = signed_in(author).post(
            "/api/flags/sample_beta/change-requests/",
            {"state": "on", "title": "Beta on", "version": 1},
            content_type="application/json",
        )
        assert made.status_code == 201
        request_id = made.json()["id"]
        base = f"/api/flags/change-requests/{request_id}/"
        refused = signed_in(author).post(base + "approve/")
        assert refused.status_code == 403
        assert "another operator" in refused.json()["detail"]
        assert signed_in(reviewer).post(base + "approve/").json()["state"] == "approved"
        applied = signed_in(author).post(base + "apply/")
        assert applied.status_code == 200 and applied.json()["applied_version"] == 2
        listed = signed_in(author).get("/api/flags/sample_beta/change-requests/?state=applied")
        assert [r["id"] for r in listed.json()["results"]] == [request_id]

    def test_the_api_edit_drops_approvals_and_validates(self, author, reviewer) -> None:
        request = proposed(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        base = f"/api/flags/change-requests/{request.pk}/"
        bad = signed_in(author).patch(base, {"pct": 300}, content_type="application/json")
        assert bad.status_code == 400 and "pct" in bad.json()
        good = signed_in(author).patch(base, {"pct": 5}, content_type="application/json")
        assert good.status_code == 200
        assert good.json()["approvals"] == [] and good.json()["state"] == "open"

    def test_a_service_token_cannot_write(self, author) -> None:
        request = proposed(author)
        anonymous = Client()
        response = anonymous.post(f"/api/flags/change-requests/{request.pk}/apply/")
        assert response.status_code in (401, 403)
        assert FlagChangeRequest.objects.get().state == "open"


class TestNotification:
    def test_other_operators_are_told_it_waits_the_author_is_not(self, author, reviewer):
        request = proposed(author)
        items = notifications.notification_list(reviewer).items
        assert [n.title for n in items] == ["Change request waits for your approval"]
        assert items[0].url == detail_url(request)
        assert notifications.notification_list(author).items == []

    def test_a_request_that_needs_no_approval_does_not_notify(self, author, reviewer):
        FlagFactory(key="sample_beta", scope_environments=["dev"])
        cr.change_request_create(key="sample_beta", actor=author, state="on")
        assert notifications.notification_list(reviewer).items == []
