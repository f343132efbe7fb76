"""The change-request pages, the flag panel's four-eyes parts, the change-requests
API, and the notification that a request waits for approval."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
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
        assert "Rollout %: must be between 0 and 100" in response.text


def edit_post(**fields: object) -> dict[str, object]:
    """What the edit form sends with nothing touched but `fields`."""
    return {
        "title": "Beta",
        "description": "",
        "state": "off",
        "pct": "0",
        "scope_tenant_slugs": "",
        "scope_partner_slugs": "",
        **fields,
    }


class TestEdit:
    def test_the_form_has_every_field_filled_from_the_request_then_the_flag(self, author):
        FlagFactory(
            key="sample_beta", description="Beta checkout", scope_plans=["business"],
            scope_tenant_slugs=["northwind", "contoso"],
        )  # fmt: skip
        request = proposed(author, state="rollout", pct=30, scope_environments=["prod"])
        html = signed_in(author).get(detail_url(request), {"edit": "1"}).text
        assert 'data-testid="cr-edit-form"' in html
        assert ">\nBeta checkout</textarea>" in html  # the flag's, not changed
        assert '<option value="rollout" selected>' in html
        assert 'id="cr-edit-pct"' in html and 'value="30"' in html
        assert re.search(r'name="scope_plans" value="business" checked', html)
        assert not re.search(r'name="scope_plans" value="starter" checked', html)
        assert re.search(r'name="scope_environments" value="prod" checked', html)
        assert not re.search(r'name="scope_environments" value="dev" checked', html)
        assert 'name="scope_tenant_slugs" value="northwind, contoso"' in html
        assert "Scope and description changes are proposed from the flag" not in html

    def test_an_edit_can_change_the_scope_and_description(self, author, reviewer) -> None:
        FlagFactory(key="sample_beta")
        request = proposed(author)
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        with watch_audit() as log:
            response = signed_in(author).post(
                detail_url(request, "edit"),
                edit_post(
                    state="on", description="Beta for two\r\ncustomers",
                    scope_plans=["business", "enterprise"], scope_environments=["dev", "prod"],
                    scope_tenant_slugs="northwind, contoso  northwind",
                    scope_partner_slugs="fabrikam",
                ),
            )  # fmt: skip
        assert response.status_code == 303
        event = log.one("flags.change_request_edited", actor=author)
        assert event.metadata["approvals_dropped"] == [reviewer.email]
        request.refresh_from_db()
        assert {f: c["after"] for f, c in request.changes.items()} == {
            "state": "on",
            "description": "Beta for two\ncustomers",
            "scope_plans": ["business", "enterprise"],
            "scope_environments": ["dev", "prod"],
            "scope_tenant_slugs": ["northwind", "contoso"],
            "scope_partner_slugs": ["fabrikam"],
        }
        assert not request.approvals.exists() and request.state == "open"
        assert Flag.objects.get(key="sample_beta").scope_tenant_slugs == []

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            (
                {"scope_tenant_slugs": "northwind Not_A_Slug"},
                "Tenants: Not_A_Slug is not a slug",
            ),
            ({"scope_plans": ["platinum"]}, "Plans: Select a valid choice. platinum"),
            ({"scope_environments": ["moon"]}, "Environments: Select a valid choice. moon"),
            ({"state": "sometimes"}, "State: Select a valid choice. sometimes"),
        ],
    )
    def test_a_bad_value_names_its_field_and_changes_nothing(self, author, fields, message):
        request = proposed(author)
        with watch_audit() as log:
            response = signed_in(author).post(
                detail_url(request, "edit"), edit_post(**fields), **HTMX
            )
        assert response.status_code == 400
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        log.none()
        assert FlagChangeRequest.objects.get().changes == request.changes

    def test_an_edit_that_changes_nothing_says_so_on_the_form(self, author) -> None:
        request = proposed(author)
        unchanged = edit_post(description=request.flag.description)
        response = signed_in(author).post(detail_url(request, "edit"), unchanged, **HTMX)
        assert response.status_code == 422
        assert "Nothing would change" in response.text
        assert 'data-testid="cr-edit-errors"' in response.text


class TestRejectReason:
    def test_the_dialog_and_the_confirm_page_ask_for_a_reason(self, author, reviewer):
        request = proposed(author)
        client = signed_in(reviewer)
        dialog = client.get(detail_url(request)).text
        assert 'data-testid="cr-reject-dialog-reason"' in dialog
        page = client.get(detail_url(request, "reject"))
        assert page.status_code == 200
        assert 'data-testid="confirm-page"' in page.text
        assert re.search(r'<textarea[^>]*name="reason"[^>]*maxlength="500"', page.text)
        assert "At most 500 characters." in page.text
        approve = client.get(detail_url(request, "approve")).text
        assert "<textarea" not in approve  # only Reject asks for a text

    def test_a_rejection_keeps_the_reason_and_the_page_shows_it(self, author, reviewer):
        request = proposed(author)
        with watch_audit() as log:
            response = signed_in(reviewer).post(
                detail_url(request, "reject"), {"reason": "Prod freeze\r\nuntil Monday"}
            )
        assert response.status_code == 303
        assert log.one("flags.change_rejected", actor=reviewer).metadata["reason"] == (
            "Prod freeze\nuntil Monday"
        )
        html = signed_in(author).get(detail_url(request)).text
        assert 'data-testid="cr-reason"' in html
        assert "Why it was rejected" in html and "Prod freeze<br>until Monday" in html

    def test_line_breaks_count_as_one_character_as_the_browser_counts_them(
        self, author, reviewer
    ) -> None:
        request = proposed(author)
        reason = "ab\r\n" * 166 + "ab"  # 500 characters once \r\n is one
        response = signed_in(reviewer).post(detail_url(request, "reject"), {"reason": reason})
        assert response.status_code == 303
        assert len(FlagChangeRequest.objects.get().reason) == 500

    def test_a_reason_over_500_characters_is_refused_on_the_confirm_page(
        self, author, reviewer
    ) -> None:
        request = proposed(author)
        with watch_audit() as log:
            response = signed_in(reviewer).post(
                detail_url(request, "reject"), {"reason": "x" * 501}
            )
        assert response.status_code == 400
        assert 'data-testid="confirm-page"' in response.text
        assert "Reason (optional): at most 500 characters (this has 501)." in response.text
        assert ">\n" + "x" * 501 + "</textarea>" in response.text  # kept to shorten
        log.none()
        assert FlagChangeRequest.objects.get().state == "open"

    def test_with_htmx_a_long_reason_is_refused_on_the_request(self, author, reviewer) -> None:
        request = proposed(author)
        response = signed_in(reviewer).post(
            detail_url(request, "reject"), {"reason": "x" * 501}, **HTMX
        )
        assert response.status_code == 400
        assert 'data-testid="cr-error"' in response.text
        assert "Reason: at most 500 characters (this has 501)." in response.text
        assert FlagChangeRequest.objects.get().state == "open"


class TestDiffTable:
    def test_a_stale_request_and_a_stale_save_share_one_table(self, author, reviewer) -> None:
        first = proposed(author)
        second = proposed(author, pct=40)
        for request in (first, second):
            cr.change_request_approve(request_id=request.pk, actor=reviewer)
        cr.change_request_apply(request_id=first.pk, actor=reviewer)
        html = signed_in(reviewer).post(detail_url(second, "apply"), **HTMX).text
        headings = re.findall(r'<th scope="col">([^<]*)</th>', html)
        assert headings[:4] == ["Field", "Request started from", "Now", "Request"]
        assert '<table class="conflict-table">' in html

        conflict = SimpleNamespace(
            summary="Changed", submitted_version=1, current_version=2, entries=[], older=0,
            rows=[SimpleNamespace(
                label="State", started="off", theirs="on", yours="rollout", clash=True,
                they_changed=True, you_changed=True,
            )],
        )  # fmt: skip
        panel = render_to_string("flags/conflict.html", {"conflict": conflict})
        assert re.findall(r'<th scope="col">([^<]*)</th>', panel) == [
            "Field", "You started from", "Now", "Yours"
        ]  # fmt: skip
        assert '<tr class="is-clash">' in panel and "both changed" in panel
        assert '<td class="conflict-value is-changed">on</td>' in panel


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
