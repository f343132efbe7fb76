"""A panel save that turns tenants on or off in prod is shown before it is written:
the diff and who flips, then "Save anyway" (bound to what was shown) or "Back to
editing". Saves that flip nobody in prod, proposals and the kill switch never ask."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from flags import services
from flags.models import ApprovalPolicy, Flag, FlagChangeRequest, FlagState
from flags.save_confirmation import save_confirmation
from tests.audit_helpers import watch_audit
from tests.flags.test_views import save_form
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KEY = "jmap_native_v2"
SHELL = '<aside class="sidebar"'
SAVE_URL = reverse("flags:save", args=[KEY])


@pytest.fixture
def tenants() -> list:
    """Three live tenants (two on the business plan) and one deleted, which never counts."""
    return [
        TenantFactory(slug="northwind-bakery", plan="business"),
        TenantFactory(slug="harbor-freight-co", plan="business"),
        TenantFactory(slug="juniper-dental", plan="starter"),
        TenantFactory(slug="closed-co", plan="business", status="deleted"),
    ]


def token_of(html: str) -> str:
    found = re.search(r'name="confirm_token" value="([0-9a-f]+)"', html)
    assert found, "no Save anyway button"
    return found.group(1)


def confirm_view(html: str) -> str:
    assert 'data-testid="save-confirm"' in html, "no confirmation shown"
    return html.split('data-testid="save-confirm"')[1].split("</section>")[0]


class TestTheFirstSaveAsks:
    def test_it_writes_nothing_and_shows_the_diff_and_who_flips(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(
                SAVE_URL,
                save_form(flag, state="targeted", scope_plans=["business"], description="Native"),
                **HTMX,
            )
        assert response.status_code == 200
        audit.none()
        assert Flag.objects.get(key=KEY).version == 1
        view = confirm_view(response.text)
        prod = re.sub(r"<[^>]+>", "", view.split('data-testid="save-confirm-prod">')[1])
        assert prod.startswith("2 tenants turn on, 0 turn off in prod.")
        # Every other environment's counts too (the flag has no environments list).
        assert (
            'data-testid="save-confirm-flips-staging">staging: <span class="tabular">2</span>'
            in view
        )
        # The exact diff: field, before, after, in the words of the history.
        state = view.split('data-testid="save-confirm-line-state">')[1].split("</tr>")[0]
        assert re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", state) == ["State", "off", "targeted"]
        plans = view.split('data-testid="save-confirm-line-scope_plans">')[1].split("</tr>")[0]
        assert re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", plans) == ["Plans", "none", "business"]
        assert 'data-testid="save-confirm-line-description"' in view
        assert 'data-testid="save-confirm-line-pct"' not in view  # unchanged: not listed
        # The heading takes the focus after the swap, not the panel's title.
        assert 'id="save-confirm-title" tabindex="-1" data-swap-focus' in view
        assert 'id="flag-panel-title" tabindex="-1">' in response.text
        # Nothing is lost: the values ride along, Back to editing is there, no toast.
        assert '<input type="hidden" name="state" value="targeted"' in view
        assert '<input type="hidden" name="scope_plans" value="business"' in view
        assert 'name="expected_version" value="1"' in response.text
        assert 'data-testid="save-confirm-back"' in response.text
        assert 'data-testid="toast"' not in response.text

    def test_one_tenant_is_counted_in_the_singular(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            SAVE_URL,
            save_form(flag, state="targeted", scope_tenant_slugs=["juniper-dental"]),
            **HTMX,
        )
        assert "tenant turns on, <strong" in confirm_view(response.text)

    def test_a_flag_turned_off_counts_who_turns_off(self, operator_client, tenants):
        services.flag_update(key=KEY, actor=None, state=FlagState.ON, description="")
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            SAVE_URL, save_form(flag, state="targeted", scope_plans=["starter"]), **HTMX
        )
        view = confirm_view(response.text)
        assert re.sub(r"<[^>]+>", "", view).count("0 tenants turn on, 2 turn off in prod.") == 1
        assert Flag.objects.get(key=KEY).state == FlagState.ON

    def test_other_environments_say_when_nobody_changes_there(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            SAVE_URL,
            save_form(
                flag,
                state="targeted",
                scope_plans=["business"],
                scope_environments=["prod", "staging"],
            ),
            **HTMX,
        )
        view = confirm_view(response.text)
        assert 'data-testid="save-confirm-flips-dev">dev: no tenant changes</li>' in view
        assert 'data-testid="save-confirm-flips-staging">staging: <span class="tabular">2' in view

    def test_without_javascript_it_is_the_whole_page(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(SAVE_URL + "?q=v2", save_form(flag, state="on"))
        assert response.status_code == 200
        assert SHELL in response.text
        assert 'name="q" value="v2"' in response.text
        assert "3 tenants turn on" in re.sub(r"<[^>]+>", "", confirm_view(response.text))
        assert Flag.objects.get(key=KEY).version == 1


class TestSaveAnyway:
    def test_the_confirmed_save_writes_once_with_one_audit_event(
        self, operator_client, operator, tenants
    ):
        flag = Flag.objects.get(key=KEY)
        data = save_form(flag, state="on")
        token = token_of(operator_client.post(SAVE_URL, data, **HTMX).text)
        with watch_audit() as audit:
            response = operator_client.post(SAVE_URL, {**data, "confirm_token": token}, **HTMX)
        assert response.status_code == 200
        audit.one("flag.updated", actor=operator)
        flag.refresh_from_db()
        assert (flag.state, flag.version) == (FlagState.ON, 2)
        assert "Saved jmap_native_v2 (version 2)" in response.text
        assert 'data-testid="save-confirm"' not in response.text

    def test_without_javascript_the_confirmed_save_redirects(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        data = save_form(flag, state="on")
        token = token_of(operator_client.post(SAVE_URL + "?q=v2", data).text)
        response = operator_client.post(SAVE_URL + "?q=v2", {**data, "confirm_token": token})
        assert response.status_code == 303
        assert response.url == reverse("flags:detail", args=[KEY]) + "?q=v2"
        assert Flag.objects.get(key=KEY).state == FlagState.ON

    def test_a_token_of_other_values_asks_again(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        token = token_of(operator_client.post(SAVE_URL, save_form(flag, state="on"), **HTMX).text)
        data = save_form(flag, state="rollout", pct=100)
        with watch_audit() as audit:
            response = operator_client.post(SAVE_URL, {**data, "confirm_token": token}, **HTMX)
        audit.none()
        assert response.status_code == 200
        confirm_view(response.text)
        assert token_of(response.text) != token
        assert Flag.objects.get(key=KEY).version == 1

    def test_a_made_up_token_asks_again(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        data = {**save_form(flag, state="on"), "confirm_token": "0" * 64}
        response = operator_client.post(SAVE_URL, data, **HTMX)
        confirm_view(response.text)
        assert Flag.objects.get(key=KEY).version == 1

    def test_a_change_made_meanwhile_is_the_conflict_and_writes_nothing(
        self, operator_client, tenants
    ):
        flag = Flag.objects.get(key=KEY)
        data = save_form(flag, state="on")
        token = token_of(operator_client.post(SAVE_URL, data, **HTMX).text)
        services.flag_update(key=KEY, actor=None, description="Changed by someone else")
        with watch_audit() as audit:
            response = operator_client.post(SAVE_URL, {**data, "confirm_token": token}, **HTMX)
        audit.none()
        assert response.status_code == 409
        assert 'data-testid="conflict"' in response.text
        assert "You started from version 1; it is now version 2" in response.text
        assert Flag.objects.get(key=KEY).state == FlagState.OFF

    def test_applying_on_top_after_a_conflict_is_shown_again_for_the_new_version(
        self, operator_client, tenants
    ):
        flag = Flag.objects.get(key=KEY)
        services.flag_update(key=KEY, actor=None, description="Changed by someone else")
        data = save_form(flag, state="on", overwrite_version=2)
        response = operator_client.post(SAVE_URL, data, **HTMX)
        view = confirm_view(response.text)
        assert "Now (version 2)" in view
        assert '<input type="hidden" name="overwrite_version" value="2"' in view
        token = token_of(response.text)
        operator_client.post(SAVE_URL, {**data, "confirm_token": token}, **HTMX)
        flag.refresh_from_db()
        assert (flag.state, flag.description, flag.version) == ("on", "Changed by someone else", 3)


class TestBackToEditing:
    def test_it_gives_the_form_back_as_typed_and_writes_nothing(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        data = save_form(flag, state="targeted", scope_plans=["business"], description="Typed")
        token_of(operator_client.post(SAVE_URL, data, **HTMX).text)
        with watch_audit() as audit:
            response = operator_client.post(SAVE_URL, {**data, "back_to_editing": "true"}, **HTMX)
        audit.none()
        assert response.status_code == 200
        html = response.text
        assert 'data-testid="save-confirm"' not in html
        assert re.search(r'value="targeted" data-track data-rule\s+checked', html)
        assert re.search(r'value="business" data-track data-rule checked', html)
        assert ">Typed</textarea>" in html
        assert "Unsaved changes" in html
        assert 'data-testid="save-flag"' in html
        assert Flag.objects.get(key=KEY).version == 1


class TestNoQuestion:
    def test_a_save_that_flips_nobody_in_prod_is_written_at_once(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        # Targeted at dev and staging only: tenants flip there, none in prod.
        data = save_form(flag, state="rollout", pct=100, scope_environments=["dev", "staging"])
        response = operator_client.post(SAVE_URL, data, **HTMX)
        assert 'data-testid="save-confirm"' not in response.text
        assert Flag.objects.get(key=KEY).state == FlagState.ROLLOUT

    def test_a_description_alone_is_written_at_once(self, operator_client, tenants):
        flag = Flag.objects.get(key=KEY)
        operator_client.post(SAVE_URL, save_form(flag, description="Native JMAP"), **HTMX)
        assert Flag.objects.get(key=KEY).description == "Native JMAP"

    def test_without_live_tenants_nobody_flips(self, operator_client):
        flag = Flag.objects.get(key=KEY)
        operator_client.post(SAVE_URL, save_form(flag, state="on"), **HTMX)
        assert Flag.objects.get(key=KEY).state == FlagState.ON

    def test_a_proposal_is_made_without_asking(self, operator_client, tenants):
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(SAVE_URL, save_form(flag, state="on"), **HTMX)
        assert 'data-testid="save-confirm"' not in response.text
        assert "Proposed change request" in response.text
        assert FlagChangeRequest.objects.filter(flag=flag).count() == 1
        assert Flag.objects.get(key=KEY).state == FlagState.OFF

    def test_a_save_that_is_the_kill_switch_never_waits(self, operator_client, tenants, operator):
        services.flag_update(key=KEY, actor=None, state=FlagState.ROLLOUT, pct=100)
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(SAVE_URL, save_form(flag, state="off", pct=0), **HTMX)
        assert 'data-testid="save-confirm"' not in response.text
        event = audit.one("flag.killed", actor=operator)
        assert event.metadata["kill_switch"] is True
        assert Flag.objects.get(key=KEY).state == FlagState.OFF

    def test_the_kill_switch_button_never_waits(self, operator_client, tenants):
        services.flag_update(key=KEY, actor=None, state=FlagState.ON)
        response = operator_client.post(reverse("flags:kill", args=[KEY]), **HTMX)
        assert 'data-testid="save-confirm"' not in response.text
        assert Flag.objects.get(key=KEY).state == FlagState.OFF

    def test_turning_off_but_keeping_the_rollout_is_not_the_kill_switch(
        self, operator_client, tenants
    ):
        services.flag_update(key=KEY, actor=None, state=FlagState.ROLLOUT, pct=100)
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(SAVE_URL, save_form(flag, state="off"), **HTMX)
        assert "turn off in prod" in re.sub(r"<[^>]+>", "", confirm_view(response.text))
        assert Flag.objects.get(key=KEY).state == FlagState.ROLLOUT


class TestTheConfirmation:
    def test_it_is_bound_to_the_version_and_the_diff(self, tenants):
        flag = Flag.objects.get(key=KEY)
        first = save_confirmation(flag, version=1, changes={"state": "on"})
        again = save_confirmation(flag, version=1, changes={"state": "on"})
        other = save_confirmation(flag, version=1, changes={"state": "rollout", "pct": 100})
        assert first is not None and again is not None and other is not None
        assert first.accepts(again.token)
        assert not first.accepts(other.token)
        assert not first.accepts("")
        assert not first.accepts(None)
        services.flag_update(key=KEY, actor=None, description="Changed")
        flag.refresh_from_db()
        later = save_confirmation(flag, version=2, changes={"state": "on"})
        assert later is not None and not first.accepts(later.token)
        # Checked against an older version, the save is a conflict: nothing to confirm.
        assert save_confirmation(flag, version=1, changes={"state": "on"}) is None

    def test_it_counts_against_the_flag_as_saved_now(self, tenants):
        services.flag_update(
            key=KEY, actor=None, state=FlagState.TARGETED, scope_plans=["business"]
        )
        flag = Flag.objects.get(key=KEY)
        found = save_confirmation(flag, version=2, changes={"state": "on"})
        assert found is not None
        assert (found.prod.turned_on, found.prod.turned_off) == (1, 0)
        assert [f.environment for f in found.flips] == ["prod", "staging", "dev"]
