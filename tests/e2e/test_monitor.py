"""Browser: the infrastructure page shows a fake Stalwart going down (Probe now after
stopping it: the card turns down with the upstream's error, the chart gains a failed
hour); an incident is opened, updated and resolved through the banner's dialog, and
the banner leaves the overview once it is resolved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_in(new_page: Any, live_server: Any, db: Any) -> Any:
    operator = User.objects.create_user(
        "lee@dezky.example", None, name="Sample Lee", platform_admin=True
    )
    return signed_in_opener(new_page, live_server, operator)


def test_a_stalwart_going_down_shows_on_its_card(
    signed_in: Any, live_server: Any, settings: Any, screenshot_dir: Path
) -> None:
    page = signed_in()
    card = page.get_by_test_id("card-stalwart")
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL, settings.STALWART_TOKEN = fake.url, fake.token
        page.goto(f"{live_server.url}/infrastructure/")
        expect(card).to_have_attribute("data-state", "unknown")
        page.get_by_test_id("probe-now").click()
        expect(card).to_have_attribute("data-state", "up")
        expect(page.get_by_test_id("latency-stalwart")).to_have_text(re.compile(r"^\d+ ms$"))
        expect(card.locator("rect[data-state='up']")).to_have_count(1)
        expect(card.locator("rect[data-state='down']")).to_have_count(0)
    # The fake is stopped: its port refuses connections now.
    page.get_by_test_id("probe-now").click()
    expect(card).to_have_attribute("data-state", "down")
    expect(page.get_by_test_id("state-stalwart")).to_have_text("Down")
    expect(page.get_by_test_id("error-stalwart")).to_contain_text(
        "cannot be reached: Connection refused."
    )
    expect(card.locator("rect[data-state='down']")).to_have_count(1)
    expect(page.get_by_test_id("chart-text-stalwart")).to_contain_text("0 of 1 probed hours up")
    expect(page.get_by_test_id("toast").last).to_contain_text("Stalwart (mail) down")
    # The button that sent it keeps the focus after the swap.
    expect(page.get_by_test_id("probe-now")).to_be_focused()
    page.screenshot(path=str(screenshot_dir / "infrastructure-stalwart-down.png"), full_page=True)

    # Reload gives the same page whole.
    page.reload()
    expect(card).to_have_attribute("data-state", "down")


def test_an_incident_opened_updated_and_resolved_through_the_banner(
    signed_in: Any, live_server: Any, screenshot_dir: Path
) -> None:
    page = signed_in()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("incident-banner")).to_have_count(0)

    # Open one from the infrastructure page.
    page.goto(f"{live_server.url}/infrastructure/")
    page.get_by_test_id("incident-new-link").click()
    page.get_by_test_id("incident-submit").click()  # empty: refused, fields named
    expect(page.get_by_test_id("id_title-errors")).to_contain_text("Title: This field is required.")
    page.get_by_test_id("incident-title").fill("Mail delivery delayed")
    page.get_by_test_id("severity-critical").check()
    page.get_by_test_id("component-stalwart").check()
    page.get_by_test_id("incident-body-input").fill("Queues on the outbound relay are growing.")
    page.get_by_test_id("incident-submit").click()
    page.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident_url = page.url
    expect(page.get_by_test_id("incident-status")).to_have_text("Investigating")

    # The overview shows the banner; its button opens the dialog.
    page.goto(f"{live_server.url}/")
    banner = page.get_by_test_id("incident-banner")
    expect(banner).to_contain_text("Mail delivery delayed")
    expect(banner).to_contain_text("Queues on the outbound relay are growing.")
    opener = page.get_by_test_id("incident-banner-open")
    opener.click()
    dialog = page.get_by_test_id("incident-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("affected-stalwart")).to_contain_text("Not configured")
    page.screenshot(path=str(screenshot_dir / "incident-dialog.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # An update from the dialog's composer swaps the timeline, newest first.
    opener.click()
    dialog.get_by_test_id("update-status").select_option("identified")
    dialog.get_by_test_id("update-body").fill("A full disk on relay 2.")
    dialog.get_by_test_id("update-submit").click()
    updates = dialog.get_by_test_id("incident-update")
    expect(updates).to_have_count(2)
    expect(updates.first).to_contain_text("A full disk on relay 2.")
    expect(dialog.get_by_test_id("incident-status")).to_have_text("Identified")
    expect(dialog.get_by_test_id("notice")).to_be_focused()
    expect(page.locator("dialog[open]")).to_have_count(1)  # still open after the swap

    # Resolve with a final note.
    dialog.get_by_test_id("resolve-toggle").click()
    dialog.get_by_test_id("resolve-body").fill("Relay 2 has space again; queues drained.")
    dialog.get_by_test_id("resolve-submit").click()
    expect(dialog.get_by_test_id("incident-status")).to_have_text("Resolved")
    expect(dialog.get_by_test_id("incident-composer")).to_have_count(0)
    expect(updates).to_have_count(3)

    # The banner is gone on the next load; the incident's page keeps the whole story.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("incident-banner")).to_have_count(0)
    page.goto(incident_url)
    expect(page.get_by_test_id("incident-update")).to_have_count(3)
    page.go_back()
    expect(page.get_by_test_id("kpis")).to_be_visible()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_incident_pages_and_dialog_pass_axe(signed_in: Any, live_server: Any, theme: str) -> None:
    require_axe()
    from monitor import services

    operator = User.objects.get(email="lee@dezky.example")
    incident = services.incident_open(
        actor=operator, title="Sign-in slow", severity="major", body="Authentik answers slowly.",
        affected_components=["authentik", "database"],
    )  # fmt: skip
    page = signed_in(bypass_csp=True)
    page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
    found: dict[str, list[str]] = {}
    for path in (f"/incidents/{incident.pk}/", "/incidents/", "/infrastructure/"):
        page.goto(f"{live_server.url}{path}")
        found[path] = serious_violations(page)
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("incident-banner-open").click()
    expect(page.get_by_test_id("incident-dialog")).to_be_visible()
    found["/ (dialog open)"] = serious_violations(page)
    assert {k: v for k, v in found.items() if v} == {}

    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/incidents/{incident.pk}/", "/infrastructure/", "/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
