"""The flags pages: list, search and sort, the side panel, every URL a swap pushes as
a whole page, saving with conflicts, the kill switch, creating and deleting, the live
key check, scope pickers and the preview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from flags import services
from flags.models import Flag, FlagState, RetiredFlagKey
from tenants.models import TenantStatus
from tests.audit_helpers import watch_audit
from tests.flags.factories import FlagFactory
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KEY = "jmap_native_v2"
SHELL = '<aside class="sidebar"'


def htmx(target: str = "", current_url: str = "") -> dict[str, str]:
    """The headers htmx sends: a swap into `target`, from the page at `current_url`."""
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    if current_url:
        headers["HTTP_HX_CURRENT_URL"] = f"http://testserver{current_url}"
    return headers


def row_keys(html: str) -> list[str]:
    return re.findall(r'<tr id="flag-row-([a-z0-9_]+)"', html)


def count_text(html: str) -> str:
    found = re.search(r'data-testid="result-count"><span class="tabular">(\d+)</span> (\w+)', html)
    assert found, "no result count"
    return f"{found.group(1)} {found.group(2)}"


def save_form(flag: Flag, **overrides) -> dict:
    """What the panel posts: the visible values and hidden copies of where it started."""
    values = {
        "description": flag.description,
        "state": flag.state,
        "pct": flag.pct,
        "scope_plans": list(flag.scope_plans),
        "scope_tenant_slugs": list(flag.scope_tenant_slugs),
        "scope_partner_slugs": list(flag.scope_partner_slugs),
        "scope_environments": list(flag.scope_environments),
    }
    data = {f"base-{name}": value for name, value in values.items()}
    data.update(values)
    data["expected_version"] = flag.version
    data.update(overrides)
    return data


class TestList:
    def test_shows_every_flag_with_state_and_scope(self, operator_client) -> None:
        services.flag_update(
            key=KEY, actor=None, state=FlagState.TARGETED, scope_plans=["business"]
        )
        response = operator_client.get(reverse("flags:list"))
        assert response.status_code == 200
        assert response.text.count('class="flag-row"') == Flag.objects.count() == 10
        assert 'id="flag-row-jmap_native_v2"' in response.text
        assert "business" in response.text
        assert count_text(response.text) == "10 flags"

    def test_search_as_htmx_answers_only_the_list_region(self, operator_client) -> None:
        response = operator_client.get(
            reverse("flags:list"), {"q": "billing"}, **htmx("flag-results")
        )
        assert response.status_code == 200
        assert "<html" not in response.text
        assert SHELL not in response.text
        assert row_keys(response.text) == ["new_billing_engine"]
        assert count_text(response.text) == "1 flag"
        # The count is the live region; the table is not.
        assert 'role="status" data-testid="result-count"' in response.text
        assert "aria-live" not in response.text.split('id="flag-rows"')[1]

    def test_a_search_matching_nothing_says_so(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:list"), {"q": "zzz-nothing"}, **HTMX)
        assert "No flag matches “zzz-nothing”." in response.text
        assert 'data-testid="empty"' in response.text

    def test_fragments_vary_on_htmx_and_are_never_cached(self, operator_client) -> None:
        for url, target in [
            (reverse("flags:list") + "?q=sso", "flag-results"),
            (reverse("flags:detail", args=[KEY]), "flag-panel"),
            (reverse("flags:detail", args=[KEY]) + "?sort=-state", "flag-results"),
        ]:
            fragment = operator_client.get(url, **htmx(target))
            assert "HX-Request" in fragment["Vary"], url
            assert fragment["Cache-Control"] == "no-store", url
            page = operator_client.get(url)
            assert "HX-Request" in page["Vary"], url
            assert page["Cache-Control"] == "private, no-store", url

    def test_query_count_is_flat_in_the_number_of_flags(
        self, operator_client, django_assert_num_queries
    ) -> None:
        operator_client.get(reverse("flags:list"))  # the session, warmed
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            operator_client.get(reverse("flags:list"), {"sort": "-changed"})
        for _ in range(40):
            FlagFactory()
        with django_assert_num_queries(len(few.captured_queries)):
            response = operator_client.get(reverse("flags:list"), {"sort": "-changed"})
        assert response.text.count('class="flag-row"') == 50


class TestSort:
    def _keys(self, client, sort: str, **headers: str) -> list[str]:
        response = client.get(reverse("flags:list"), {"sort": sort}, **headers)
        assert response.status_code == 200
        return row_keys(response.text)

    def test_by_key_is_the_default_and_goes_both_ways(self, operator_client) -> None:
        keys = sorted(Flag.objects.values_list("key", flat=True))
        assert self._keys(operator_client, "") == keys
        assert self._keys(operator_client, "key") == keys
        assert self._keys(operator_client, "-key") == keys[::-1]

    def test_by_state_in_the_order_operators_read_them(self, operator_client) -> None:
        services.flag_update(key="saml_sso", actor=None, state=FlagState.ON)
        services.flag_update(key="audit_export", actor=None, state=FlagState.ROLLOUT, pct=5)
        services.flag_update(
            key="dmarc_reports", actor=None, state=FlagState.TARGETED, scope_plans=["business"]
        )
        keys = self._keys(operator_client, "state", **htmx("flag-results"))
        assert keys[-3:] == ["saml_sso", "dmarc_reports", "audit_export"]
        assert self._keys(operator_client, "-state")[:3] == [
            "audit_export",
            "dmarc_reports",
            "saml_sso",
        ]

    def test_by_rollout_share(self, operator_client) -> None:
        services.flag_update(key="saml_sso", actor=None, state=FlagState.ROLLOUT, pct=70)
        services.flag_update(key="audit_export", actor=None, state=FlagState.ROLLOUT, pct=5)
        # A share kept while the flag is off is not shown, so it does not sort as one.
        services.flag_update(key="dmarc_reports", actor=None, pct=99)
        keys = self._keys(operator_client, "-rollout")
        assert keys[:2] == ["saml_sso", "audit_export"]
        assert self._keys(operator_client, "rollout")[-2:] == ["audit_export", "saml_sso"]

    def test_by_last_change(self, operator_client) -> None:
        Flag.objects.update(updated_at=timezone.now() - timedelta(days=3))
        services.flag_update(key="passkey_login", actor=None, description="Newest change")
        keys = self._keys(operator_client, "-changed")
        assert keys[0] == "passkey_login"
        assert self._keys(operator_client, "changed")[-1] == "passkey_login"

    def test_the_sort_header_says_the_order_and_links_the_other_way(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:list"), {"sort": "-changed", "q": "v2"})
        assert 'aria-sort="descending"' in response.text
        assert 'href="/flags/?q=v2&amp;sort=changed"' in response.text
        # The search form sends the sort along, so a search keeps it.
        assert 'name="sort" value="-changed" form="list-search-form"' in response.text

    def test_an_unknown_sort_falls_back_to_the_key(self, operator_client) -> None:
        keys = sorted(Flag.objects.values_list("key", flat=True))
        assert self._keys(operator_client, "password") == keys


class TestPushedUrlsAreWholePages:
    """Every URL a swap pushes (search, sort, a flag's panel, closing it, after a
    create or a delete) is the whole page on a GET: Back, Forward and reload."""

    @pytest.mark.parametrize(
        ("url", "panel", "search"),
        [
            ("/flags/?q=sso", None, "sso"),
            ("/flags/?sort=-changed", None, ""),
            ("/flags/?q=v2&sort=-state", None, "v2"),
            (f"/flags/{KEY}/", KEY, ""),
            (f"/flags/{KEY}/?q=x&sort=-changed", KEY, "x"),
            (f"/flags/{KEY}/?q=jmap&sort=rollout", KEY, "jmap"),
        ],
    )
    def test_a_get_is_the_whole_page_in_that_state(
        self, operator_client, url: str, panel: str | None, search: str
    ) -> None:
        response = operator_client.get(url)
        assert response.status_code == 200
        html = response.text
        assert SHELL in html
        assert f'name="q" value="{search}"' in html
        assert 'id="flag-results"' in html
        if panel:
            assert f'data-testid="flag-panel-{panel}"' in html
        else:
            assert 'data-testid="flag-panel-' not in html

    def test_the_list_state_survives_the_panel(self, operator_client) -> None:
        matching = [
            flag.key
            for flag in Flag.objects.order_by("-key")
            if "v2" in flag.key or "v2" in flag.description.lower()
        ]
        html = operator_client.get(f"/flags/{KEY}/?q=v2&sort=-key").text
        assert len(matching) >= 2
        assert row_keys(html) == matching
        assert f'data-testid="flag-panel-{KEY}"' in html
        assert (
            f'id="flag-row-{KEY}" class="flag-row" data-flag-row="{KEY}" aria-selected="true"'
            in html
        )
        other = next(key for key in matching if key != KEY)
        # Row links keep the list's state, so opening another flag keeps it too.
        assert f'href="/flags/{other}/?q=v2&amp;sort=-key"' in html
        # Searching and sorting beside an open panel keep the panel in the URL.
        assert f'action="/flags/{KEY}/"' in html
        assert f'href="/flags/{KEY}/?q=v2"' in html  # key ascending: the default
        # The panel's forms carry the list back when posted without JavaScript.
        assert f'action="/flags/{KEY}/save/?q=v2&amp;sort=-key"' in html

    def test_a_search_beside_an_open_panel_answers_the_list_only(self, operator_client) -> None:
        response = operator_client.get(
            f"/flags/{KEY}/", {"q": "sso"}, **htmx("flag-results", f"/flags/{KEY}/")
        )
        assert response.status_code == 200
        assert SHELL not in response.text
        assert row_keys(response.text) == ["saml_sso"]
        assert 'data-testid="flag-panel-' not in response.text

    def test_new_1_opens_the_new_flag_dialog_on_load(self, operator_client) -> None:
        html = operator_client.get("/flags/?new=1").text
        assert re.search(r'id="new-flag-dialog"[^>]*data-dialog-open-on-load', html)
        plain = operator_client.get("/flags/").text
        assert "data-dialog-open-on-load" not in plain
        # The New flag button is a link there, for a new tab or without JavaScript.
        assert 'href="/flags/?new=1" role="button" data-dialog-open="new-flag-dialog"' in plain


class TestPanel:
    def test_the_detail_page_opens_the_panel_beside_the_list(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:detail", args=[KEY]))
        assert response.status_code == 200
        assert f'data-testid="flag-panel-{KEY}"' in response.text
        assert 'class="flag-row"' in response.text

    def test_htmx_gets_the_panel_alone_with_preview_and_history(self, operator_client) -> None:
        TenantFactory.create_batch(3)
        response = operator_client.get(reverse("flags:detail", args=[KEY]), **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert 'data-testid="preview-total">3<' in response.text
        assert 'data-testid="flag-history"' in response.text

    def test_the_panel_title_takes_focus_and_the_palette_remembers_the_flag(
        self, operator_client
    ) -> None:
        response = operator_client.get(reverse("flags:detail", args=[KEY]), **htmx("flag-panel"))
        assert 'id="flag-panel-title" tabindex="-1" data-swap-focus' in response.text
        palette = operator_client.get(reverse("console:palette"), **HTMX)
        assert f'href="/flags/{KEY}/"' in palette.text

    def test_an_unknown_flag_is_a_404_page_or_a_gone_panel(self, operator_client) -> None:
        page = operator_client.get(reverse("flags:detail", args=["no_such"]))
        assert page.status_code == 404
        gone = operator_client.get(reverse("flags:detail", args=["no_such"]), **htmx("flag-panel"))
        # A 404 that htmx swaps into the panel (4xx answers swap on this console).
        assert gone.status_code == 404
        assert 'data-testid="flag-panel-gone"' in gone.text
        assert "This flag no longer exists" in gone.text

    def test_panel_query_count_does_not_grow_with_tenants(
        self, operator_client, django_assert_max_num_queries
    ) -> None:
        TenantFactory.create_batch(30)
        # 13: one of them is the Schedules section's (the flag's live schedules).
        with django_assert_max_num_queries(13):
            operator_client.get(reverse("flags:detail", args=[KEY]), **HTMX)


class TestSave:
    def test_a_save_changes_the_flag_records_history_and_one_audit_event(
        self, operator_client, operator
    ) -> None:
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]),
                save_form(flag, state="rollout", pct=25),
                **HTMX,
            )
        assert response.status_code == 200
        flag.refresh_from_db()
        assert (flag.state, flag.pct, flag.version) == ("rollout", 25, 2)
        event = audit.one("flag.updated", actor=operator)
        assert event.metadata["changes"]["pct"] == {"before": 0, "after": 25}
        assert flag.history.first().actor_email == operator.email
        # The notice is the responder's out-of-band toast, not part of the panel.
        toast = response.text.split('id="toasts" hx-swap-oob="beforeend"')[1]
        assert "Saved jmap_native_v2 (version 2)" in toast
        assert 'data-testid="toast"' in toast
        # The list row is swapped out of band, so the table shows the new state too.
        assert 'id="flag-row-jmap_native_v2" class="flag-row"' in response.text
        assert 'hx-swap-oob="true"' in response.text

    @pytest.mark.parametrize(
        ("field", "value", "label"),
        [
            ("pct", "101", "Rollout %"),
            ("pct", "a lot", "Rollout %"),
            ("state", "sideways", "State"),
            ("scope_plans", "platinum", "Plans"),
            ("scope_environments", "moon", "Environments"),
            ("scope_tenant_slugs", "Not A Slug", "Tenants"),
        ],
    )
    def test_bad_input_is_a_400_named_kept_in_the_form_and_saves_nothing(
        self, operator_client, field: str, value: str, label: str
    ) -> None:
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]), save_form(flag, **{field: value}), **HTMX
            )
        assert response.status_code == 400
        assert f"{label}:" in response.text
        assert f'aria-describedby="f-{field}-errors"' in response.text
        assert f'id="f-{field}-errors"' in response.text
        assert "Unsaved changes" in response.text
        audit.none()
        assert Flag.objects.get(key=KEY).version == 1

    def test_rollout_150_is_refused_with_the_error_on_the_pct_field(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]), save_form(flag, state="rollout", pct=150), **HTMX
        )
        assert response.status_code == 400
        pct_input = re.search(r'<input class="input tabular" id="f-pct"[^>]*>', response.text)
        assert pct_input
        assert 'value="150"' in pct_input.group(0)
        assert 'aria-invalid="true"' in pct_input.group(0)
        assert 'aria-describedby="f-pct-errors"' in pct_input.group(0)
        errors = response.text.split('data-testid="f-pct-errors">')[1].split("</div>")[0]
        assert "Rollout %: must be between 0 and 100" in errors
        # The preview names the field too, never "the highlighted fields".
        assert "highlighted" not in response.text
        assert 'id="preview-pct-errors"' in response.text

    def test_without_htmx_a_refused_save_is_the_whole_page_with_a_400(
        self, operator_client
    ) -> None:
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]) + "?q=v2", save_form(flag, pct=150)
        )
        assert response.status_code == 400
        assert SHELL in response.text
        assert 'name="q" value="v2"' in response.text
        assert "Rollout %: must be between 0 and 100" in response.text

    def test_a_stale_save_shows_the_conflict_and_saves_nothing(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        services.flag_update(key=KEY, actor=None, description="Changed by someone else")
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]), save_form(flag, state="on"), **HTMX
            )
        assert response.status_code == 409
        assert 'data-testid="conflict"' in response.text
        assert "Changed by someone else" in response.text
        assert "You started from version 1; it is now version 2" in response.text
        audit.none()
        assert Flag.objects.get(key=KEY).state == FlagState.OFF

    def test_applying_on_top_keeps_the_other_operators_fields(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        services.flag_update(key=KEY, actor=None, description="Changed by someone else")
        data = save_form(flag, state="on", overwrite_version=2)
        operator_client.post(reverse("flags:save", args=[KEY]), data, **HTMX)
        flag.refresh_from_db()
        assert (flag.state, flag.description, flag.version) == ("on", "Changed by someone else", 3)

    def test_a_save_without_changes_changes_nothing(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]), save_form(flag), **HTMX
            )
        assert "Nothing to save" in response.text
        audit.none()

    def test_without_htmx_a_save_redirects_back_to_the_panel_and_the_list(
        self, operator_client
    ) -> None:
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]) + "?q=v2&sort=-changed", save_form(flag, state="on")
        )
        assert response.status_code == 303
        assert response.url == reverse("flags:detail", args=[KEY]) + "?q=v2&sort=-changed"
        page = operator_client.get(response.url)
        assert "Saved jmap_native_v2 (version 2)" in page.text

    def test_saving_a_deleted_flag_says_it_is_gone(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        services.flag_delete(key=KEY, actor=None)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]), save_form(flag, state="on"), **HTMX
        )
        assert response.status_code == 404
        assert 'data-testid="flag-panel-gone"' in response.text
        assert not Flag.objects.filter(key=KEY).exists()


class TestKillAndDelete:
    def test_kill_turns_the_flag_off_and_records_a_kill(self, operator_client, operator) -> None:
        services.flag_update(key=KEY, actor=None, state=FlagState.ROLLOUT, pct=40)
        with watch_audit() as audit:
            response = operator_client.post(reverse("flags:kill", args=[KEY]), **HTMX)
        assert response.status_code == 200
        assert "Killed jmap_native_v2" in response.text
        audit.one("flag.killed", actor=operator)
        flag = Flag.objects.get(key=KEY)
        assert (flag.state, flag.pct) == (FlagState.OFF, 0)

    def test_killing_a_dead_flag_changes_nothing(self, operator_client) -> None:
        with watch_audit() as audit:
            response = operator_client.post(reverse("flags:kill", args=[KEY]), **HTMX)
        assert "already off" in response.text
        audit.none()

    def test_a_dead_flags_kill_switch_says_why_it_is_disabled(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:detail", args=[KEY]), **HTMX)
        assert re.search(r'<button[^>]*disabled[^>]*data-testid="kill-switch"', response.text)
        assert 'data-testid="kill-switch-why">Already off at 0 %<' in response.text

    def test_delete_retires_the_key_and_answers_the_list(self, operator_client, operator) -> None:
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:delete", args=[KEY]),
                **htmx("flag-panel", f"/flags/{KEY}/?q=v2&sort=-key"),
            )
        assert response.status_code == 200
        # The URL pushed is the list's, with its search and sort.
        assert response["HX-Push-Url"] == reverse("flags:list") + "?q=v2&sort=-key"
        audit.one("flag.deleted", actor=operator)
        assert RetiredFlagKey.objects.filter(key=KEY).exists()
        assert "flag-row-jmap_native_v2" not in response.text
        assert 'id="flag-results" hx-swap-oob="true"' in response.text
        assert "Deleted jmap_native_v2" in response.text.split('id="toasts"')[1]
        # The list of the pushed URL is that whole page on a GET.
        page = operator_client.get(response["HX-Push-Url"])
        assert SHELL in page.text
        assert 'name="q" value="v2"' in page.text
        assert "flag-row-jmap_native_v2" not in page.text

    @pytest.mark.parametrize(("action", "title"), [("kill", "Kill"), ("delete", "Delete")])
    def test_without_javascript_an_action_is_a_confirm_page(
        self, operator_client, action: str, title: str
    ) -> None:
        services.flag_update(key=KEY, actor=None, state=FlagState.ON)  # so it can be killed
        url = reverse(f"flags:{action}", args=[KEY]) + "?q=v2"
        page = operator_client.get(url)
        assert page.status_code == 200
        assert SHELL in page.text
        assert f"{title} {KEY}?" in page.text
        assert f'action="{reverse(f"flags:{action}", args=[KEY])}?q=v2"' in page.text
        assert f'href="/flags/{KEY}/?q=v2">Cancel' in page.text
        # The panel's button leads there without JavaScript.
        panel = operator_client.get(reverse("flags:detail", args=[KEY]) + "?q=v2").text
        assert f'href="{reverse(f"flags:{action}", args=[KEY])}?q=v2" role="button"' in panel
        assert operator_client.get(reverse(f"flags:{action}", args=["no_such"])).status_code == 404

    def test_without_htmx_delete_redirects_to_the_list(self, operator_client) -> None:
        response = operator_client.post(reverse("flags:delete", args=[KEY]) + "?q=v2")
        assert response.status_code == 303
        assert response.url == reverse("flags:list") + "?q=v2"


class TestCreate:
    def test_create_opens_the_new_flags_panel(self, operator_client, operator) -> None:
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:create"),
                {"key": "calendar_sharing_v2", "description": "Share calendars"},
                **htmx("new-flag-form", "/flags/?sort=-changed&new=1"),
            )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#flag-panel"
        pushed = reverse("flags:detail", args=["calendar_sharing_v2"]) + "?sort=-changed"
        assert response["HX-Push-Url"] == pushed
        audit.one("flag.created", actor=operator)
        assert Flag.objects.get(key="calendar_sharing_v2").state == FlagState.OFF
        assert 'data-testid="flag-panel-calendar_sharing_v2"' in response.text
        # The list (with the new row) and a fresh, closed dialog come out of band.
        assert 'id="flag-results" hx-swap-oob="true"' in response.text
        assert 'id="flag-row-calendar_sharing_v2"' in response.text
        assert re.search(r'<dialog[^>]*id="new-flag-dialog"[^>]*hx-swap-oob="true"', response.text)
        assert "Created calendar_sharing_v2" in response.text.split('id="toasts"')[1]
        # The pushed URL is the whole page with the new flag's panel open.
        page = operator_client.get(pushed)
        assert SHELL in page.text
        assert 'data-testid="flag-panel-calendar_sharing_v2"' in page.text

    @pytest.mark.parametrize(
        ("key", "message"),
        [
            ("", "required"),
            ("Bad-Key", "Key"),
            (KEY, "already exists"),
            ("x" * 70, "at most 63"),
        ],
    )
    def test_a_bad_key_is_refused_on_the_field(self, operator_client, key, message) -> None:
        with watch_audit() as audit:
            response = operator_client.post(reverse("flags:create"), {"key": key}, **HTMX)
        assert response.status_code == 400
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        audit.none()

    def test_without_htmx_a_refused_create_reopens_the_dialog_with_a_400(
        self, operator_client
    ) -> None:
        response = operator_client.post(reverse("flags:create"), {"key": "Bad-Key"})
        assert response.status_code == 400
        assert SHELL in response.text
        assert re.search(r'id="new-flag-dialog"[^>]*data-dialog-open-on-load', response.text)
        assert 'value="Bad-Key"' in response.text

    def test_a_retired_key_is_never_reused(self, operator_client) -> None:
        services.flag_delete(key=KEY, actor=None)
        response = operator_client.post(reverse("flags:create"), {"key": KEY}, **HTMX)
        assert "never reused" in response.text
        assert not Flag.objects.filter(key=KEY).exists()

    def test_key_check_answers_as_the_operator_types(self, operator_client) -> None:
        url = reverse("flags:key_check")
        assert "is available" in operator_client.get(url, {"key": "fresh_key"}, **HTMX).text
        assert "already exists" in operator_client.get(url, {"key": KEY}, **HTMX).text
        bad = operator_client.get(url, {"key": "Bad-Key"}, **HTMX).text
        assert "field-error" in bad
        assert operator_client.get(url, {"key": ""}, **HTMX).text.strip() == ""


class TestPickersAndPreview:
    def test_scope_options_search_live_tenants_and_skip_chosen_ones(self, operator_client) -> None:
        TenantFactory(slug="nordwind-gmbh", name="Nordwind GmbH")
        TenantFactory(slug="nordlicht-ag", name="Nordlicht AG")
        TenantFactory(slug="nordkap-as", name="Nordkap AS", status=TenantStatus.DELETED)
        response = operator_client.get(
            reverse("flags:scope_options"),
            {"axis": "tenant_slugs", "find": "nord", "scope_tenant_slugs": "nordlicht-ag"},
            **HTMX,
        )
        assert "nordwind-gmbh" in response.text
        assert "nordlicht-ag" not in response.text
        assert "nordkap-as" not in response.text

    def test_scope_options_are_a_listbox_of_options(self, operator_client) -> None:
        TenantFactory(slug="nordwind-gmbh", name="Nordwind GmbH")
        response = operator_client.get(
            reverse("flags:scope_options"), {"axis": "tenant_slugs", "find": "nord"}, **HTMX
        )
        assert 'id="chip-listbox-tenant_slugs" role="listbox"' in response.text
        assert (
            'id="chip-option-tenant_slugs-nordwind-gmbh" role="option" aria-selected="false"'
            in response.text
        )
        none = operator_client.get(
            reverse("flags:scope_options"), {"axis": "tenant_slugs", "find": "zzz"}, **HTMX
        )
        assert "No live tenant matches “zzz”." in none.text
        assert 'role="status"' in none.text

    def test_the_picker_input_is_a_combobox_that_opens_only_on_typing(
        self, operator_client
    ) -> None:
        html = operator_client.get(reverse("flags:detail", args=[KEY]), **HTMX).text
        find = re.search(r'<input class="chip-find" id="chip-find-tenant_slugs"[^>]*>', html)
        assert find
        tag = find.group(0)
        for attribute in (
            'role="combobox"',
            'aria-expanded="false"',
            'aria-controls="chip-listbox-tenant_slugs"',
            'aria-autocomplete="list"',
            'hx-trigger="input changed delay:200ms, chip-find-open"',
        ):
            assert attribute in tag, attribute
        assert "focus" not in tag.split("hx-trigger=")[1].split('"')[1]

    def test_scope_options_for_partners(self, operator_client) -> None:
        PartnerFactory(slug="alpine-resellers", name="Alpine Resellers")
        response = operator_client.get(
            reverse("flags:scope_options"), {"axis": "partner_slugs", "find": "alp"}, **HTMX
        )
        assert "alpine-resellers" in response.text

    def test_an_unknown_axis_gets_no_options(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:scope_options"), {"axis": "moons"}, **HTMX)
        assert response.status_code == 200

    def test_preview_counts_tenants_and_who_flips(self, operator_client) -> None:
        TenantFactory(slug="sample-business", plan="business")
        TenantFactory(slug="sample-starter", plan="starter")
        response = operator_client.get(
            reverse("flags:preview", args=[KEY]),
            {"state": "targeted", "pct": "0", "scope_plans": "business"},
            **HTMX,
        )
        assert 'data-testid="preview-on">~1<' in response.text
        assert 'data-testid="preview-total">2<' in response.text
        assert "sample-business" in response.text
        assert "sample-starter" not in response.text

    @pytest.mark.parametrize(
        ("pct", "message"),
        [
            ("150", "Rollout %: must be between 0 and 100"),
            ("-1", "Rollout %: must be between 0 and 100"),
            ("a lot", "Rollout %: must be a whole number from 0 to 100"),
        ],
    )
    def test_a_bad_preview_names_the_field_and_its_error(
        self, operator_client, pct: str, message: str
    ) -> None:
        response = operator_client.get(
            reverse("flags:preview", args=[KEY]), {"state": "rollout", "pct": pct}, **HTMX
        )
        assert response.status_code == 200
        assert message in response.text
        assert 'id="preview-pct-errors"' in response.text
        assert "highlighted" not in response.text
