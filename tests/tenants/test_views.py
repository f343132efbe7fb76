from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tenants import services
from tenants.models import ProvisioningState, Tenant, TenantStatus
from tenants.views.detail import MEMBERS
from tests.console.url_matrix import CONSOLE_OBJECT, MATRIX
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import MembershipFactory, PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
SHELL = '<aside class="sidebar"'
ACTIONS = ("suspend", "resume", "delete", "reconcile")


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


def _slugs(response) -> list[str]:
    return re.findall(r'data-testid="tenant-row" data-slug="([^"]+)"', response.text)


def _search_value(response) -> str | None:
    found = re.search(r'id="list-search" type="search" name="q" value="([^"]*)"', response.text)
    return found.group(1) if found else None


def _is_full_page(response) -> bool:
    return "<html" in response.text and SHELL in response.text


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


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_post_for_operators_only(client, acme, action) -> None:
    url = reverse(f"tenants:{action}", kwargs={"slug": "acme"})
    anonymous = client.post(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")
    assert client.post(url, headers=HX).status_code == 401
    client.force_login(UserFactory())
    assert client.post(url).status_code == 403
    assert client.put(url).status_code in (403, 405)
    client.force_login(OperatorFactory())
    assert client.put(url).status_code == 405
    assert client.post(url.replace("acme", "nope")).status_code == 404


class TestPushedUrlsArePages:
    """Every URL a swap pushes answers a normal GET (reload, Back, Forward) with the
    whole page, inputs filled from the query string; a swap gets the fragment, never
    cached, and every answer varies on HX-Request."""

    URLS = [
        "/tenants/?q=acme",
        "/tenants/?status=suspended",
        "/tenants/?status=active&q=ac&sort=name",
        "/tenants/?sort=-created",
        "/tenants/?plan=business&partner=nordic-it&problem=follow_up",
        "/tenants/?page=2",
        "/partners/?q=nordic&sort=-tenants",
        "/partners/nordic-it/?sort=name&page=1",
        "/tenants/acme/?tab=users",
        "/tenants/acme/?tab=users&page=2",
        "/tenants/acme/?tab=overview&edit=1",
        "/tenants/acme/?tab=danger",
        "/tenants/acme/?tab=resources",
    ]

    @pytest.mark.parametrize("url", URLS)
    def test_a_get_is_the_whole_page(self, operator_client, acme, url) -> None:
        response = operator_client.get(url)
        assert response.status_code == 200
        assert _is_full_page(response)
        if "/tenants/?" in url or "/partners/?" in url:  # the lists' search box
            q = re.search(r"q=([^&]*)", url)
            assert _search_value(response) == (q.group(1) if q else "")
        assert "HX-Request" in response["Vary"]
        assert response["Cache-Control"] == "private, no-store"

    @pytest.mark.parametrize("url", URLS)
    def test_a_swap_is_a_fragment_never_cached(self, operator_client, acme, url) -> None:
        response = operator_client.get(url, headers=HX)
        assert response.status_code == 200
        assert "<html" not in response.text and SHELL not in response.text
        assert response["Cache-Control"] == "no-store"
        assert "HX-Request" in response["Vary"]

    def test_history_restore_gets_the_whole_page(self, operator_client, acme) -> None:
        restore = {**HX, "HX-History-Restore-Request": "true"}
        assert _is_full_page(operator_client.get("/tenants/?status=active", headers=restore))
        assert _is_full_page(operator_client.get("/tenants/acme/?tab=users", headers=restore))

    def test_inputs_are_filled_from_the_query(self, operator_client, acme) -> None:
        page = operator_client.get(
            "/tenants/?q=acm&status=active&plan=starter&partner=nordic-it&problem=follow_up&sort=name"
        )
        assert _search_value(page) == "acm"
        assert '<option value="starter" selected>' in page.text
        assert '<option value="nordic-it" selected>' in page.text
        assert '<option value="follow_up" selected>' in page.text
        assert re.search(r'data-testid="chip-active"\s+aria-current="true"', page.text)
        assert 'aria-sort="ascending"' in page.text
        # The search keeps the filters and sort; the filters keep the search, chip and sort.
        for name, value in (("status", "active"), ("plan", "starter"), ("sort", "name")):
            assert f'name="{name}" value="{value}" form="list-search-form"' in page.text
        for name, value in (("q", "acm"), ("status", "active"), ("sort", "name")):
            assert f'name="{name}" value="{value}" form="tenant-filters"' in page.text
        assert 'name="plan" value="starter" form="tenant-filters"' not in page.text

    def test_the_members_page_and_the_edit_form_are_whole_pages(
        self, operator_client, acme
    ) -> None:
        edit = operator_client.get("/tenants/acme/?tab=overview&edit=1")
        assert 'data-testid="tenant-form"' in edit.text and _is_full_page(edit)
        assert re.search(r'name="name"[^>]*autofocus', edit.text)


class TestTenantList:
    def test_chips_count_live_and_follow_the_search_and_filters(
        self, operator_client, acme
    ) -> None:
        TenantFactory(slug="globex", name="Globex Freight", status="suspended", plan="business")
        TenantFactory(slug="initech", name="Initech", status="pending")
        TenantFactory(slug="gone", status="deleted", deleted_at=timezone.now())
        page = operator_client.get("/tenants/")
        counts = {c.value: c.count for c in page.context["chips"]}
        assert counts == {"": 3, "active": 1, "pending": 1, "suspended": 1}
        assert "gone" not in _slugs(page)
        found = operator_client.get("/tenants/?q=freight", headers=HX)
        assert _slugs(found) == ["globex"]
        assert page.context["chips"][0].label == "All"
        assert {c.value: c.count for c in found.context["chips"]}[""] == 1
        business = operator_client.get("/tenants/?plan=business&status=active")
        assert {c.value: c.count for c in business.context["chips"]} == {
            "": 1, "active": 0, "pending": 0, "suspended": 1,
        }  # fmt: skip
        assert _slugs(business) == []
        assert 'data-testid="clear-filters"' in business.text

    def test_a_chip_filters_and_is_current(self, operator_client, acme) -> None:
        TenantFactory(slug="globex", status="suspended")
        page = operator_client.get("/tenants/?status=suspended")
        assert _slugs(page) == ["globex"]
        assert re.search(r'id="status-chips-suspended"[^>]*aria-current="true"', page.text)
        # Chip links keep the search and the other filters, and go back to page 1.
        narrowed = operator_client.get("/tenants/?q=glo&plan=starter&page=2&sort=name")
        chip = next(c for c in narrowed.context["chips"] if c.value == "suspended")
        assert chip.url == "/tenants/?q=glo&status=suspended&plan=starter&sort=name"

    def test_sorting_is_in_the_url(self, operator_client) -> None:
        south = PartnerFactory(slug="south", name="South Resellers")
        north = PartnerFactory(slug="north", name="North Resellers")
        TenantFactory(
            slug="bravo", name="Bravo", status="pending", plan="enterprise", partner=south
        )
        TenantFactory(slug="alpha", name="Alpha", status="suspended", plan="starter")
        TenantFactory(
            slug="charlie", name="Charlie", status="active", plan="business", partner=north
        )
        assert _slugs(operator_client.get("/tenants/")) == ["charlie", "alpha", "bravo"]
        assert _slugs(operator_client.get("/tenants/?sort=name")) == ["alpha", "bravo", "charlie"]
        assert _slugs(operator_client.get("/tenants/?sort=-name")) == ["charlie", "bravo", "alpha"]
        assert _slugs(operator_client.get("/tenants/?sort=status")) == ["charlie", "bravo", "alpha"]
        assert _slugs(operator_client.get("/tenants/?sort=plan")) == ["charlie", "bravo", "alpha"]
        partners = _slugs(operator_client.get("/tenants/?sort=partner"))
        assert partners.index("charlie") < partners.index("bravo")  # North before South
        assert _slugs(operator_client.get("/tenants/?sort=created")) == [
            "bravo",
            "alpha",
            "charlie",
        ]
        # The header links: the current column flips, the others start ascending.
        page = operator_client.get("/tenants/?sort=name&status=active")
        assert 'href="/tenants/?status=active&amp;sort=-name"' in page.text
        assert 'href="/tenants/?status=active&amp;sort=plan"' in page.text
        assert 'id="sort-name"' in page.text and 'aria-sort="ascending"' in page.text
        # Garbage sorts fall back to the default, never an error.
        assert operator_client.get("/tenants/?sort=password").status_code == 200

    def test_plan_partner_and_problem_filters(self, operator_client, acme) -> None:
        now = timezone.now()
        TenantFactory(slug="big", plan="enterprise")
        stale = TenantFactory(slug="stale", status="pending")
        Tenant.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=8))
        TenantFactory(slug="fresh", status="pending")
        broken = TenantFactory(slug="broken")
        ProvisioningState.objects.create(tenant=broken, integration="ocis", state="error")
        TenantFactory(slug="frozen", status="suspended")
        gone = TenantFactory(slug="gone", status="deleted", deleted_at=now)
        ProvisioningState.objects.create(tenant=gone, integration="ocis", state="error")

        def slugs(query: str) -> set[str]:
            return set(_slugs(operator_client.get(f"/tenants/?{query}")))

        assert slugs("plan=enterprise") == {"big"}
        assert slugs("partner=nordic-it") == {"acme"}
        assert slugs("partner=nobody") == set()
        assert slugs("problem=provisioning_error") == {"broken"}
        assert slugs("problem=pending_long") == {"stale"}
        assert slugs("problem=follow_up") == {"stale", "broken", "frozen"}
        assert slugs("problem=follow_up&status=suspended") == {"frozen"}
        assert slugs("problem=nonsense") == {"acme", "big", "stale", "fresh", "broken", "frozen"}

    def test_rows_link_to_the_tenant(self, operator_client, acme) -> None:
        page = operator_client.get("/tenants/")
        assert (
            '<a class="cell-primary tn-row-link" href="/tenants/acme/">Acme Logistics</a>'
            in page.text
        )

    def test_paginates_with_the_pager(self, operator_client) -> None:
        TenantFactory.create_batch(55)
        first = operator_client.get("/tenants/")
        assert len(first.context["page"].object_list) == 50
        assert 'id="pager-next" href="/tenants/?page=2"' in first.text
        second = operator_client.get("/tenants/?page=2")
        assert len(second.context["page"].object_list) == 5
        assert 'id="pager-previous" href="/tenants/"' in second.text
        assert 'data-testid="result-count"><span class="tabular">55</span> tenants' in first.text

    @pytest.mark.parametrize("size", [2, 40])
    def test_queries_do_not_grow(self, operator_client, size, django_assert_num_queries) -> None:
        for n in range(size):
            tenant = services.tenant_create(
                slug=f"t{n}", name=f"T {n}", plan="starter", partner=PartnerFactory(), actor=None
            )
            MembershipFactory(tenant=tenant)
        operator_client.get("/tenants/")  # the session
        # Session, user, chip counts, page count, rows, provisioning, partners (select).
        with django_assert_num_queries(7):
            assert operator_client.get("/tenants/?sort=partner").status_code == 200
        # A swap: no partners for the filter (it is outside the swapped region).
        with django_assert_num_queries(6):
            assert operator_client.get("/tenants/?plan=starter", headers=HX).status_code == 200


class TestTenantDetail:
    @pytest.mark.parametrize(
        ("tab", "marker"),
        [("overview", "Stable id"), ("users", "members-table"), ("resources", "provisioning-table"),
         ("billing", "sample-label"), ("audit", "audit-table"),
         ("support", "support-placeholder"), ("danger", "suspend-dialog")],
    )  # fmt: skip
    def test_every_tab(self, operator_client, acme, tab, marker) -> None:
        page = operator_client.get(f"/tenants/acme/?tab={tab}")
        assert page.status_code == 200 and _is_full_page(page)
        assert marker in page.text
        assert re.search(rf'id="tab-{tab}"[^>]*aria-current="page"', page.text)
        fragment = operator_client.get(f"/tenants/acme/?tab={tab}", headers=HX)
        assert marker in fragment.text and "<html" not in fragment.text
        assert 'id="tenant-detail"' in fragment.text

    def test_a_deleted_tenant_still_opens_by_url(self, operator_client, acme) -> None:
        services.tenant_soft_delete(tenant=acme, actor=None)
        assert "acme" not in _slugs(operator_client.get("/tenants/"))
        page = operator_client.get("/tenants/acme/")
        assert page.status_code == 200
        assert 'data-testid="deleted-alert"' in page.text
        assert 'data-testid="tenant-edit"' not in page.text
        danger = operator_client.get("/tenants/acme/?tab=danger").text
        assert "This tenant is already deleted." in danger

    @pytest.mark.parametrize("tab", ["overview", "users", "resources", "audit", "danger"])
    @pytest.mark.parametrize("size", [1, 30])
    def test_queries_do_not_grow(
        self, operator_client, acme, tab, size, django_assert_num_queries
    ) -> None:
        for n in range(size):
            MembershipFactory(tenant=acme, user=UserFactory(last_login=timezone.now()))
            services.tenant_update(tenant=acme, name=f"Acme {n}", actor=None)
        operator_client.get("/tenants/acme/")
        expected = {"overview": 4, "users": 6, "resources": 4, "audit": 5, "danger": 4}[tab]
        with django_assert_num_queries(expected):
            assert operator_client.get(f"/tenants/acme/?tab={tab}").status_code == 200

    def test_the_palette_remembers_an_opened_tenant(self, operator_client, acme) -> None:
        from console import palette

        operator_client.get("/tenants/acme/?tab=users")
        recent = operator_client.session[palette._SESSION_KEY]["tenant"]
        assert recent[0] == {"key": "acme", "title": "Acme Logistics", "url": "/tenants/acme/"}

    def test_users_are_loaded_only_when_their_tab_opens(self, operator_client, acme) -> None:
        MembershipFactory(tenant=acme, user=UserFactory(email="kim@acme.example"))
        assert "kim@acme.example" not in operator_client.get("/tenants/acme/").text
        assert "kim@acme.example" in operator_client.get("/tenants/acme/?tab=users").text

    def test_users_are_paged_with_the_pager(self, operator_client, acme) -> None:
        size = MEMBERS.page_size
        now = timezone.now()
        for n in range(size + 3):  # member000 signed in last, so it comes first
            user = UserFactory(
                email=f"member{n:03}@acme.example", last_login=now - timedelta(minutes=n)
            )
            MembershipFactory(tenant=acme, user=user)
        first = operator_client.get("/tenants/acme/?tab=users").text
        assert first.count('data-testid="member-row"') == size
        assert "member000@acme.example" in first and "member050@acme.example" not in first
        assert f'<span class="tabular">{size + 3}</span> members' in first
        assert (
            'id="members-pager-next" href="/tenants/acme/?tab=users&amp;page=2" '
            'hx-get="/tenants/acme/?tab=users&amp;page=2" hx-target="#tenant-members" '
            'hx-push-url="true"'
        ) in first

        # A page link swaps only the members: no header, no tabs, no second #tenant-members.
        members = {**HX, "HX-Target": "tenant-members"}
        page2 = operator_client.get("/tenants/acme/?tab=users&page=2", headers=members)
        assert page2.text.count('data-testid="member-row"') == 3
        assert "member052@acme.example" in page2.text and "member000@acme.example" not in page2.text
        assert 'data-testid="tabs"' not in page2.text and 'id="tenant-members"' not in page2.text
        assert 'id="members-pager-previous" href="/tenants/acme/?tab=users"' in page2.text
        assert page2["Cache-Control"] == "no-store"

        # Without htmx (a pushed URL reloaded, or Back) the whole page opens on that page.
        full = operator_client.get("/tenants/acme/?tab=users&page=2")
        assert _is_full_page(full) and full.text.count('data-testid="member-row"') == 3
        assert 'id="tenant-members"' in full.text
        # Garbage or a page past the end gives a real page, not an error.
        assert operator_client.get("/tenants/acme/?tab=users&page=nope").status_code == 200
        last = operator_client.get("/tenants/acme/?tab=users&page=99").text
        assert last.count('data-testid="member-row"') == 3

    def test_a_users_page_costs_the_same_queries_whatever_the_members(
        self, operator_client, acme, django_assert_num_queries
    ) -> None:
        members = {**HX, "HX-Target": "tenant-members"}
        for count in (3, 120):  # one page, then three
            for _ in range(count):
                MembershipFactory(tenant=acme, user=UserFactory(last_login=timezone.now()))
            operator_client.get("/tenants/acme/?tab=users")  # the session
            for page in ("1", "3"):
                with django_assert_num_queries(6):
                    full = operator_client.get(f"/tenants/acme/?tab=users&page={page}")
                assert full.status_code == 200
                with django_assert_num_queries(6):
                    operator_client.get(f"/tenants/acme/?tab=users&page={page}", headers=members)

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
        assert 'data-testid="sample-label"' in text
        assert "Sample data" in text and "Nothing below is real" in text


class TestEdit:
    def test_the_form_opens_with_its_first_field_focused(self, operator_client, acme) -> None:
        form = operator_client.get("/tenants/acme/?tab=overview&edit=1", headers=HX)
        assert 'data-testid="tenant-form"' in form.text
        assert re.search(r'<input type="text" name="name"[^>]*autofocus', form.text)
        assert form.text.count("autofocus") == 1
        edit_link = operator_client.get("/tenants/acme/").text
        assert 'hx-get="/tenants/acme/?tab=overview&amp;edit=1"' in edit_link
        assert re.search(r'id="tenant-edit"[^>]*hx-push-url="true"', edit_link)

    def test_saves_and_audits(self, operator_client, acme) -> None:
        response = operator_client.post(
            "/tenants/acme/update/",
            {"name": "Acme Shipping", "plan": "business", "billing_email": "ap@acme.example",
             "domains": "acme.example\nmail.acme.example"},
            headers=HX,
        )  # fmt: skip
        assert response.status_code == 200
        assert re.search(r'data-swap-focus data-testid="notice"', response.text)
        assert "Tenant saved." in response.text
        # The address bar leaves the edit URL, so a reload does not reopen the form.
        assert response["HX-Replace-Url"] == "/tenants/acme/?tab=overview"
        acme.refresh_from_db()
        assert (acme.name, acme.plan, acme.domains) == (
            "Acme Shipping", "business", ["acme.example", "mail.acme.example"],
        )  # fmt: skip
        assert AuditEvent.objects.filter(action="tenant.updated", tenant=acme).count() == 1

    @pytest.mark.parametrize("headers", [HX, {}])
    def test_an_invalid_edit_is_a_400_naming_the_field(
        self, operator_client, acme, headers
    ) -> None:
        before = AuditEvent.objects.count()
        response = operator_client.post(
            "/tenants/acme/update/",
            {"name": "Acme", "plan": "starter", "domains": "not a domain!"},
            headers=headers,
        )
        assert response.status_code == 400
        field = re.search(r"<textarea[^>]*>", response.text).group(0)
        assert 'aria-invalid="true"' in field
        assert 'aria-describedby="id_domains_helptext id_domains-errors"' in field
        assert "autofocus" in field
        error = re.search(r'id="id_domains-errors".*?</div>', response.text, re.S)
        assert error and "Mail domains: " in error.group(0)  # the error names the field
        assert (
            re.search(r'<input type="text" name="name"[^>]*>', response.text)
            .group(0)
            .count("aria-invalid")
            == 0
        )
        assert AuditEvent.objects.count() == before

    def test_a_missing_name_is_refused_before_the_service(self, operator_client, acme) -> None:
        response = operator_client.post(
            "/tenants/acme/update/", {"name": "", "plan": "starter"}, headers=HX
        )
        assert response.status_code == 400
        name = re.search(r'<input type="text" name="name"[^>]*>', response.text).group(0)
        assert 'aria-invalid="true"' in name and 'aria-describedby="id_name-errors"' in name
        assert 'data-testid="id_name-errors"' in response.text


class TestActions:
    @pytest.mark.parametrize("action", ACTIONS)
    def test_a_get_is_the_confirm_page(self, operator_client, acme, action) -> None:
        page = operator_client.get(f"/tenants/acme/{action}/")
        assert page.status_code == 200 and _is_full_page(page)
        assert 'data-testid="confirm-page"' in page.text
        assert f'<form method="post" action="/tenants/acme/{action}/"' in page.text
        tab = "resources" if action == "reconcile" else "danger"
        assert f'href="/tenants/acme/?tab={tab}">Cancel</a>' in page.text
        assert Tenant.objects.get(slug="acme").status == TenantStatus.ACTIVE  # nothing done

    def test_the_confirm_page_says_why_an_action_does_not_apply(
        self, operator_client, acme
    ) -> None:
        page = operator_client.get("/tenants/acme/resume/")
        assert "Only a suspended tenant can be resumed; this one is active." in page.text

    def test_without_javascript_the_post_redirects_back_with_a_message(
        self, operator_client, acme
    ) -> None:
        response = operator_client.post("/tenants/acme/suspend/")
        assert response.status_code == 303
        assert response.url == "/tenants/acme/?tab=danger"
        assert Tenant.objects.get(slug="acme").status == TenantStatus.SUSPENDED
        assert "is suspended" in operator_client.get(response.url).text
        refused = operator_client.post("/tenants/acme/suspend/")
        assert refused.status_code == 303
        assert "only an active tenant can be suspended" in operator_client.get(refused.url).text
        deleted = operator_client.post("/tenants/acme/delete/")
        assert deleted.status_code == 303
        assert "can be restored from the admin" in operator_client.get(deleted.url).text
        assert Tenant.objects.get(slug="acme").status == TenantStatus.DELETED

    def test_suspend_then_resume_with_htmx(self, operator_client, acme) -> None:
        suspended = operator_client.post("/tenants/acme/suspend/", headers=HX)
        assert suspended.status_code == 200
        assert 'data-status="suspended"' in suspended.text
        assert re.search(r'tabindex="-1" data-swap-focus data-testid="notice"', suspended.text)
        assert "is suspended" in suspended.text
        assert suspended["HX-Replace-Url"] == "/tenants/acme/?tab=danger"
        refused = operator_client.post("/tenants/acme/suspend/", headers=HX)
        assert refused.status_code == 409
        assert "only an active tenant can be suspended" in refused.text
        resumed = operator_client.post("/tenants/acme/resume/", headers=HX)
        assert 'data-status="active"' in resumed.text
        assert Tenant.objects.get(slug="acme").status == TenantStatus.ACTIVE

    def test_buttons_open_dialogs_and_lead_to_the_confirm_page(self, operator_client, acme) -> None:
        danger = operator_client.get("/tenants/acme/?tab=danger", headers=HX).text
        assert re.search(
            r'<a class="btn btn-danger-outline" href="/tenants/acme/suspend/" role="button" '
            r'data-dialog-open="suspend-dialog"',
            danger,
        )
        assert 'hx-post="/tenants/acme/suspend/" hx-target="#tenant-detail"' in danger

    def test_a_disabled_action_says_why_in_visible_text(self, operator_client, acme) -> None:
        danger = operator_client.get("/tenants/acme/?tab=danger").text
        resume = re.search(r'<button type="button"[^>]*data-testid="resume">', danger).group(0)
        assert "disabled" in resume and 'aria-describedby="resume-dialog-why"' in resume
        assert "title=" not in resume
        assert re.search(
            r'id="resume-dialog-why" data-testid="resume-why">Only a suspended tenant can be '
            r"resumed; this one is active.</span>",
            danger,
        )
        assert 'id="resume-dialog"' not in danger  # no dialog for what does not apply
        services.tenant_suspend(tenant=acme, actor=None)
        danger = operator_client.get("/tenants/acme/?tab=danger").text
        assert "Only an active tenant can be suspended; this one is suspended." in danger

    def test_reconcile_asks_then_reports_the_outcome(self, operator_client, acme) -> None:
        resources = operator_client.get("/tenants/acme/?tab=resources").text
        assert (
            'data-dialog-open="reconcile-dialog"' in resources
            and 'id="reconcile-dialog"' in resources
        )
        response = operator_client.post("/tenants/acme/reconcile/", headers=HX)
        assert "Reconcile finished" in response.text
        assert "not configured" in response.text
        assert set(
            ProvisioningState.objects.filter(tenant=acme).values_list("state", flat=True)
        ) == {"not_configured"}
        assert "(simulated)" not in response.text
        no_js = operator_client.post("/tenants/acme/reconcile/")
        assert no_js.status_code == 303 and no_js.url == "/tenants/acme/?tab=resources"

    def test_a_simulated_reconcile_says_so(self, operator_client, acme, settings) -> None:
        settings.DEMO_INTEGRATIONS = True
        response = operator_client.post("/tenants/acme/reconcile/", headers=HX)
        assert re.search(r"Reconcile finished: authentik \w+ \(simulated\)", response.text)


class TestPartners:
    @pytest.mark.parametrize("size", [1, 30])
    def test_list_and_detail(self, operator_client, acme, size, django_assert_num_queries) -> None:
        TenantFactory(partner=acme.partner, slug="second")
        for _ in range(size):
            TenantFactory(partner=PartnerFactory())
        operator_client.get("/partners/")
        with django_assert_num_queries(4):
            listing = operator_client.get("/partners/")
        assert "Nordic IT Partners" in listing.text
        with django_assert_num_queries(6):
            detail = operator_client.get("/partners/nordic-it/")
        assert [t.slug for t in detail.context["page"]] == ["second", "acme"]
        assert 'href="/tenants/?partner=nordic-it"' in detail.text

    def test_partners_sort_by_name_tenants_and_created(self, operator_client) -> None:
        big = PartnerFactory(slug="zed", name="Zed Resellers")
        PartnerFactory(slug="abc", name="Abc Resellers")
        TenantFactory.create_batch(3, partner=big)

        def slugs(query: str) -> list[str]:
            text = operator_client.get(f"/partners/?{query}").text
            return re.findall(r'data-testid="partner-row" data-slug="([^"]+)"', text)

        assert slugs("") == ["abc", "zed"]
        assert slugs("sort=-name") == ["zed", "abc"]
        assert slugs("sort=-tenants") == ["zed", "abc"]
        assert slugs("sort=tenants") == ["abc", "zed"]
        assert slugs("sort=-created") == ["abc", "zed"]
        assert 'id="sort-tenants"' in operator_client.get("/partners/").text


class TestOverview:
    @pytest.mark.parametrize("size", [1, 25])
    def test_queries_do_not_grow(self, operator_client, size, django_assert_num_queries) -> None:
        for n in range(size):
            frozen = TenantFactory(slug=f"frozen-{n}")
            services.tenant_suspend(tenant=frozen, actor=None)
            ProvisioningState.objects.create(
                tenant=frozen, integration="ocis", state="error", last_error_at=timezone.now()
            )
        operator_client.get("/")
        with django_assert_num_queries(10):  # 9 + the open-incident banner's
            assert operator_client.get("/").status_code == 200

    def test_kpis_meter_recent_and_follow_up(
        self, operator_client, acme, django_assert_num_queries
    ) -> None:
        TenantFactory(slug="frozen", status="suspended")
        stale = TenantFactory(slug="stale", status="pending")
        Tenant.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=8))
        broken = TenantFactory(slug="broken")
        ProvisioningState.objects.create(tenant=broken, integration="ocis", state="error",
                                         last_error="oCIS answered 500")  # fmt: skip
        TenantFactory(slug="fresh", status="pending")
        operator_client.get("/")
        with django_assert_num_queries(10):  # 9 + the open-incident banner's
            page = operator_client.get("/")
        o = page.context["overview"]
        assert o.tenants == 5
        assert o.by_status == {"active": 2, "pending": 2, "suspended": 1}
        assert o.partners == 1
        assert {f.tenant.slug: tuple(r.key for r in f.reasons) for f in o.follow_up} == {
            "frozen": ("suspended",),
            "stale": ("pending_long",),
            "broken": ("provisioning_error",),
        }
        assert 'data-testid="status-meter"' in page.text

    def test_since_is_when_each_reason_began(self, operator_client) -> None:
        now = timezone.now()
        stale = TenantFactory(slug="stale", status="pending")
        created = now - timedelta(days=12)
        Tenant.objects.filter(pk=stale.pk).update(created_at=created)
        broken = TenantFactory(slug="broken")
        errored = now - timedelta(days=3)
        ProvisioningState.objects.create(
            tenant=broken,
            integration="ocis",
            state="error",
            last_error="500",
            last_error_at=errored,
        )
        ProvisioningState.objects.create(
            tenant=broken, integration="stalwart", state="error", last_error="502",
            last_error_at=now - timedelta(days=1),
        )  # fmt: skip
        frozen = TenantFactory(slug="frozen")
        services.tenant_suspend(tenant=frozen, actor=None)
        suspended_at = AuditEvent.objects.get(action="tenant.suspended").at
        TenantFactory(slug="born-frozen", status="suspended")  # no record of when
        unknown_error = TenantFactory(slug="unknown-error")
        ProvisioningState.objects.create(tenant=unknown_error, integration="ocis", state="error")
        # Touch them all now: Since must not be the last change.
        Tenant.objects.update(updated_at=now)

        page = operator_client.get("/")
        since = {
            (f.tenant.slug, r.key): r.since
            for f in page.context["overview"].follow_up
            for r in f.reasons
        }
        assert since == {
            ("stale", "pending_long"): created,
            ("broken", "provisioning_error"): errored,  # the oldest current error
            ("frozen", "suspended"): suspended_at,
            ("born-frozen", "suspended"): None,
            ("unknown-error", "provisioning_error"): None,
        }
        row = re.search(r'data-slug="stale">.*?</tr>', page.text, re.S).group(0)
        local = timezone.localtime(created).strftime("%Y-%m-%d")
        assert f">{local}</time>" in row
        assert timezone.localtime(now).strftime("%Y-%m-%d") not in row  # not "today"
        unknown = re.search(r'data-slug="born-frozen">.*?</tr>', page.text, re.S).group(0)
        assert "—" in unknown and "<time" not in unknown

    def test_the_follow_up_link_lists_exactly_those_tenants(self, operator_client) -> None:
        now = timezone.now()
        for n in range(12):
            TenantFactory(slug=f"frozen-{n}", status="suspended")
        for n in range(5):
            stale = TenantFactory(slug=f"stale-{n}", status="pending")
            Tenant.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=9))
        TenantFactory(slug="fine")
        TenantFactory(slug="new", status="pending")
        TenantFactory(slug="gone", status="deleted", deleted_at=now)
        page = operator_client.get("/")
        assert "10 of 17 shown" in page.text
        link = re.search(r'<a href="([^"]+)" data-testid="follow-up-all">', page.text).group(1)
        assert link == "/tenants/?problem=follow_up"
        listing = operator_client.get(link)
        assert listing.context["page"].paginator.count == 17
        assert 'data-testid="result-count"><span class="tabular">17</span>' in listing.text
        assert {c.value: c.count for c in listing.context["chips"]}[""] == 17
