"""Reach and explanation on the pages: the flags list's Reach column and zero-reach
badge, the panel's Reaches now and "why on or off" form (and its page without
JavaScript), the tenant page's Flags tab, and the preview's flips per environment."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import versions
from flags import engine
from flags.models import Flag
from flags.snapshot import reset_for_tests
from tenants import services as tenant_services
from tests.flags.factories import FlagFactory
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(settings):
    """Three business tenants (one through nordic-it), two starters, one deleted."""
    settings.DEZKY_ENVIRONMENT = "dev"
    Flag.objects.all().delete()
    nordic = PartnerFactory(slug="nordic-it")
    TenantFactory(slug="acme", plan="business", stable_id="64b7f0c2a1e4d5f6a7b8c9d0")
    TenantFactory(slug="globex", plan="business", partner=nordic)
    TenantFactory(slug="initech", plan="business")
    TenantFactory(slug="hooli", plan="starter")
    TenantFactory(slug="umbrella", plan="starter")
    TenantFactory(slug="gone-co", plan="business", status="deleted", deleted_at="2026-01-01T00:00Z")
    Flag.objects.create(key="all_on", state="on")
    Flag.objects.create(key="biz", state="targeted", scope_plans=["business"])
    Flag.objects.create(key="prod_biz", state="targeted", scope_plans=["business"],
                        scope_environments=["prod"])  # fmt: skip
    # A starter tenant through nordic-it: nobody is both.
    Flag.objects.create(key="nobody_and", state="targeted", scope_plans=["starter"],
                        scope_partner_slugs=["nordic-it"])  # fmt: skip
    Flag.objects.create(key="prepared", state="rollout", pct=0)
    versions.bump("flags")
    versions.bump("tenants")


def queries_of(get) -> int:
    """The queries one request runs. TRICKY: the connection's query log keeps at most
    9,000 entries across tests, and a full log makes CaptureQueriesContext count 0."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        get()
    return len(captured.captured_queries)


def reach_cell(html: str, key: str) -> str:
    found = re.search(rf'data-testid="reach-{key}">(.*?)</td>', html, re.S)
    assert found, key
    return re.sub(r"<[^>]+>", "", found.group(1)).split()


class TestList:
    def test_each_row_shows_live_tenants_reached_per_environment_prod_first(
        self, operator_client, world
    ) -> None:
        html = operator_client.get(reverse("flags:list")).text
        assert 'class="col-reach"' in html
        assert reach_cell(html, "all_on") == ["prod", "5", "staging", "5", "dev", "5"]
        assert reach_cell(html, "biz") == ["prod", "3", "staging", "3", "dev", "3"]
        assert reach_cell(html, "prod_biz") == ["prod", "3", "staging", "0", "dev", "0"]

    def test_a_flag_meant_to_reach_tenants_that_reaches_none_has_a_badge(
        self, operator_client, world
    ) -> None:
        html = operator_client.get(reverse("flags:list")).text
        row = html.split('id="flag-row-nobody_and"')[1].split("</tr>")[0]
        assert 'data-testid="zero-reach"' in row
        assert "Reaches nobody in prod, staging, dev" in row
        # Not for a rollout at 0 % (prepared on purpose) nor for envs it is not meant for.
        for key in ("prepared", "prod_biz", "biz"):
            other = html.split(f'id="flag-row-{key}"')[1].split("</tr>")[0]
            assert 'data-testid="zero-reach"' not in other, key

    def test_query_count_is_flat_in_tenants_and_flags(
        self, operator_client, world, django_assert_num_queries
    ) -> None:
        operator_client.get(reverse("flags:list"))  # the session, warmed
        reset_for_tests()
        few = queries_of(lambda: operator_client.get(reverse("flags:list")))
        TenantFactory.create_batch(40, plan="business")
        for _ in range(20):
            FlagFactory(state="rollout", pct=30)
        versions.bump("tenants")
        reset_for_tests()
        # The snapshot is rebuilt (flags and tenants: one query each) in both requests.
        with django_assert_num_queries(few):
            html = operator_client.get(reverse("flags:list")).text
        assert reach_cell(html, "all_on") == ["prod", "45", "staging", "45", "dev", "45"]
        # Warm, the reach costs no query at all beyond the list's own.
        assert queries_of(lambda: operator_client.get(reverse("flags:list"))) == few - 2

    def test_a_save_recounts_that_flag(self, operator_client, world) -> None:
        from flags import services

        operator_client.get(reverse("flags:list"))
        services.flag_update(key="biz", expected_version=1, actor=None, scope_plans=["starter"])
        html = operator_client.get(reverse("flags:list")).text
        assert reach_cell(html, "biz") == ["prod", "2", "staging", "2", "dev", "2"]

    def test_a_deleted_tenant_leaves_the_counts(self, operator_client, world) -> None:
        from tenants.models import Tenant

        operator_client.get(reverse("flags:list"))
        tenant_services.tenant_soft_delete(tenant=Tenant.objects.get(slug="acme"), actor=None)
        html = operator_client.get(reverse("flags:list")).text
        assert reach_cell(html, "all_on") == ["prod", "4", "staging", "4", "dev", "4"]


class TestPanel:
    def test_reaches_now_with_the_and_warning(self, operator_client, world) -> None:
        html = operator_client.get(reverse("flags:detail", args=["nobody_and"]), **HTMX).text
        assert 'data-testid="panel-reach"' in html
        assert 'data-testid="zero-reach-alert"' in html
        assert "no tenant matches the plan list (2 tenants) AND the partner list (1 tenant)" in html
        assert "Scope lists combine with AND" in html
        # One warning for the three environments, since the cause is the same.
        assert html.count('data-testid="zero-reach-alert"') == 1
        assert "Reaches no tenant in prod, staging or dev:" in html
        # The explain form is its own form, outside the save form.
        assert 'id="flag-explain-form"' in html and 'form="flag-explain-form"' in html

    def test_an_axis_nobody_matches_is_named(self, operator_client, world) -> None:
        Flag.objects.create(key="ghost", state="targeted", scope_tenant_slugs=["gone-co"])
        versions.bump("flags")
        html = operator_client.get(reverse("flags:detail", args=["ghost"]), **HTMX).text
        assert "no live tenant matches the tenant list (gone-co)" in html


class TestExplain:
    def url(self, key: str) -> str:
        return reverse("flags:explain", args=[key])

    def test_htmx_gets_the_answer_alone(self, operator_client, world) -> None:
        response = operator_client.get(
            self.url("nobody_and"), {"tenant": "hooli", "environment": "prod"}, **HTMX
        )
        assert response.status_code == 200
        assert "<html" not in response.text
        assert 'data-testid="explain-answer"' in response.text
        assert "its partner" not in response.text
        assert "it has no partner, and the partner list allows only nordic-it" in response.text
        assert "DEFAULT" in response.text

    def test_a_rollout_shows_bucket_and_pct(self, operator_client, world) -> None:
        Flag.objects.create(key="ramp", state="rollout", pct=50)
        versions.bump("flags")
        bucket = engine.bucket("64b7f0c2a1e4d5f6a7b8c9d0", "ramp")
        html = operator_client.get(self.url("ramp"), {"tenant": "acme"}, **HTMX).text
        assert f"bucket for this flag is {bucket}" in html
        assert ("SPLIT" if bucket < 50 else "DEFAULT") in html

    def test_without_javascript_it_is_a_whole_page_with_the_form_filled(
        self, operator_client, world
    ) -> None:
        response = operator_client.get(self.url("biz"), {"tenant": "acme", "environment": "prod"})
        assert response.status_code == 200
        assert '<aside class="sidebar"' in response.text
        assert 'value="acme"' in response.text
        assert '<option value="prod" selected>' in response.text
        assert "On: the flag is targeted and this tenant matches every scope list" in response.text
        assert 'data-testid="flag-reach"' in response.text

    @pytest.mark.parametrize(
        ("params", "words"),
        [
            ({"tenant": "gone-co"}, "Tenant: No live tenant has the slug gone-co"),
            ({"tenant": "nobody-here"}, "Tenant: No live tenant has the slug nobody-here"),
            ({"tenant": "acme", "environment": "moon"}, "Environment: Pick one of dev, staging"),
        ],
    )
    def test_a_wrong_value_is_a_400_naming_the_field(
        self, operator_client, world, params, words
    ) -> None:
        response = operator_client.get(self.url("biz"), params, **HTMX)
        assert response.status_code == 400
        assert words in response.text
        page = operator_client.get(self.url("biz"), params)
        assert page.status_code == 400 and 'aria-invalid="true"' in page.text

    def test_an_unknown_flag_is_a_404(self, operator_client, world) -> None:
        assert operator_client.get(self.url("no_such_flag"), {"tenant": "acme"}).status_code == 404

    def test_the_form_alone_asks_nothing(self, operator_client, world) -> None:
        response = operator_client.get(self.url("biz"))
        assert response.status_code == 200
        assert 'data-testid="explain-answer"' not in response.text


class TestTenantTab:
    def test_every_flag_with_its_value_and_why(self, operator_client, world) -> None:
        html = operator_client.get("/tenants/hooli/?tab=flags&env=prod").text
        assert 'id="tab-flags"' in html and 'data-testid="tenant-flags-table"' in html
        row = html.split('data-testid="tenant-flag-nobody_and"')[1].split("</tr>")[0]
        assert "Off" in row and "it has no partner" in row
        row = html.split('data-testid="tenant-flag-all_on"')[1].split("</tr>")[0]
        assert "On for every tenant" in row
        assert "1 of 5" in re.sub(r"<[^>]+>", "", html.split('data-testid="tenant-flags-count"')[1])

    def test_the_environment_changes_the_answer(self, operator_client, world) -> None:
        prod = operator_client.get("/tenants/acme/?tab=flags&env=prod").text
        dev = operator_client.get("/tenants/acme/?tab=flags&env=dev").text
        prod_row = prod.split('data-testid="tenant-flag-prod_biz"')[1].split("</tr>")[0]
        dev_row = dev.split('data-testid="tenant-flag-prod_biz"')[1].split("</tr>")[0]
        assert "TARGETING_MATCH" in prod_row
        assert "its environment dev is not in the environment list (prod)" in dev_row

    def test_a_deleted_tenant_gets_no_flags(self, operator_client, world) -> None:
        html = operator_client.get("/tenants/gone-co/?tab=flags").text
        assert 'data-testid="tenant-flags-deleted"' in html

    def test_queries_do_not_grow_with_flags(
        self, operator_client, world, django_assert_num_queries
    ) -> None:
        operator_client.get("/tenants/acme/?tab=flags")
        few = queries_of(lambda: operator_client.get("/tenants/acme/?tab=flags"))
        for _ in range(30):
            FlagFactory(state="on")
        versions.bump("flags")
        operator_client.get("/tenants/acme/?tab=flags")  # the snapshot, rebuilt
        with django_assert_num_queries(few):
            html = operator_client.get("/tenants/acme/?tab=flags").text
        assert html.count('data-testid="tenant-flag-') == 35


class TestPreviewFlips:
    def test_flips_per_environment_prod_first(self, operator_client, world) -> None:
        response = operator_client.get(
            reverse("flags:preview", args=["biz"]),
            {"state": "targeted", "pct": "0", "scope_plans": "starter",
             "scope_environments": "prod"},
            **HTMX,
        )  # fmt: skip
        html = response.text
        flips = re.findall(r'data-testid="flips-(\w+)">(.*?)</li>', html)
        assert [env for env, _ in flips] == ["prod", "staging", "dev"]
        text = {env: re.sub(r"<[^>]+>", "", words) for env, words in flips}
        assert text["prod"] == "prod: 2 turn on, 3 turn off"
        assert text["staging"] == "staging: 0 turn on, 3 turn off"

    def test_an_unchanged_flag_flips_nobody(self, operator_client, world) -> None:
        html = operator_client.get(reverse("flags:detail", args=["biz"]), **HTMX).text
        assert 'data-testid="preview-flips"' not in html
        assert "No tenant changes compared with the saved flag." in html
