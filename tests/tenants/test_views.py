from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tenants import services
from tenants.models import ProvisioningState, Tenant, TenantStatus
from tests.console.url_matrix import CONSOLE_OBJECT, MATRIX
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import MembershipFactory, PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def acme():
    partner = PartnerFactory(slug="nordic-it", name="Nordic IT Partners")
    tenant = TenantFactory(slug="acme", name="Acme Logistics", partner=partner)
    for integration in ("authentik", "stalwart", "ocis"):
        ProvisioningState.objects.create(tenant=tenant, integration=integration)
    return tenant


def _object_urls() -> list[tuple[str, str]]:
    entries = sorted(MATRIX.items())
    return [(n, reverse(n, kwargs=e[1])) for n, e in entries if e[0] == CONSOLE_OBJECT]


@pytest.mark.parametrize(("name", "url"), _object_urls())
def test_object_pages_are_for_operators_only(client, acme, name, url) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")
    assert client.get(url, headers=HX).status_code == 401
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200
    assert client.get(url.replace("acme", "nope").replace("nordic-it", "nope")).status_code == 404


class TestTenantList:
    def test_chips_count_live_and_follow_the_search(self, operator_client, acme) -> None:
        TenantFactory(slug="globex", name="Globex Freight", status="suspended")
        TenantFactory(slug="initech", name="Initech", status="pending")
        TenantFactory(slug="gone", status="deleted", deleted_at=timezone.now())
        page = operator_client.get("/tenants/")
        chips = page.context["chips"]
        assert chips == [("", "All", 3), ("active", "Active", 1), ("pending", "Pending", 1),
                         ("suspended", "Suspended", 1)]  # fmt: skip
        assert "gone" not in page.text
        found = operator_client.get("/tenants/?q=freight", headers=HX)
        assert [t.slug for t in found.context["page"]] == ["globex"]
        assert found.context["chips"][0] == ("", "All", 1)
        assert "<html" not in found.text  # the fragment, not the page

    def test_a_chip_filters(self, operator_client, acme) -> None:
        TenantFactory(slug="globex", status="suspended")
        page = operator_client.get("/tenants/?status=suspended")
        assert [t.slug for t in page.context["page"]] == ["globex"]
        assert 'aria-current="true"' in page.text

    def test_paginates(self, operator_client) -> None:
        TenantFactory.create_batch(55)
        first = operator_client.get("/tenants/")
        assert len(first.context["page"].object_list) == 50
        assert 'data-testid="next-page"' in first.text
        assert len(operator_client.get("/tenants/?page=2").context["page"].object_list) == 5

    @pytest.mark.parametrize("size", [2, 40])
    def test_queries_do_not_grow(
        self, operator_client, size, django_assert_max_num_queries
    ) -> None:
        for _ in range(size):
            tenant = services.tenant_create(
                slug=f"t{_}", name=f"T {_}", plan="starter", partner=PartnerFactory(), actor=None
            )
            MembershipFactory(tenant=tenant)
        with django_assert_max_num_queries(8):
            assert operator_client.get("/tenants/").status_code == 200


class TestTenantDetail:
    @pytest.mark.parametrize(
        ("tab", "marker"),
        [("overview", "Stable id"), ("users", "members-table"), ("resources", "Reconcile"),
         ("billing", "sample-label"), ("audit", "audit-table"),
         ("support", "support-placeholder"), ("danger", "suspend-dialog")],
    )  # fmt: skip
    def test_every_tab(self, operator_client, acme, tab, marker) -> None:
        page = operator_client.get(f"/tenants/acme/?tab={tab}")
        assert page.status_code == 200
        assert marker in page.text
        fragment = operator_client.get(f"/tenants/acme/?tab={tab}", headers=HX)
        assert marker in fragment.text and "<html" not in fragment.text

    @pytest.mark.parametrize("tab", ["overview", "users", "resources", "audit", "danger"])
    def test_queries_do_not_grow(
        self, operator_client, acme, tab, django_assert_max_num_queries
    ) -> None:
        for _ in range(30):
            MembershipFactory(tenant=acme, user=UserFactory(last_login=timezone.now()))
            services.tenant_update(tenant=acme, name=f"Acme {_}", actor=None)
        with django_assert_max_num_queries(9):
            assert operator_client.get(f"/tenants/acme/?tab={tab}").status_code == 200

    def test_users_are_loaded_only_when_their_tab_opens(self, operator_client, acme) -> None:
        MembershipFactory(tenant=acme, user=UserFactory(email="kim@acme.example"))
        assert "kim@acme.example" not in operator_client.get("/tenants/acme/").text
        assert "kim@acme.example" in operator_client.get("/tenants/acme/?tab=users").text

    def test_users_are_paged_like_the_tenants_list(self, operator_client, acme) -> None:
        from tenants.views.common import PAGE_SIZE

        now = timezone.now()
        for n in range(PAGE_SIZE + 3):  # member000 signed in last, so it comes first
            user = UserFactory(
                email=f"member{n:03}@acme.example", last_login=now - timedelta(minutes=n)
            )
            MembershipFactory(tenant=acme, user=user)
        first = operator_client.get("/tenants/acme/?tab=users").text
        assert first.count('data-testid="member-row"') == PAGE_SIZE
        assert "member000@acme.example" in first and "member050@acme.example" not in first
        assert f"Page 1 of 2 · {PAGE_SIZE + 3} in all" in first
        assert 'hx-get="?tab=users&page=2" hx-target="#tenant-members"' in first

        # A page link swaps only the members: no header, no tabs, no second #tenant-members.
        page2 = operator_client.get(
            "/tenants/acme/?tab=users&page=2", headers={**HX, "HX-Target": "tenant-members"}
        ).text
        assert page2.count('data-testid="member-row"') == 3
        assert "member052@acme.example" in page2 and "member000@acme.example" not in page2
        assert 'data-testid="tabs"' not in page2 and 'id="tenant-members"' not in page2
        assert 'rel="prev"' in page2

        # Without htmx (a pushed URL reloaded, or Back) the whole page opens on that page.
        full = operator_client.get("/tenants/acme/?tab=users&page=2").text
        assert "<html" in full and full.count('data-testid="member-row"') == 3
        assert 'aria-current="page"' in full and 'id="tenant-members"' in full
        # A tab switch still gets the whole fragment.
        tab = operator_client.get("/tenants/acme/?tab=users", headers=HX).text
        assert 'data-testid="tabs"' in tab and "<html" not in tab
        # Garbage or a page past the end gives a real page, not an error.
        assert operator_client.get("/tenants/acme/?tab=users&page=nope").status_code == 200
        last = operator_client.get("/tenants/acme/?tab=users&page=99").text
        assert last.count('data-testid="member-row"') == 3

    def test_a_users_page_costs_the_same_queries_whatever_the_members(
        self, operator_client, acme, django_assert_max_num_queries
    ) -> None:
        members = {**HX, "HX-Target": "tenant-members"}
        operator_client.get("/tenants/acme/?tab=users")  # warm the session and user lookups
        with django_assert_max_num_queries(9):
            assert operator_client.get("/tenants/acme/?tab=users").status_code == 200
        with django_assert_max_num_queries(6):
            operator_client.get("/tenants/acme/?tab=users&page=2", headers=members)
        for _ in range(120):
            MembershipFactory(tenant=acme, user=UserFactory(last_login=timezone.now()))
        for page in ("1", "3"):
            with django_assert_max_num_queries(9):
                full = operator_client.get(f"/tenants/acme/?tab=users&page={page}")
            assert full.status_code == 200
            with django_assert_max_num_queries(6):
                part = operator_client.get(f"/tenants/acme/?tab=users&page={page}", headers=members)
            assert part.text.count('data-testid="member-row"') in (50, 20)

    def test_audit_tab_shows_this_tenants_real_events(self, operator_client, acme) -> None:
        other = TenantFactory(slug="globex")
        services.tenant_suspend(tenant=acme, actor=None)
        services.tenant_suspend(tenant=other, actor=None)
        page = operator_client.get("/tenants/acme/?tab=audit")
        events = page.context["events"]
        assert [e.action for e in events] == ["tenant.suspended"]
        assert all(e.tenant_id == acme.pk for e in events)

    def test_billing_is_labelled_sample(self, operator_client, acme) -> None:
        text = operator_client.get("/tenants/acme/?tab=billing").text
        assert "Sample data" in text and "Nothing below is real" in text

    def test_edit_saves_and_audits(self, operator_client, acme) -> None:
        form = operator_client.get("/tenants/acme/?tab=overview&edit=1", headers=HX)
        assert 'data-testid="tenant-form"' in form.text
        response = operator_client.post(
            "/tenants/acme/update/",
            {"name": "Acme Shipping", "plan": "business", "billing_email": "ap@acme.example",
             "domains": "acme.example\nmail.acme.example"},
            headers=HX,
        )  # fmt: skip
        assert "Tenant saved." in response.text
        acme.refresh_from_db()
        assert (acme.name, acme.plan, acme.domains) == (
            "Acme Shipping", "business", ["acme.example", "mail.acme.example"],
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="tenant.updated", tenant=acme).count() == 1

    def test_an_invalid_edit_names_the_field_and_writes_nothing(
        self, operator_client, acme
    ) -> None:
        before = AuditEvent.objects.count()
        response = operator_client.post(
            "/tenants/acme/update/",
            {"name": "Acme", "plan": "starter", "domains": "not a domain!"},
            headers=HX,
        )
        assert response.status_code == 200
        assert "field-error" in response.text
        assert AuditEvent.objects.count() == before

    def test_suspend_then_resume_with_htmx(self, operator_client, acme) -> None:
        suspended = operator_client.post("/tenants/acme/suspend/", headers=HX)
        assert 'data-status="suspended"' in suspended.text
        assert "is suspended" in suspended.text
        refused = operator_client.post("/tenants/acme/suspend/", headers=HX)
        assert "only an active tenant can be suspended" in refused.text
        resumed = operator_client.post("/tenants/acme/resume/", headers=HX)
        assert 'data-status="active"' in resumed.text
        assert Tenant.objects.get(slug="acme").status == TenantStatus.ACTIVE

    def test_without_htmx_an_action_redirects_back_with_a_message(
        self, operator_client, acme
    ) -> None:
        response = operator_client.post("/tenants/acme/delete/")
        assert response.status_code == 302
        assert response.url == "/tenants/acme/?tab=danger"
        page = operator_client.get(response.url)
        assert "can be restored from the admin" in page.text
        assert Tenant.objects.get(slug="acme").status == TenantStatus.DELETED

    def test_reconcile_reports_the_outcome(self, operator_client, acme) -> None:
        response = operator_client.post("/tenants/acme/reconcile/", headers=HX)
        assert "Reconcile finished" in response.text
        assert "not configured" in response.text
        assert set(
            ProvisioningState.objects.filter(tenant=acme).values_list("state", flat=True)
        ) == {"not_configured"}


class TestPartners:
    def test_list_and_detail(self, operator_client, acme, django_assert_max_num_queries) -> None:
        TenantFactory(partner=acme.partner, slug="second")
        for _ in range(20):
            PartnerFactory()
        with django_assert_max_num_queries(6):
            listing = operator_client.get("/partners/")
        assert "Nordic IT Partners" in listing.text
        with django_assert_max_num_queries(8):
            detail = operator_client.get("/partners/nordic-it/")
        assert [t.slug for t in detail.context["page"]] == ["second", "acme"]


class TestOverview:
    def test_kpis_meter_recent_and_follow_up(
        self, operator_client, acme, django_assert_max_num_queries
    ) -> None:
        TenantFactory(slug="frozen", status="suspended")
        stale = TenantFactory(slug="stale", status="pending")
        Tenant.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=8))
        broken = TenantFactory(slug="broken")
        ProvisioningState.objects.create(tenant=broken, integration="ocis", state="error",
                                         last_error="oCIS answered 500")  # fmt: skip
        TenantFactory(slug="fresh", status="pending")
        with django_assert_max_num_queries(10):
            page = operator_client.get("/")
        o = page.context["overview"]
        assert o.tenants == 5
        assert o.by_status == {"active": 2, "pending": 2, "suspended": 1}
        assert o.partners == 1
        assert {f.tenant.slug: f.reasons for f in o.follow_up} == {
            "frozen": ("suspended",),
            "stale": ("pending for more than 7 days",),
            "broken": ("provisioning error",),
        }
        assert 'data-testid="status-meter"' in page.text
