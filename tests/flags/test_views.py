"""The flags pages: list and search, the side panel, saving with conflicts, the kill
switch, creating and deleting, the live key check, scope pickers and the preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from flags import services
from flags.models import Flag, FlagState, RetiredFlagKey
from tenants.models import TenantStatus
from tests.audit_helpers import watch_audit
from tests.flags.factories import FlagFactory
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KEY = "jmap_native_v2"


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
        assert "10 flags" in response.text

    def test_search_as_htmx_answers_only_the_rows(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:list"), {"q": "billing"}, **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert "flag-row-new_billing_engine" in response.text
        assert response.text.count('class="flag-row"') == 1
        assert "1 flag matching" in response.text

    def test_a_search_matching_nothing_says_so(self, operator_client) -> None:
        response = operator_client.get(reverse("flags:list"), {"q": "zzz-nothing"}, **HTMX)
        assert "No flag matches" in response.text

    def test_query_count_does_not_grow_with_flags(
        self, operator_client, django_assert_max_num_queries
    ) -> None:
        for _ in range(40):
            FlagFactory()
        with django_assert_max_num_queries(8):
            response = operator_client.get(reverse("flags:list"))
        assert response.text.count('class="flag-row"') == 50


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

    def test_an_unknown_flag_is_a_404_page_or_a_gone_panel(self, operator_client) -> None:
        assert operator_client.get(reverse("flags:detail", args=["no_such"])).status_code == 404
        gone = operator_client.get(reverse("flags:detail", args=["no_such"]), **HTMX)
        assert gone.status_code == 200
        assert "no_such" in gone.text

    def test_panel_query_count_does_not_grow_with_tenants(
        self, operator_client, django_assert_max_num_queries
    ) -> None:
        TenantFactory.create_batch(30)
        with django_assert_max_num_queries(12):
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
        assert "Saved jmap_native_v2 (version 2)" in response.text
        # The list row is swapped out of band, so the table shows the new state too.
        assert 'id="flag-row-jmap_native_v2"' in response.text

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
    def test_bad_input_is_named_kept_in_the_form_and_saves_nothing(
        self, operator_client, field: str, value: str, label: str
    ) -> None:
        flag = Flag.objects.get(key=KEY)
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]), save_form(flag, **{field: value}), **HTMX
            )
        assert response.status_code == 200
        assert f"{label}:" in response.text
        assert "Unsaved changes" in response.text
        audit.none()
        assert Flag.objects.get(key=KEY).version == 1

    def test_a_stale_save_shows_the_conflict_and_saves_nothing(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        services.flag_update(key=KEY, actor=None, description="Changed by someone else")
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:save", args=[KEY]), save_form(flag, state="on"), **HTMX
            )
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

    def test_without_htmx_a_save_redirects_back_to_the_panel(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]), save_form(flag, state="on")
        )
        assert response.status_code == 302
        assert response.url == reverse("flags:detail", args=[KEY])

    def test_saving_a_deleted_flag_says_it_is_gone(self, operator_client) -> None:
        flag = Flag.objects.get(key=KEY)
        services.flag_delete(key=KEY, actor=None)
        response = operator_client.post(
            reverse("flags:save", args=[KEY]), save_form(flag, state="on"), **HTMX
        )
        assert response.status_code == 200
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

    def test_delete_retires_the_key_and_answers_the_list(self, operator_client, operator) -> None:
        with watch_audit() as audit:
            response = operator_client.post(reverse("flags:delete", args=[KEY]), **HTMX)
        assert response.status_code == 200
        assert response["HX-Push-Url"] == reverse("flags:list")
        audit.one("flag.deleted", actor=operator)
        assert RetiredFlagKey.objects.filter(key=KEY).exists()
        assert "flag-row-jmap_native_v2" not in response.text


class TestCreate:
    def test_create_opens_the_new_flags_panel(self, operator_client, operator) -> None:
        with watch_audit() as audit:
            response = operator_client.post(
                reverse("flags:create"),
                {"key": "calendar_sharing_v2", "description": "Share calendars"},
                **HTMX,
            )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#flag-panel"
        assert response["HX-Push-Url"] == reverse("flags:detail", args=["calendar_sharing_v2"])
        audit.one("flag.created", actor=operator)
        assert Flag.objects.get(key="calendar_sharing_v2").state == FlagState.OFF

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
        assert response.status_code == 200
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        audit.none()

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

    def test_a_bad_preview_asks_to_fix_the_fields(self, operator_client) -> None:
        response = operator_client.get(
            reverse("flags:preview", args=[KEY]), {"state": "rollout", "pct": "500"}, **HTMX
        )
        assert response.status_code == 200
        assert "Fix the highlighted fields" in response.text
