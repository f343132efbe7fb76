"""Scheduled changes in a real browser: an operator schedules a rollout ramp from the
flag's panel, the scheduler command runs (here, in the test's process, on the
database the live server uses), the first step shows applied and the flag at 10 %;
a change by hand then asks to keep or cancel the schedule, and it is cancelled.
The list, a schedule's page and the form pass axe in both themes, fit 390 px, show
keyboard focus, and the URLs the list pushes come back whole."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from flags.models import Flag, FlagSchedule
from operators.models import User
from tests.e2e.helpers import require_axe, serious_violations, signed_in_opener
from tests.flags.factories import FlagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(db: Any) -> User:
    FlagFactory(key="sample_ramp", state="off", pct=0)
    return User.objects.create_user(
        "pat.rivera@northwind.example", "sample pass phrase", name="Pat Rivera",
        platform_admin=True,
    )  # fmt: skip


def assert_whole_page(page: Any) -> None:
    expect(page.locator("aside.sidebar")).to_have_count(1)
    expect(page.locator("header.topbar")).to_have_count(1)


def test_ramp_from_the_panel_applied_then_changed_by_hand_and_cancelled(
    operator: User, new_page: Any, live_server: Any
) -> None:
    page = signed_in_opener(new_page, live_server, operator)()
    page.goto(f"{live_server.url}/flags/sample_ramp/")
    panel = page.get_by_test_id("flag-panel-sample_ramp")
    expect(panel.get_by_test_id("flag-schedules")).to_contain_text("None scheduled.")
    panel.get_by_test_id("schedule-change").click()

    # The form: a rollout ramp of 10, 50, 100 %, one step a day, starting now.
    page.wait_for_url(re.compile(r"/flags/sample_ramp/schedule/$"))
    expect(page.get_by_label("Time (UTC)")).to_be_visible()  # the change half, at first
    expect(page.get_by_test_id("sched-percents")).to_be_hidden()
    page.get_by_test_id("sched-kind-ramp").check()
    expect(page.get_by_test_id("sched-percents")).to_be_visible()
    expect(page.get_by_label("Time (UTC)")).to_be_hidden()
    page.get_by_test_id("sched-percents").fill("10, 50, 100")
    page.get_by_test_id("sched-every").fill("1")
    page.get_by_test_id("sched-every-unit").select_option("days")
    # A bad value first: the refusal is named on its field, nothing is made.
    page.get_by_test_id("sched-percents").fill("50, 10")
    page.get_by_test_id("sched-submit").click()
    expect(page.locator("#sched-percents-errors")).to_contain_text("more tenants than the one")
    assert not FlagSchedule.objects.exists()
    page.get_by_test_id("sched-percents").fill("10, 50, 100")
    page.get_by_test_id("sched-submit").click()

    page.wait_for_url(re.compile(r"/flags/scheduled-changes/\d+/$"))
    schedule = FlagSchedule.objects.get()
    expect(page.get_by_test_id("sched-state")).to_have_text("Active")
    expect(page.get_by_test_id("sched-step")).to_have_count(3)
    expect(page.locator(".toast, [role='status']").filter(has_text="3 steps").first).to_be_visible()
    expect(page.get_by_test_id("scheduler-late")).to_contain_text("never run")

    # In the panel and on the list.
    page.goto(f"{live_server.url}/flags/sample_ramp/")
    expect(page.get_by_test_id("flag-schedule")).to_contain_text("rollout 10 %")
    page.goto(f"{live_server.url}/flags/scheduled-changes/")
    row = page.get_by_test_id("sched-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("0 of 3 steps")

    # The scheduler runs: step 1 is due now.
    output = StringIO()
    call_command("apply_scheduled_flag_changes", stdout=output)
    assert "step 1 applied" in output.getvalue()
    page.reload()
    expect(row).to_contain_text("1 of 3 steps")
    expect(page.get_by_test_id("scheduler-ran")).to_contain_text("applied 1 step")
    row.get_by_role("link", name=re.compile("Ramp sample_ramp")).click()
    first = page.get_by_test_id("sched-step").first
    expect(first).to_have_attribute("data-state", "applied")
    expect(first).to_contain_text("Applied: version 2.")
    page.get_by_test_id("sched-flag-link").click()
    panel = page.get_by_test_id("flag-panel-sample_ramp")
    expect(panel.locator(".panel-meta")).to_contain_text("10 %")
    flag = Flag.objects.get(key="sample_ramp")
    assert (flag.state, flag.pct) == ("rollout", 10)

    # By hand: the flag is turned on in the panel; the schedule now asks for a decision.
    panel.locator(".segment-on").click()
    panel.get_by_test_id("save-flag").click()
    expect(panel.get_by_test_id("flag-version")).to_have_text("version 3")
    page.reload()
    decision = page.get_by_test_id("flag-schedule-decision")
    expect(decision).to_contain_text(f"This flag was changed after schedule #{schedule.pk}")
    expect(page.get_by_test_id("flag-schedule-keep")).to_have_text("Keep schedule")
    page.get_by_test_id("flag-schedule-cancel").click()
    expect(page.get_by_test_id("confirm-page")).to_contain_text("Cancel this schedule?")
    page.get_by_test_id("sched-cancel-dialog-confirm").click()
    page.wait_for_url(re.compile(r"/flags/sample_ramp/$"))
    expect(page.get_by_text(f"Cancelled schedule #{schedule.pk}")).to_be_visible()
    expect(page.get_by_test_id("flag-schedules")).to_contain_text("None scheduled.")
    schedule.refresh_from_db()
    assert schedule.state == "cancelled"
    assert Flag.objects.get(key="sample_ramp").state == "on"  # nothing written over

    # The list's chips push URLs that Back, Forward and reload give whole.
    page.goto(f"{live_server.url}/flags/scheduled-changes/")
    page.get_by_test_id("sched-states").get_by_role("link", name=re.compile("Cancelled")).click()
    page.wait_for_url(re.compile(r"state=cancelled"))
    expect(page.get_by_test_id("sched-row")).to_have_count(1)
    pushed = page.url
    page.goto(f"{live_server.url}/flags/")
    page.go_back()
    page.wait_for_url(pushed)
    assert_whole_page(page)
    expect(page.get_by_test_id("sched-row")).to_have_count(1)
    page.go_back()
    assert_whole_page(page)
    page.go_forward()
    page.wait_for_url(pushed)
    assert_whole_page(page)
    page.reload()
    assert_whole_page(page)
    expect(page.get_by_test_id("sched-row")).to_contain_text("Cancelled")


def _pages(live_server: Any, operator: User) -> list[str]:
    from datetime import timedelta

    from django.utils import timezone

    from flags import schedules

    schedule = schedules.schedule_ramp(
        key="sample_ramp",
        percents=[10, 50, 100],
        start_at=timezone.now() + timedelta(hours=1),
        every=timedelta(days=1),
        actor=operator,
    )
    return [
        "/flags/scheduled-changes/",
        f"/flags/scheduled-changes/{schedule.pk}/",
        f"/flags/scheduled-changes/{schedule.pk}/cancel/",
        "/flags/sample_ramp/schedule/",
    ]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_pages_pass_axe(operator: User, new_page: Any, live_server: Any, theme: str) -> None:
    require_axe()
    paths = _pages(live_server, operator)
    page = signed_in_opener(new_page, live_server, operator)(bypass_csp=True)
    page.add_init_script(f"localStorage.setItem('dezky.theme', '{theme}');")
    found = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        violations = serious_violations(page)
        if violations:
            found[path] = violations
    # The ramp half of the form, too.
    page.goto(f"{live_server.url}/flags/sample_ramp/schedule/?kind=ramp")
    expect(page.get_by_test_id("sched-percents")).to_be_visible()
    if violations := serious_violations(page):
        found["ramp form"] = violations
    assert found == {}, found


def test_phones_and_keyboard(
    operator: User, new_page: Any, live_server: Any, screenshot_dir: Path
) -> None:
    paths = _pages(live_server, operator)
    page = signed_in_opener(new_page, live_server, operator)(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    wide = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}, f"wider than the phone: {wide}"

    # From the kind radios, Tab reaches the next control, with a visible focus ring.
    desk = signed_in_opener(new_page, live_server, operator)()
    desk.goto(f"{live_server.url}/flags/sample_ramp/schedule/")
    desk.screenshot(path=str(screenshot_dir / "schedule-form.png"), full_page=True)
    desk.get_by_test_id("sched-kind-change").focus()
    desk.keyboard.press("Tab")
    focused = desk.locator(":focus")
    expect(focused).to_have_attribute("id", "sched-at")
    ring = focused.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.boxShadow]; }"
    )
    assert ring != ["none", "none"], ring
    desk.goto(f"{live_server.url}{paths[1]}")
    desk.screenshot(path=str(screenshot_dir / "schedule-detail.png"), full_page=True)
    desk.get_by_test_id("sched-flag-link").focus()
    desk.keyboard.press("Tab")
    expect(desk.locator(":focus")).to_have_attribute("data-testid", "sched-pause")
    # Enter on Pause opens the dialog; Escape closes it and focus goes back.
    desk.keyboard.press("Enter")
    dialog = desk.get_by_test_id("sched-pause-dialog")
    expect(dialog).to_be_visible()
    desk.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(desk.get_by_test_id("sched-pause")).to_be_focused()
