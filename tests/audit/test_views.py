from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent, ChainVerification
from tests.audit.factories import event, events
from tests.console.url_matrix import CONSOLE_EVENT, MATRIX
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
SHELL = '<aside class="sidebar"'


def _event_ids(response) -> list[int]:
    return [
        int(i) for i in re.findall(r'data-testid="audit-row" data-event-id="(\d+)"', response.text)
    ]


def _link(response, testid: str) -> str:
    found = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', response.text)
    assert found, f"no {testid} link"
    return found.group(1).replace("&amp;", "&")


def test_event_pages_are_for_operators_only(client) -> None:
    made = event()
    names = [n for n, e in MATRIX.items() if e[0] == CONSOLE_EVENT]
    assert names == ["audit:detail"]
    url = reverse("audit:detail", kwargs={"event_id": made.id})
    assert client.get(url).status_code == 302
    assert client.get(url, headers=HX).status_code == 401
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200


class TestList:
    def test_rows_render_the_sentence_never_the_bare_code(self, operator_client) -> None:
        tenant = TenantFactory(slug="harbourview", name="Harbourview Dental")
        event("tenant.suspended", tenant=tenant, target_repr="Harbourview Dental",
              metadata={"previous_status": "active"})  # fmt: skip
        response = operator_client.get("/audit/")
        assert response.status_code == 200
        assert "The system suspended tenant Harbourview Dental (was active)" in response.text
        assert 'href="/tenants/harbourview/"' in response.text
        assert "UTC" in response.text and " ago" in response.text

    def test_action_filter_is_grouped_by_kind(self, operator_client) -> None:
        text = operator_client.get("/audit/").text
        assert '<optgroup label="Tenants">' in text
        assert '<option value="kind:Flags">' in text
        assert '<option value="tenant.suspended">' in text

    def test_filters_show_chips_that_remove_them(self, operator_client) -> None:
        tenant = TenantFactory(slug="northwind")
        mine = event(tenant=tenant)
        response = operator_client.get("/audit/?tenant=northwind&action=kind:Tenants")
        assert _event_ids(response) == [mine.id]
        assert "Tenant: northwind" in response.text
        assert _link(response, "chip-tenant") == "/audit/?action=kind%3ATenants"

    def test_pages_go_older_and_back_newer_by_keyset(self, operator_client) -> None:
        events(120)
        first = operator_client.get("/audit/")
        ids = _event_ids(first)
        assert len(ids) == 50 and ids == sorted(ids, reverse=True)
        second = operator_client.get(_link(first, "older-page"))
        assert _event_ids(second) == sorted(_event_ids(second), reverse=True)
        assert max(_event_ids(second)) < min(ids)
        back = operator_client.get(_link(second, "newer-page"))
        assert _event_ids(back) == ids

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("cursor=abc", "cursor"),
            ("cursor=-1", "cursor"),
            ("cursor=99999999999999999999999", "cursor"),
            ("since=2026-02-30", "since"),
            ("since=2026-03-02&until=2026-03-01", "until"),
            ("q=" + "x" * 500, "q"),
            ("tenant=no-such-tenant", "tenant"),
            ("tenant=Not a slug", "tenant"),
            ("action=kind:Nothing", "action"),
            ("action=DROP TABLE", "action"),
            ("target_type=Robert'); --", "target_type"),
        ],
    )
    def test_bad_filters_are_a_400_naming_the_field(self, operator_client, query, field) -> None:
        response = operator_client.get(f"/audit/?{query}")
        assert response.status_code == 400
        assert 'data-testid="filter-errors"' in response.text
        swap = operator_client.get(f"/audit/?{query}", headers=HX)
        assert swap.status_code == 400 and SHELL not in swap.text
        assert field in response.context["form"].errors

    def test_a_swap_gets_the_results_and_a_get_the_whole_page(self, operator_client) -> None:
        events(3)
        swap = operator_client.get("/audit/?actor=system", headers=HX)
        assert SHELL not in swap.text and 'data-testid="audit-table"' in swap.text
        whole = operator_client.get("/audit/?actor=system")
        assert SHELL in whole.text and 'value="system"' in whole.text

    def test_text_search_says_which_events_it_searched(self, operator_client) -> None:
        event(target_repr="Needle Works")
        response = operator_client.get("/audit/?q=needle")
        assert 'data-testid="search-window"' in response.text

    @pytest.mark.parametrize("depth", [0, 3])
    def test_queries_do_not_grow_with_the_page_depth(
        self, operator_client, django_assert_max_num_queries, depth
    ) -> None:
        made = events(250)
        cursor = f"?cursor={made[-1 - depth * 50].id}" if depth else ""
        for query in (cursor, "?actor=system", "?q=sample", "?action=kind:Tenants"):
            joined = (cursor + "&" + query.lstrip("?")) if cursor and query != cursor else query
            with django_assert_max_num_queries(9):
                assert operator_client.get(f"/audit/{joined}").status_code == 200

    def test_the_status_card_says_who_verified_and_when(self, operator_client) -> None:
        ChainVerification.objects.create(ok=True, checked=12, message="Intact: 12 events.")
        text = operator_client.get("/audit/").text
        assert "Intact: 12 events." in text and "the scheduled check" in text

    def test_verify_now_confirms_then_verifies(self, operator_client, operator) -> None:
        confirm = operator_client.get("/audit/verify/")
        assert confirm.status_code == 200 and 'data-testid="confirm-page"' in confirm.text
        done = operator_client.post("/audit/verify/")
        assert done.status_code == 303 and done["Location"] == "/audit/"
        verification = ChainVerification.objects.order_by("-id").first()
        assert verification.ok and verification.actor_email == operator.email
        page = operator_client.get("/audit/")
        assert verification.message in page.text
        swap = operator_client.post("/audit/verify/", headers=HX)
        assert swap.status_code == 200 and 'id="audit-chain-status"' in swap.text
        assert SHELL not in swap.text and 'data-testid="notice"' in swap.text


class TestDetail:
    def test_every_field_the_diff_and_the_chain(self, operator_client) -> None:
        before = event()
        changed = event(
            "flag.updated",
            target_type="flag",
            target_repr="saml_sso",
            metadata={"changes": {"pct": {"before": 10, "after": 50}}, "version": 3},
            ip="203.0.113.9",
        )
        response = operator_client.get(f"/audit/{changed.id}/")
        text = response.text
        assert response.status_code == 200
        assert "The system changed flag saml_sso (changed pct)" in text
        assert "203.0.113.9" in text and changed.hash in text and changed.prev_hash in text
        assert re.search(r'data-testid="change-row">.*?pct.*?10.*?50', text, re.S)
        assert f'href="/audit/{before.id}/"' in text
        assert "&quot;version&quot;: 3" in text
        position = AuditEvent.objects.filter(id__lte=changed.id).count()
        assert f'data-testid="chain-position">{position}<' in text

    def test_an_unkeyed_event_says_so(self, operator_client) -> None:
        # As written before the chain was keyed (a plain insert: record() keys every event).
        old = AuditEvent.objects.create(
            action="tenant.updated", target_repr="Sample Tenant", prev_hash="0" * 64,
            hash="e" * 64, key_id="",
        )  # fmt: skip
        text = operator_client.get(f"/audit/{old.id}/").text
        assert "unkeyed (before the chain was keyed)" in text

    @pytest.mark.parametrize("event_id", ["999999", "99999999999999999999999"])
    def test_a_missing_event_is_the_404_page(self, operator_client, event_id) -> None:
        response = operator_client.get(f"/audit/{event_id}/")
        assert response.status_code == 404 and 'data-testid="not-found"' in response.text


class TestTenantTab:
    def test_pages_past_the_newest_50_and_links_to_the_log(self, operator_client) -> None:
        tenant = TenantFactory(slug="acme-tab")
        made = events(60, tenant=tenant, target_repr="Acme")
        first = operator_client.get("/tenants/acme-tab/?tab=audit")
        assert _event_ids(first) == [e.id for e in made[::-1][:50]]
        assert "The system edited tenant Acme" in first.text
        assert _link(first, "open-in-audit-log") == "/audit/?tenant=acme-tab"
        older = operator_client.get(_link(first, "older-page"))
        assert _event_ids(older) == [e.id for e in made[::-1][50:]]
        assert SHELL in older.text
        assert operator_client.get("/tenants/acme-tab/?tab=audit&cursor=junk").status_code == 200
