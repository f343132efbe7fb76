"""Browser: the audit log filtered by actor and by tenant (chips remove filters),
paged deep with Older and back with Back (the page comes back whole), exported as
CSV with the progress bar, and the chain verified with Verify now."""

from __future__ import annotations

import csv
import io
import re
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import transaction
from playwright.sync_api import expect

from audit import services as audit
from operators.models import User
from tenants import services
from tenants.models import Tenant
from tests.e2e.helpers import signed_in_opener

pytestmark = pytest.mark.django_db(transaction=True)
OPS = "ops@northwind.example"


@pytest.fixture
def signed_in(new_page, live_server):
    operator = User.objects.create_user(OPS, None, name="Sample Operator", platform_admin=True)
    for slug, name in (("acme", "Acme Logistics"), ("globex", "Globex Freight")):
        services.tenant_create(
            slug=slug, name=name, plan="business", domains=[f"{slug}.example"], actor=operator
        )
    acme = Tenant.objects.get(slug="acme")
    with transaction.atomic():
        for n in range(180):
            audit.record(
                action="tenant.updated",
                actor=operator if n % 2 else None,
                target=acme,
                tenant=acme,
                metadata={"changes": {"plan": {"before": "starter", "after": f"plan-{n}"}}},
            )
    return signed_in_opener(new_page, live_server, operator)(), live_server.url


def _ids(page) -> list[str]:
    return page.get_by_test_id("audit-row").evaluate_all("rows => rows.map(r => r.dataset.eventId)")


def test_filter_by_actor_and_by_tenant(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(50)

    page.get_by_test_id("filter-actor").fill(OPS)
    page.get_by_test_id("filter-actor").press("Enter")
    page.wait_for_url(re.compile(r"actor=ops%40northwind.example"))
    expect(page.get_by_test_id("chip-actor")).to_contain_text(OPS)
    actors = page.locator("[data-testid=audit-row] .au-actor").all_inner_texts()
    assert actors and set(actors) == {OPS}

    page.get_by_test_id("filter-tenant").fill("globex")
    page.get_by_test_id("filter-tenant").press("Enter")
    page.wait_for_url(re.compile(r"tenant=globex"))
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    expect(page.get_by_test_id("audit-sentence")).to_have_text(
        f"{OPS} created tenant Globex Freight (globex)"
    )

    # A chip removes its filter: every event of the tenant, whoever did it.
    page.get_by_test_id("chip-actor").click()
    page.wait_for_url(lambda url: "actor=" not in url and "tenant=globex" in url)
    expect(page.get_by_test_id("filter-tenant")).to_have_value("globex")

    # A tenant that does not exist is a field error, said on the page.
    page.goto(f"{base}/audit/?tenant=nobody")
    expect(page.get_by_test_id("filter-errors")).to_contain_text("Tenant")


def test_page_deep_and_back_gives_the_page_whole(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/audit/")
    seen = [(page.url, _ids(page))]
    for _ in range(3):
        page.get_by_test_id("older-page").click()
        page.wait_for_url(re.compile(r"cursor=\d+"))
        expect(page.locator(".htmx-request")).to_have_count(0)
        page.wait_for_url(lambda url, last=seen[-1][0]: url != last)
        seen.append((page.url, _ids(page)))
    assert all(int(a[-1]) > int(b[0]) for (_, a), (_, b) in pairwise(seen))
    page.go_back()
    page.wait_for_url(seen[2][0])
    expect(page.locator("aside.sidebar")).to_have_count(1)
    expect(page.get_by_test_id("audit-row").first).to_have_attribute("data-event-id", seen[2][1][0])
    assert _ids(page) == seen[2][1]
    page.get_by_test_id("newer-page").click()
    page.wait_for_url(lambda url: url != seen[2][0])
    expect(page.get_by_test_id("audit-row").first).to_have_attribute("data-event-id", seen[1][1][0])
    page.get_by_test_id("newest-page").click()
    page.wait_for_url(f"{base}/audit/")
    expect(page.get_by_test_id("audit-row").first).to_have_attribute("data-event-id", seen[0][1][0])


def test_export_csv_with_progress(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/audit/?tenant=globex")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("audit-events-")
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert [r["sentence"] for r in rows] == [f"{OPS} created tenant Globex Freight (globex)"]
    expect(page.locator("[data-audit-progress-text]")).to_contain_text("Export finished: 1")
    expect(page.locator("progress#audit-export-progress")).to_have_attribute("value", "1")


def test_verify_now(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/audit/")
    expect(page.get_by_test_id("chain-result")).to_contain_text("not been verified")
    page.get_by_test_id("verify-now").click()
    dialog = page.get_by_test_id("verify-chain-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("verify-chain-dialog-confirm").click()
    expect(page.get_by_test_id("notice")).to_be_visible()
    expect(page.get_by_test_id("chain-badge")).to_have_text("Intact")
    expect(page.get_by_test_id("chain-result")).to_be_visible()
    expect(dialog).to_be_hidden()
    assert "Sample Operator" in page.content() or OPS in page.content()
