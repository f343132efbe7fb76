"""Four eyes in a real browser: one operator proposes a prod change from the flag's
panel, a second operator (another browser context) approves it, then it is applied.
Each page passes axe, and focus lands on the outcome after each swap."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from flags.models import ApprovalPolicy, Flag, FlagChangeRequest
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.flags.factories import FlagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operators():
    author = User.objects.create_user(
        "pat.rivera@northwind.example", "sample pass phrase", name="Pat Rivera",
        platform_admin=True,
    )  # fmt: skip
    reviewer = User.objects.create_user(
        "sam.okafor@northwind.example", "sample pass phrase", name="Sam Okafor",
        platform_admin=True,
    )  # fmt: skip
    ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
    FlagFactory(key="sample_beta")
    return author, reviewer


def test_propose_approve_and_apply_across_two_operators(operators, new_page, live_server):
    require_axe()
    author, reviewer = operators

    # Pat proposes from the panel: the button says why it is a proposal.
    page = signed_in_opener(new_page, live_server, author)(bypass_csp=True)
    page.goto(f"{live_server.url}/flags/sample_beta/")
    panel = page.get_by_test_id("flag-panel-sample_beta")
    expect(panel.get_by_test_id("save-needs-approval")).to_contain_text("Prod needs 1 approval")
    panel.locator(".segment-on").click()
    save = panel.get_by_test_id("save-flag")
    expect(save).to_have_text(re.compile("Propose change"))
    save.click()
    open_request = page.get_by_test_id("flag-open-request")
    expect(open_request).to_be_visible()
    assert Flag.objects.get(key="sample_beta").state == "off"
    request = FlagChangeRequest.objects.get()
    assert serious_violations(page) == []

    open_request.click()
    expect(page.get_by_test_id("cr-approve-why")).to_have_text(
        "You wrote it; another operator approves it."
    )
    assert serious_violations(page) == []

    # Sam, in another browser context, approves it.
    other = signed_in_opener(new_page, live_server, reviewer)(bypass_csp=True)
    other.goto(f"{live_server.url}/flags/change-requests/")
    expect(other.get_by_test_id("cr-row")).to_have_count(1)
    assert serious_violations(other) == []
    other.get_by_test_id("cr-row").get_by_role("link").click()
    other.get_by_test_id("cr-approve").click()
    dialog = other.get_by_test_id("cr-approve-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("cr-approve-dialog-confirm").click()
    expect(other.get_by_test_id("cr-state")).to_contain_text("Approved (ready)")
    expect(other.locator("#page-title")).to_be_focused()
    assert serious_violations(other) == []

    # Pat applies it.
    page.reload()
    page.get_by_test_id("cr-apply").click()
    page.get_by_test_id("cr-apply-dialog-confirm").click()
    expect(page.get_by_test_id("cr-state")).to_contain_text("Applied")
    expect(page.locator("#page-title")).to_be_focused()
    flag = Flag.objects.get(key="sample_beta")
    assert (flag.state, flag.version) == ("on", 2)
    request.refresh_from_db()
    assert request.state == "applied"


def test_the_author_sees_a_refusal_in_place_when_approving_by_url(operators, new_page, live_server):
    author, _ = operators
    from flags import change_requests as cr

    request = cr.flag_change(key="sample_beta", actor=author, state="on").change_request
    page = signed_in_opener(new_page, live_server, author)()
    page.goto(f"{live_server.url}/flags/change-requests/{request.pk}/approve/")
    page.get_by_test_id("cr-approve-dialog-confirm").click()
    expect(page.get_by_test_id("cr-error")).to_contain_text("another operator has to approve it")


def test_reject_with_a_reason_in_the_dialog_and_on_the_confirm_page(
    operators, new_page, live_server
):
    require_axe()
    author, reviewer = operators
    from flags import change_requests as cr

    first = cr.flag_change(key="sample_beta", actor=author, state="on").change_request
    page = signed_in_opener(new_page, live_server, reviewer)(bypass_csp=True)
    page.goto(f"{live_server.url}/flags/change-requests/{first.pk}/")
    page.get_by_test_id("cr-reject").click()
    dialog = page.get_by_test_id("cr-reject-dialog")
    expect(dialog).to_be_visible()
    reason = dialog.get_by_test_id("cr-reject-dialog-reason")
    expect(reason).to_be_focused()
    expect(dialog.get_by_test_id("cr-reject-dialog-reason-count")).to_have_text("0 / 500")
    reason.press_sequentially("Prod freeze")
    expect(dialog.get_by_test_id("cr-reject-dialog-reason-count")).to_have_text("11 / 500")
    assert serious_violations(page, "#cr-reject-dialog") == []
    dialog.get_by_test_id("cr-reject-dialog-confirm").click()
    expect(page.get_by_test_id("cr-state")).to_contain_text("Rejected")
    expect(page.get_by_test_id("cr-reason")).to_contain_text("Prod freeze")
    expect(page.locator("#page-title")).to_be_focused()
    assert serious_violations(page) == []

    # Without JavaScript the Reject link is the confirm page, with the same field.
    second = cr.change_request_create(key="sample_beta", actor=author, pct=40)
    plain = signed_in_opener(new_page, live_server, reviewer)(java_script_enabled=False)
    plain.goto(f"{live_server.url}/flags/change-requests/{second.pk}/")
    plain.get_by_test_id("cr-reject").click()
    expect(plain.get_by_test_id("confirm-page")).to_be_visible()
    plain.get_by_label("Reason (optional)").fill("Needs a dev trial first")
    plain.get_by_test_id("cr-reject-dialog-confirm").click()
    expect(plain.get_by_test_id("cr-reason")).to_contain_text("Needs a dev trial first")
    assert FlagChangeRequest.objects.get(pk=second.pk).state == "rejected"


def test_the_author_edits_the_scope_on_a_phone(operators, new_page, live_server):
    require_axe()
    author, _ = operators
    from flags import change_requests as cr

    request = cr.flag_change(key="sample_beta", actor=author, state="on").change_request
    page = signed_in_opener(new_page, live_server, author)(
        bypass_csp=True, viewport={"width": 390, "height": 844}
    )
    page.goto(f"{live_server.url}/flags/change-requests/{request.pk}/")
    page.get_by_test_id("cr-edit-open").click()
    form = page.get_by_test_id("cr-edit-form")
    expect(page.get_by_test_id("cr-edit-title")).to_be_focused()
    assert serious_violations(page, "[data-testid='cr-edit-form']") == []
    form.get_by_label("staging").check()
    form.get_by_label("prod").check()
    form.get_by_test_id("cr-edit-tenants").fill("northwind, contoso")
    form.get_by_test_id("cr-edit-save").click()
    expect(page.get_by_test_id("cr-diff")).to_contain_text("staging, prod")
    expect(page.get_by_test_id("cr-diff")).to_contain_text("northwind, contoso")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    request.refresh_from_db()
    assert request.changes["scope_environments"]["after"] == ["staging", "prod"]
