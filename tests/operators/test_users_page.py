from __future__ import annotations

import re

import pytest
from django.urls import reverse

from operators.views.users import PAGE_SIZE
from tenants.models import MemberRole, Membership, Tenant, TenantStatus
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
USERS = reverse("operators:users")


def _emails(html: str) -> list[str]:
    return re.findall(r'data-testid="user-row" data-email="([^"]+)"', html)


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
        from django.utils import timezone

        Tenant.objects.filter(pk=people["gone"].pk).update(
            status=TenantStatus.DELETED, deleted_at=timezone.now()
        )
        emails = set(_emails(operator_client.get(USERS, {"view": "admins"}).text))
        assert "member@acme.example" not in emails

    def test_inactive(self, operator_client, people) -> None:
        assert _emails(operator_client.get(USERS, {"view": "inactive"}).text) == [
            "left@acme.example"
        ]

    def test_an_unknown_view_is_all(self, operator_client, people) -> None:
        assert len(_emails(operator_client.get(USERS, {"view": "nope"}).text)) == 4

    def test_the_views_carry_their_counts(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"q": "acme"}).text
        counts = dict(
            re.findall(r'data-testid="users-view-(\w+)">\s*\w+ <span[^>]*>(\d+)</span>', html)
        )
        assert counts == {"all": "3", "admins": "2", "inactive": "1"}


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

    def test_an_htmx_search_answers_only_the_results(self, operator_client, people) -> None:
        html = operator_client.get(USERS, {"q": "ada"}, HTTP_HX_REQUEST="true").text
        assert "<html" not in html and 'id="user-search"' not in html
        assert _emails(html) == ["owner@acme.example"]


class TestPagination:
    def test_pages_hold_page_size_and_link_onwards(self, operator_client) -> None:
        UserFactory.create_batch(PAGE_SIZE + 5, name="Sample Person")
        first = operator_client.get(USERS, {"q": "tenant.example"}).text
        assert len(_emails(first)) == PAGE_SIZE
        assert 'href="/users/?q=tenant.example&amp;page=2"' in first
        second = operator_client.get(USERS, {"q": "tenant.example", "page": 2}).text
        assert len(_emails(second)) == 5
        assert set(_emails(first)).isdisjoint(_emails(second))
        # Past the end is the last page, not an error.
        assert operator_client.get(USERS, {"page": 99}).status_code == 200

    def test_query_count_does_not_grow_with_the_users(
        self, operator_client, django_assert_max_num_queries
    ) -> None:
        operator_client.get(USERS)
        with django_assert_max_num_queries(5):
            operator_client.get(USERS)
        tenant = Tenant.objects.create(slug="big", name="Big")
        for user in UserFactory.create_batch(PAGE_SIZE + 10):
            Membership.objects.create(tenant=tenant, user=user, role=MemberRole.ADMIN)
        OperatorFactory.create_batch(5)
        for view in ("all", "admins", "inactive"):
            with django_assert_max_num_queries(5):
                operator_client.get(USERS, {"view": view, "q": "example"})
