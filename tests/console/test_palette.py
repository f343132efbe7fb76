"""The command palette: grouped results from every app's source, limits, recents,
who may ask, what any client may send, and a query count that does not grow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.urls import reverse

from console import palette
from console.palette import PaletteItem
from flags.models import Flag
from operators.models import User
from tenants.models import Partner, Tenant, TenantStatus
from tests.flags.factories import FlagFactory
from tests.operators.factories import UserFactory
from tests.tenants.factories import PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "/palette/"


def options(html: str, group: str) -> list[str]:
    """The titles of one group's options, in order."""
    for part in re.split(r'(?=<div class="palette-group" )', html):
        if f'data-testid="palette-group-{group}"' in part:
            return re.findall(r'class="palette-option-title[^"]*">([^<]*)<', part)
    return []


def groups(html: str) -> list[str]:
    return re.findall(r'data-testid="palette-group-([a-z-]+)"', html)


def seed_zephyr(count: int) -> None:
    """`count` tenants, partners, users and flags whose name says "zephyr"."""
    Tenant.objects.bulk_create(
        Tenant(slug=f"zephyr-{n}", name=f"Zephyr Mail {n}", domains=[f"z{n}.example"])
        for n in range(count)
    )
    Partner.objects.bulk_create(
        Partner(slug=f"zephyr-partner-{n}", name=f"Zephyr Reseller {n}") for n in range(count)
    )
    User.objects.bulk_create(
        User(email=f"zephyr{n}@tenant.example", name=f"Zephyr User {n}") for n in range(count)
    )
    Flag.objects.bulk_create(
        Flag(key=f"zephyr_flag_{n}", description="Zephyr rollout") for n in range(count)
    )


def session_request(client=None):
    """A request carrying a session (the test client's, when given)."""
    request = RequestFactory().get("/")
    if client is None:
        SessionMiddleware(lambda r: None).process_request(request)
    else:
        request.session = client.session
    return request


class TestSearch:
    def test_answers_one_group_per_kind_in_a_fixed_order(self, operator_client) -> None:
        TenantFactory(slug="acme", name="Acme Mail")
        PartnerFactory(slug="acme-resellers", name="Acme Resellers")
        UserFactory(email="kari@acme.example", name="Kari Nordvik")
        FlagFactory(key="acme_beta", description="Beta for Acme")

        response = operator_client.get(URL, {"q": "acme"}, **HTMX)

        assert response.status_code == 200
        assert "<html" not in response.text
        assert groups(response.text) == ["tenant", "partner", "user", "flag", "action"]
        assert options(response.text, "tenant") == ["Acme Mail"]
        assert options(response.text, "partner") == ["Acme Resellers"]
        assert options(response.text, "user") == ["Kari Nordvik"]
        assert options(response.text, "flag") == ["acme_beta"]
        assert 'href="/tenants/acme/"' in response.text
        assert 'href="/partners/acme-resellers/"' in response.text
        assert 'href="/users/?q=kari%40acme.example"' in response.text
        assert 'href="/flags/acme_beta/"' in response.text

    def test_the_listbox_is_grouped_for_assistive_technology(self, operator_client) -> None:
        TenantFactory(slug="acme", name="Acme Mail")
        html = operator_client.get(URL, {"q": "acme"}, **HTMX).text
        assert 'role="listbox" id="palette-listbox"' in html
        assert re.search(r'role="group" aria-labelledby="palette-group-1"', html)
        assert 'id="palette-group-1" role="presentation">Tenants<' in html
        assert html.count('role="option"') == 2  # the tenant, and reconciling it

    def test_tenants_match_slug_or_name_in_any_case(self) -> None:
        TenantFactory(slug="nordlicht", name="Polar Light GmbH")
        TenantFactory(slug="other", name="NORDLICHT Two")
        found = palette.search("NordLicht")[0]
        assert found.kind == "tenant"
        assert [i.key for i in found.items] == ["nordlicht", "other"]

    def test_users_match_email_or_name_and_flags_key_or_description(self) -> None:
        UserFactory(email="robin@fjord-freight.example", name="Robin Fjell")
        FlagFactory(key="cobol_mode", description="Compiles everything twice")
        by_email = {g.kind: g for g in palette.search("fjord-freight.exa")}
        by_name = {g.kind: g for g in palette.search("fjell")}
        assert [i.key for i in by_email["user"].items] == ["robin@fjord-freight.example"]
        assert [i.key for i in by_name["user"].items] == ["robin@fjord-freight.example"]
        assert [i.key for i in {g.kind: g for g in palette.search("cobol")}["flag"].items] == [
            "cobol_mode"
        ]
        described = {g.kind: g for g in palette.search("twice")}["flag"]
        assert [i.key for i in described.items] == ["cobol_mode"]

    def test_at_most_five_a_group(self, operator_client) -> None:
        seed_zephyr(8)
        html = operator_client.get(URL, {"q": "zephyr"}, **HTMX).text
        for kind in ("tenant", "partner", "user", "flag"):
            assert len(options(html, kind)) == 5, kind
        assert options(html, "tenant") == [f"Zephyr Mail {n}" for n in range(5)]

    def test_deleted_tenants_are_never_found_and_live_ones_come_first(self) -> None:
        TenantFactory(slug="kite-a", name="Kite A", status=TenantStatus.SUSPENDED)
        TenantFactory(
            slug="kite-b", name="Kite B", status=TenantStatus.DELETED,
            deleted_at="2026-01-01T00:00Z",
        )  # fmt: skip
        TenantFactory(slug="kite-c", name="Kite C", status=TenantStatus.ACTIVE)
        TenantFactory(slug="kite-d", name="Kite D", status=TenantStatus.PENDING)
        tenants = palette.search("kite")[0]
        assert [i.key for i in tenants.items] == ["kite-c", "kite-a", "kite-d"]
        assert tenants.items[1].subtitle == "kite-a · Suspended"

    def test_pages_and_actions_match_on_their_label(self, operator_client) -> None:
        html = operator_client.get(URL, {"q": "flag"}, **HTMX).text
        assert options(html, "page") == ["Feature flags"]
        assert "New flag" in options(html, "action")
        assert 'href="/flags/?new=1"' in html

        html = operator_client.get(URL, {"q": "invite"}, **HTMX).text
        assert options(html, "action") == ["Invite operator"]
        assert 'href="/operator-team/invite/"' in html

    def test_actions_run_in_the_browser_carry_no_url(self, operator_client) -> None:
        html = operator_client.get(URL, {"q": "theme"}, **HTMX).text
        assert options(html, "action") == ["Toggle theme"]
        assert 'data-palette-action="toggle-theme"' in html
        for query, key in (("shortcuts", "shortcuts"), ("sign out", "sign-out")):
            html = operator_client.get(URL, {"q": query}, **HTMX).text
            assert f'data-palette-action="{key}"' in html, query

    def test_a_found_tenant_can_be_reconciled_from_its_confirmation_page(
        self, operator_client
    ) -> None:
        TenantFactory(slug="acme", name="Acme Mail")
        TenantFactory(slug="acme-two", name="Acme Two")
        html = operator_client.get(URL, {"q": "acme"}, **HTMX).text
        # Only the best match offers it, unless the query asks for reconciling.
        assert options(html, "action") == ["Reconcile Acme Mail"]
        assert 'href="/tenants/acme/reconcile/"' in html

        html = operator_client.get(URL, {"q": "Reconcile acme"}, **HTMX).text
        assert groups(html) == ["action", "tenant"]
        assert options(html, "action") == ["Reconcile Acme Mail", "Reconcile Acme Two"]

        # The verb alone: the action that explains it, run in the browser.
        html = operator_client.get(URL, {"q": "reconcile "}, **HTMX).text
        assert options(html, "action") == ["Reconcile tenant…"]
        assert 'data-palette-action="reconcile"' in html

    def test_nothing_found_says_so(self, operator_client) -> None:
        html = operator_client.get(URL, {"q": "no-such-thing-anywhere"}, **HTMX).text
        assert groups(html) == []
        assert 'data-testid="palette-empty"' in html
        assert "Nothing matches “no-such-thing-anywhere”" in html

    def test_like_wildcards_are_plain_characters(self) -> None:
        TenantFactory(slug="plain", name="Plain")
        TenantFactory(slug="fifty", name="50% off")
        for query, found in (("%", ["fifty"]), ("_", []), ("n%", [])):
            tenants = [g for g in palette.search(query) if g.kind == "tenant"]
            assert [i.key for g in tenants for i in g.items] == found, query


class TestRegistry:
    def test_a_source_of_any_app_joins_without_the_console_knowing_it(self) -> None:
        class Planets:
            kind = "planet"
            label = "Planets"

            def search(self, query: str, limit: int) -> list[PaletteItem]:
                return [
                    PaletteItem("planet", f"Planet {n}", "", f"/p/{n}/", str(n))
                    for n in range(limit + 3)  # a careless source: the palette caps it
                ]

        before = dict(palette._sources)
        try:
            palette.register(Planets())
            found = palette.search("mars")
        finally:
            palette._sources.clear()
            palette._sources.update(before)
        assert found[-1].kind == "planet"  # after the known kinds (no pages match "mars")
        assert len(found[-1].items) == 5

    def test_refuses_what_is_not_a_source(self) -> None:
        with pytest.raises(TypeError):
            palette.register(object())  # type: ignore[arg-type]

    def test_every_app_registered_its_kind(self) -> None:
        kinds = ["tenant", "partner", "user", "flag", "view-as"]
        assert [s.kind for s in palette.sources()] == kinds

    def test_the_console_layer_imports_no_app(self) -> None:
        """Imports run apps -> console -> core; the apps come to the palette."""
        apps = {"tenants", "operators", "flags", "audit", "demo", "dezky"}
        console = Path(palette.__file__).parent
        found = []
        for path in console.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in apps]
        assert found == []


class TestRecent:
    def test_newest_first_without_duplicates_and_at_most_five(self) -> None:
        request = session_request()
        for n in range(7):
            palette.remember(
                request, kind="tenant", key=f"t{n}", title=f"T {n}", url=f"/tenants/t{n}/"
            )
        palette.remember(request, kind="tenant", key="t4", title="T 4", url="/tenants/t4/")
        [tenants] = palette.recent_groups(request)
        assert tenants.label == "Recent tenants"
        assert [i.key for i in tenants.items] == ["t4", "t6", "t5", "t3", "t2"]

    def test_tenants_and_flags_are_kept_apart(self) -> None:
        request = session_request()
        palette.remember(request, kind="flag", key="f1", title="f1", url="/flags/f1/")
        palette.remember(request, kind="tenant", key="t1", title="T 1", url="/tenants/t1/")
        recent = palette.recent_groups(request)
        assert [(g.kind, [i.key for i in g.items]) for g in recent] == [
            ("recent-tenant", ["t1"]),
            ("recent-flag", ["f1"]),
        ]

    def test_opening_the_newest_again_does_not_write_the_session(self) -> None:
        request = session_request()
        palette.remember(request, kind="tenant", key="t1", title="T 1", url="/tenants/t1/")
        request.session.modified = False
        palette.remember(request, kind="tenant", key="t1", title="T 1", url="/tenants/t1/")
        assert request.session.modified is False

    def test_only_tenants_and_flags_are_remembered(self) -> None:
        with pytest.raises(ValueError, match="not 'partner'"):
            palette.remember(session_request(), kind="partner", key="p", title="P", url="/")

    def test_a_session_the_palette_did_not_write_is_ignored(self) -> None:
        request = session_request()
        request.session["console.palette.recent"] = {"tenant": [{"nope": 1}, "x"], "flag": 3}
        assert palette.recent_groups(request) == []

    def test_an_empty_box_shows_recent_tenants_and_flags_then_actions(
        self, operator_client
    ) -> None:
        request = session_request(operator_client)
        palette.remember(request, kind="tenant", key="acme", title="Acme", url="/tenants/acme/")
        palette.remember(request, kind="tenant", key="kite", title="Kite", url="/tenants/kite/")
        palette.remember(request, kind="flag", key="f1", title="f1", url="/flags/f1/")
        request.session.save()

        html = operator_client.get(URL, {"q": "  "}, **HTMX).text
        assert groups(html) == ["recent-tenant", "recent-flag", "action"]
        assert options(html, "recent-tenant") == ["Kite", "Acme"]
        assert options(html, "recent-flag") == ["f1"]
        assert len(options(html, "action")) == 5

    def test_without_recents_an_empty_box_says_what_will_appear(self, operator_client) -> None:
        html = operator_client.get(URL, **HTMX).text
        assert groups(html) == ["action"]
        assert "Tenants and flags you open show up here." in html


class TestAccess:
    def test_anonymous_callers_are_sent_to_sign_in(self, client) -> None:
        response = client.get(URL, {"q": "acme"})
        assert response.status_code == 302
        assert "/login/" in response["Location"]
        htmx = client.get(URL, {"q": "acme"}, **HTMX)
        assert htmx.status_code == 401 and "/login/" in htmx["HX-Redirect"]

    def test_a_signed_in_non_operator_is_refused(self, client) -> None:
        member = UserFactory()
        TenantFactory(slug="acme", name="Acme Mail")
        client.force_login(member)
        response = client.get(URL, {"q": "acme"}, **HTMX)
        assert response.status_code == 403
        assert "Acme Mail" not in response.text

    def test_the_url_is_named(self) -> None:
        assert reverse("console:palette") == URL

    def test_only_get(self, operator_client) -> None:
        assert operator_client.post(URL, {"q": "acme"}, **HTMX).status_code == 405


class TestBadInput:
    def test_a_nul_byte_is_a_400_naming_the_field(self, operator_client) -> None:
        response = operator_client.get(URL, {"q": "acme\x00"}, **HTMX)
        assert response.status_code == 400
        assert "The parameter q contains a NUL byte" in response.text  # console.request_guard

    def test_a_very_long_query_is_cut_to_100_characters(self, operator_client) -> None:
        TenantFactory(slug="acme", name="a" * 120)
        response = operator_client.get(URL, {"q": "a" * 10_000}, **HTMX)
        assert response.status_code == 200
        assert f'data-query="{"a" * 100}"' in response.text
        assert options(response.text, "tenant") == ["a" * 120]

    @pytest.mark.parametrize(
        "query",
        ["\u202e\u200b", "'; DROP TABLE tenants_tenant; --", "<script>x</script>", "\t\n\r",
         "%%%", "ß" * 300, "\x01\x1f"],
    )  # fmt: skip
    def test_anything_else_is_answered(self, operator_client, query: str) -> None:
        response = operator_client.get(URL, {"q": query}, **HTMX)
        assert response.status_code == 200
        assert "<script>x" not in response.text

    def test_bytes_that_are_not_utf8_are_answered(self, operator_client) -> None:
        response = operator_client.get(f"{URL}?q=%ED%A0%80%FF%C3", **HTMX)
        assert response.status_code == 200

    def test_repeated_and_odd_parameters_are_harmless(self, operator_client) -> None:
        response = operator_client.get(f"{URL}?q=a&q=b&q[]=c&page=-1", **HTMX)
        assert response.status_code == 200


class TestQueryCount:
    # The session, the operator, then one query per source (tenants, partners,
    # users, flags); pages and actions cost nothing.
    QUERIES = 6

    @pytest.mark.parametrize("rows", [3, 300])
    def test_the_same_number_of_queries_whatever_the_data(
        self, operator_client, django_assert_num_queries, rows: int
    ) -> None:
        seed_zephyr(rows)
        with django_assert_num_queries(self.QUERIES):
            response = operator_client.get(URL, {"q": "zephyr"}, **HTMX)
        assert groups(response.text) == ["tenant", "partner", "user", "flag", "action"]
        assert response.text.count('role="option"') == 4 * min(rows, 5) + 1

    def test_an_empty_box_reads_only_the_session_and_the_operator(
        self, operator_client, django_assert_num_queries
    ) -> None:
        seed_zephyr(30)
        with django_assert_num_queries(2):
            operator_client.get(URL, **HTMX)
