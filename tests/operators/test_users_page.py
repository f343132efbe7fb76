from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from operators.models import User
from operators.views.users import PAGE_SIZE
from tenants.models import MemberRole, Membership, Tenant, TenantStatus
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
USERS = reverse("operators:users")
HTMX = {"HTTP_HX_REQUEST": "true"}


def _emails(html: str) -> list[str]:
    return re.findall(r'data-testid="user-row" data-email="([^"]+)"', html)


def _chip_counts(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'data-testid="chip-(\w+)"[^>]*>\s*\w+ <span[^>]*data-testid="chip-count">(\d+)</span>',
            html,
        )
    )


def _count(html: str) -> str:
    return re.search(r'data-testid="result-count"><span class="tabular">(\d+)</span>', html)[1]


@pytest.fixture
def people(operator):
    acme = Tenant.objects.create(slug="acme", name="Acme")
    gone = Tenant.objects.create(slug="gone", name="Gone", status=TenantStatus.PENDING)
    owner = UserFactory(email="owner@acme.example", name="Ada Owner")
    member = UserFactory(email="member@acme.example", name="Ben Member")
    left = UserFactory(email="left@acme.example", name="Cy Left", is_active=False)
    Membership.objects.create(tenant=acme, user=owner, role=MemberRole.OWNER)
    Membership.objects.create(tenant=acme, user=member)
    Membership.objects.create(tenant=gone, user=member, role=MemberRole.ADMIN)
    return {"operator": operator, "owner": owner, "member": member, "left": left, "gone": gone}


class TestViews:
    def test_all_lists_everyone(self, operator_client, people) -> None:
        html = operator_client.get(USERS).text
        assert set(_emails(html)) == {u.email for u in people.values() if hasattr(u, "email")}

    def test_admins_are_operators_and_tenant_owners_and_admins(self, operator_client, people):
        emails = set(_emails(operator_client.get(USERS, {"view": "admins"}).text))
        assert emails == {people["operator"].email, "owner@acme.example", "member@acme.example"}

    def test_a_deleted_tenant_makes_nobody_an_admin(self, operator_client, people) -> None:
        Tenant.objects.filter(pk=people["gone"].pk).update(
            status=TenantStatus.DELETED, deleted_at=timezone.now()
        )
        emails = set(_emails(operator_client.get(USERS, {"view": "admins"}).text))
        assert "member@acme.example" not in emails

    def test_inactive(self, operator_client, people) -> None:
        assert _emails(operator_client.get(USERS, {"view": "inactive"}).text) == [
            "left@acme.example"
        ]

    @pytest.mark.parametrize("view", ["nope", "all", ""])
    def test_an_unknown_view_is_all(self, operator_client, people, view) -> None:
        html = operator_client.get(USERS, {"view": view}).text
        assert len(_emails(html)) == 4
        assert re.search(r'data-testid="chip-all"[^>]*aria-current="true"', html)

    def test_the_view_chips_carry_counts_that_follow_the_search(self, operator_client, people):
        assert _chip_counts(operator_client.get(USERS).text) == {
            "all": "4",
            "admins": "3",
            "inactive": "1",
        }
        html = operator_client.get(USERS, {"q": "acme", "view": "admins"}).text
        assert _chip_counts(html) == {"all": "3", "admins": "2", "inactive": "1"}
        assert re.search(r'data-testid="chip-admins"[^>]*aria-current="true"', html)
        # Each chip keeps the search and picks its view; All drops the parameter.
        assert 'href="/users/?q=acme&amp;view=inactive"' in html
        assert 'id="user-views-all" href="/users/?q=acme"' in html

    def test_the_result_count_is_the_only_live_region(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"view": "admins"}).text
        assert _count(html) == "3"
        content = html[html.index('id="main"') : html.index("</main>")]
        assert 'role="status" data-testid="result-count"' in content
        assert "aria-live" not in content and content.count('role="status"') == 1


class TestSearch:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("ada", {"owner@acme.example"}),
            ("MEMBER@", {"member@acme.example"}),
            ("acme.example", {"owner@acme.example", "member@acme.example", "left@acme.example"}),
            ("nobody-like-this", set()),
        ],
    )
    def test_by_name_or_email(self, operator_client, people, query, expected) -> None:
        html = operator_client.get(USERS, {"q": query}).text
        assert set(_emails(html)) == expected

    def test_search_within_a_view(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"q": "acme", "view": "inactive"}).text
        assert _emails(html) == ["left@acme.example"]

    def test_nothing_found_says_so(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"q": "zz<b>", "view": "admins"}).text
        empty = re.search(r'data-testid="users-empty">([^<]*)<', html)[1]
        assert empty == "No user matches “zz&lt;b&gt;” in this view."

    def test_an_htmx_search_answers_only_the_results(self, operator_client, people) -> None:
        response = operator_client.get(USERS, {"q": "ada"}, **HTMX)
        html = response.text
        assert "<html" not in html and 'id="user-search"' not in html
        assert '<aside class="sidebar"' not in html
        assert _emails(html) == ["owner@acme.example"]
        # A fragment is never what the browser shows for this URL on Back or a reload.
        assert "HX-Request" in response["Vary"]
        assert response["Cache-Control"] == "no-store"


class TestEveryPushedUrlIsAPage:
    """Every URL a swap pushes (a chip, a sort header, a page link, the search) is
    the whole page on a plain GET: the shell, the search box filled in, the same
    chip and sort selected. Back, Forward and a reload ask exactly this."""

    @pytest.mark.parametrize(
        "query",
        [
            "view=admins",
            "view=admins&q=sample",
            "q=sample&sort=-email",
            "view=admins&q=sample&sort=-email&page=2",
            "sort=last_seen&page=2",
            "sort=-tenants",
        ],
    )
    def test_a_plain_get_is_the_whole_page_with_its_inputs_filled(
        self, operator_client, query
    ) -> None:
        OperatorFactory.create_batch(PAGE_SIZE + 1, name="Sample Operator")
        response = operator_client.get(f"{USERS}?{query}")
        assert response.status_code == 200
        html = response.text
        assert '<aside class="sidebar"' in html and 'id="users-results"' in html
        params = dict(p.split("=") for p in query.split("&"))
        assert f'id="user-search" type="search" name="q" value="{params.get("q", "")}"' in html
        view = params.get("view", "all")
        assert re.search(rf'data-testid="chip-{view}"[^>]*aria-current="true"', html)
        sort = params.get("sort", "name")
        direction = "descending" if sort.startswith("-") else "ascending"
        assert re.search(
            rf'aria-sort="{direction}">\s*<a class="sort-link" id="sort-{sort.lstrip("-")}"', html
        )
        if "page" in params:
            assert re.search(r"Page 2 of 2", html)
        assert "HX-Request" in response["Vary"]
        assert response["Cache-Control"] == "private, no-store"

    def test_the_pushed_urls_are_the_ones_the_links_carry(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"view": "admins", "q": "acme", "sort": "-email"}).text
        for path in re.findall(r'hx-get="(/users/[^"]*)"[^>]*hx-push-url="true"', html):
            page = operator_client.get(path.replace("&amp;", "&"))
            assert page.status_code == 200 and '<aside class="sidebar"' in page.text, path

    def test_htmx_restoring_history_gets_the_whole_page(self, operator_client, people) -> None:
        html = operator_client.get(
            USERS,
            {"view": "admins"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_HISTORY_RESTORE_REQUEST="true",
        ).text
        assert '<aside class="sidebar"' in html


class TestSort:
    @pytest.fixture
    def sorted_people(self, operator):
        now = timezone.now()
        acme = Tenant.objects.create(slug="acme", name="Acme")
        beta = Tenant.objects.create(slug="beta", name="Beta")
        bea = UserFactory(email="zed@tenant.example", name="Bea", last_login=now)
        cal = UserFactory(email="amy@tenant.example", name="Cal", last_login=now - timedelta(1))
        abe = UserFactory(email="mid@tenant.example", name="Abe")
        for tenant in (acme, beta):
            Membership.objects.create(tenant=tenant, user=cal)
        Membership.objects.create(tenant=acme, user=bea)
        User.objects.filter(pk=operator.pk).update(last_login=now - timedelta(2))
        return [bea.email, cal.email, abe.email]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("", ["mid@", "zed@", "amy@"]),  # by name: Abe, Bea, Cal
            ("-name", ["amy@", "zed@", "mid@"]),
            ("email", ["amy@", "mid@", "zed@"]),
            ("-email", ["zed@", "mid@", "amy@"]),
            ("tenants", ["mid@", "zed@", "amy@"]),  # 0, 1, 2
            ("-tenants", ["amy@", "zed@", "mid@"]),
            ("last_seen", ["mid@", "amy@", "zed@"]),  # never first, then oldest
            ("-last_seen", ["zed@", "amy@", "mid@"]),  # most recent first, never last
        ],
    )
    def test_orders_by_the_column(self, operator_client, sorted_people, sort, expected) -> None:
        html = operator_client.get(USERS, {"sort": sort, "q": "tenant.example"}).text
        assert [e.split("tenant.example")[0] for e in _emails(html)] == expected

    def test_a_header_sorts_up_then_down_and_keeps_the_rest(self, operator_client, people):
        html = operator_client.get(USERS, {"view": "admins", "q": "a", "page": "1"}).text
        assert 'id="sort-email" href="/users/?q=a&amp;view=admins&amp;sort=email"' in html
        assert 'id="sort-name" href="/users/?q=a&amp;view=admins&amp;sort=-name"' in html
        html = operator_client.get(USERS, {"view": "admins", "q": "a", "sort": "email"}).text
        assert 'id="sort-email" href="/users/?q=a&amp;view=admins&amp;sort=-email"' in html
        assert re.search(r'aria-sort="ascending">\s*<a class="sort-link" id="sort-email"', html)
        # The search box sends the sort and the view along with the next search.
        assert '<input type="hidden" name="sort" value="email" form="user-search-form">' in html
        assert '<input type="hidden" name="view" value="admins" form="user-search-form">' in html

    def test_an_unknown_sort_is_by_name(self, operator_client, sorted_people) -> None:
        html = operator_client.get(USERS, {"sort": "password", "q": "tenant.example"}).text
        assert _emails(html)[0] == "mid@tenant.example"


class TestPagination:
    def test_pages_hold_page_size_and_link_onwards(self, operator_client) -> None:
        UserFactory.create_batch(PAGE_SIZE + 5, name="Sample Person")
        first = operator_client.get(USERS, {"q": "tenant.example"}).text
        assert len(_emails(first)) == PAGE_SIZE
        assert 'href="/users/?q=tenant.example&amp;page=2"' in first
        assert _count(first) == str(PAGE_SIZE + 5)
        second = operator_client.get(USERS, {"q": "tenant.example", "page": 2}).text
        assert len(_emails(second)) == 5
        assert set(_emails(first)).isdisjoint(_emails(second))
        assert 'href="/users/?q=tenant.example"' in second  # back to page 1
        # Past the end is the last page, not an error.
        assert operator_client.get(USERS, {"page": 99}).status_code == 200

    def test_a_new_view_or_sort_starts_at_page_one(self, operator_client) -> None:
        UserFactory.create_batch(PAGE_SIZE + 5)
        html = operator_client.get(USERS, {"page": 2, "sort": "email"}).text
        assert 'id="user-views-admins" href="/users/?view=admins&amp;sort=email"' in html
        assert 'id="sort-email" href="/users/?sort=-email"' in html

    def test_query_count_is_flat_with_the_number_of_users(self, operator_client) -> None:
        def queries(**params: str) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert operator_client.get(USERS, params).status_code == 200
            return len(captured)

        UserFactory(is_active=False)  # every view has a row at both sizes
        operator_client.get(USERS)  # warm the session and user lookups
        small = {view: queries(view=view, q="example") for view in ("", "admins", "inactive")}
        assert max(small.values()) <= 5
        tenant = Tenant.objects.create(slug="big", name="Big")
        for user in UserFactory.create_batch(PAGE_SIZE + 10):
            Membership.objects.create(tenant=tenant, user=user, role=MemberRole.ADMIN)
        OperatorFactory.create_batch(5)
        UserFactory.create_batch(5, is_active=False)
        for view, count in small.items():
            assert queries(view=view, q="example") == count, view
        assert queries(view="admins", sort="-tenants", page="2") == small["admins"]
