"""The scheduled-changes pages: the list (filters, search, whether the scheduler runs),
a schedule's page and its actions, the form that makes one for a flag, the flag
panel's Schedules section, and scheduling a change request's apply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from flags import change_requests as cr
from flags import schedules, services
from flags.models import (
    ApprovalPolicy,
    Flag,
    FlagSchedule,
    ScheduleKind,
    SchedulerRun,
    ScheduleState,
)
from tests.audit_helpers import watch_audit
from tests.console.url_matrix import CONSOLE_SCHEDULE, MATRIX
from tests.flags.factories import FlagFactory
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
DAY = timedelta(days=1)


@pytest.fixture
def author():
    return OperatorFactory(email="pat.rivera@northwind.example")


@pytest.fixture
def reviewer():
    return OperatorFactory(email="sam.okafor@northwind.example")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def minute(at) -> str:
    return f"{at:%Y-%m-%dT%H:%M}"


def ramp(author, key: str = "sample_ramp", percents=(10, 25, 50, 100)) -> FlagSchedule:
    if not Flag.objects.filter(key=key).exists():
        FlagFactory(key=key, state="off")
    return schedules.schedule_ramp(
        key=key,
        percents=list(percents),
        start_at=timezone.now() + timedelta(hours=1),
        every=DAY,
        actor=author,
    )


def detail_url(schedule: FlagSchedule, action: str = "") -> str:
    if action:
        return reverse(f"flags:schedule_{action}", kwargs={"schedule_id": schedule.pk})
    return reverse("flags:schedule", kwargs={"schedule_id": schedule.pk})


def changed_by_hand(author, key: str = "sample_ramp") -> None:
    services.flag_update(key=key, actor=author, state="on")


@pytest.mark.parametrize("name", sorted(n for n, e in MATRIX.items() if e[0] == CONSOLE_SCHEDULE))
def test_schedule_pages_are_for_operators_only(author, name) -> None:
    schedule = ramp(author)
    url = reverse(name, kwargs={"schedule_id": schedule.pk})
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")
    assert Client().get(url, **HTMX).status_code == 401
    assert signed_in(UserFactory()).get(url).status_code == 403
    assert signed_in(UserFactory()).post(url).status_code == 403
    assert signed_in(author).get(url).status_code == 200
    gone = reverse(name, kwargs={"schedule_id": schedule.pk + 1})
    assert signed_in(author).get(gone).status_code == 404
    assert FlagSchedule.objects.get().state == ScheduleState.ACTIVE  # a refused POST did nothing


class TestList:
    def test_rows_say_kind_state_next_step_and_progress(self, author) -> None:
        schedule = ramp(author)
        html = signed_in(author).get(reverse("flags:schedules")).text
        assert f'data-id="{schedule.pk}"' in html
        assert "Rollout ramp" in html
        first = schedule.steps.get(position=1)
        assert f"{first.at:%Y-%m-%d %H:%M} UTC</time> · rollout 10 %" in html
        assert "0 of 4 steps" in html

    def test_filters_by_state_flag_and_search_and_answers_a_swap_with_the_rows(
        self, author
    ) -> None:
        one = ramp(author)
        other = ramp(author, key="sample_other")
        schedules.schedule_pause(schedule_id=other.pk, actor=author)
        changed_by_hand(author)  # `one` now needs a decision
        client = signed_in(author)
        url = reverse("flags:schedules")
        paused = client.get(url, {"state": "paused"}).text
        assert f'data-id="{other.pk}"' in paused and f'data-id="{one.pk}"' not in paused
        decision = client.get(url, {"state": "decision"}, **HTMX)
        assert decision.status_code == 200 and "<html" not in decision.text
        assert f'data-id="{one.pk}"' in decision.text
        assert f'data-id="{other.pk}"' not in decision.text
        assert 'data-testid="sched-needs-decision"' in decision.text
        by_flag = client.get(url, {"flag": "sample_other"}).text
        assert f'data-id="{one.pk}"' not in by_flag and "Show every flag" in by_flag
        searched = client.get(url, {"q": "other"}).text
        assert f'data-id="{other.pk}"' in searched and f'data-id="{one.pk}"' not in searched
        assert "No schedule matches." in client.get(url, {"q": "nothing-like-it"}).text

    def test_warns_when_the_scheduler_never_ran(self, author) -> None:
        html = signed_in(author).get(reverse("flags:schedules")).text
        assert 'data-testid="scheduler-late"' in html
        assert "never run" in html
        assert "applied only when manage.py apply_scheduled_flag_changes runs (see README)" in html

    def test_warns_when_the_scheduler_has_not_run_for_ten_minutes(self, author) -> None:
        SchedulerRun.objects.create(last_run_at=timezone.now() - timedelta(minutes=11))
        html = signed_in(author).get(reverse("flags:schedules")).text
        assert 'data-testid="scheduler-late"' in html and "more than 10 minutes ago" in html

    def test_says_when_the_scheduler_last_ran(self, author) -> None:
        schedules.run_due()
        html = signed_in(author).get(reverse("flags:schedules")).text
        assert 'data-testid="scheduler-late"' not in html
        assert "The scheduler last ran at" in html and "applied 0 steps" in html


class TestDetail:
    def test_shows_steps_maker_and_actions(self, author) -> None:
        schedule = ramp(author)
        html = signed_in(author).get(detail_url(schedule)).text
        assert schedule.title in html
        assert "Made by pat.rivera@northwind.example" in html
        assert html.count('data-testid="sched-step"') == 4
        assert 'data-testid="sched-pause"' in html and 'id="sched-cancel-dialog"' in html
        assert "It is running." in html  # why Resume is disabled
        assert 'data-testid="sched-decision"' not in html

    def test_a_flag_changed_since_asks_keep_or_cancel(self, author) -> None:
        schedule = ramp(author)
        changed_by_hand(author)
        html = signed_in(author).get(detail_url(schedule)).text
        assert 'data-testid="sched-decision"' in html
        assert "it is at version 2; the schedule expected version 1" in html
        assert 'data-testid="sched-keep"' in html and "Keep schedule" in html

    def test_a_step_that_proposed_a_change_request_links_it(self, author) -> None:
        schedule = ramp(author)
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
        schedules.run_due(now=timezone.now() + timedelta(hours=2))
        step = schedule.steps.get(position=1)
        assert step.change_request is not None
        html = signed_in(author).get(detail_url(schedule)).text
        assert reverse("flags:change_request", kwargs={"request_id": step.change_request.pk}) in (
            html
        )
        assert "Waiting for approval" in html
        assert "prod needs 1 approval" in html  # what each step needs


class TestActions:
    def test_pause_without_javascript_redirects_with_a_message(self, author) -> None:
        schedule = ramp(author)
        client = signed_in(author)
        confirm = client.get(detail_url(schedule, "pause"))
        assert confirm.status_code == 200 and "Pause this schedule?" in confirm.text
        with watch_audit() as log:
            response = client.post(detail_url(schedule, "pause"))
        assert response.status_code == 303 and response["Location"] == detail_url(schedule)
        log.one("flags.schedule_paused", actor=author)
        page = client.get(response["Location"]).text
        assert f"Paused schedule #{schedule.pk}" in page
        assert "It is paused." in page  # why Pause is disabled now

    def test_a_refusal_is_shown_with_its_true_status_and_writes_nothing(self, author) -> None:
        schedule = ramp(author)
        schedules.schedule_pause(schedule_id=schedule.pk, actor=author)
        client = signed_in(author)
        with watch_audit() as log:
            page = client.post(detail_url(schedule, "pause"))
            swap = client.post(detail_url(schedule, "pause"), **HTMX)
        log.none()
        assert page.status_code == 409 and "<html" in page.text
        assert "only an active one can pause" in page.text
        assert swap.status_code == 409 and "<html" not in swap.text
        assert 'data-testid="sched-error"' in swap.text

    def test_resume_with_htmx_answers_the_detail_and_a_toast(self, author) -> None:
        schedule = ramp(author)
        schedules.schedule_pause(schedule_id=schedule.pk, actor=author)
        with watch_audit() as log:
            response = signed_in(author).post(detail_url(schedule, "resume"), **HTMX)
        assert response.status_code == 200
        log.one("flags.schedule_resumed", actor=author)
        assert 'id="sched-detail"' in response.text and "<html" not in response.text
        assert f"Schedule #{schedule.pk} goes on from version 1 of sample_ramp." in response.text
        assert 'data-state="active"' in response.text

    def test_keep_after_a_change_by_hand_takes_the_new_version(self, author) -> None:
        schedule = ramp(author)
        changed_by_hand(author)
        client = signed_in(author)
        assert "Keep this schedule?" in client.get(detail_url(schedule, "resume")).text
        response = client.post(detail_url(schedule, "resume"))
        assert response.status_code == 303
        schedule.refresh_from_db()
        assert schedule.flag_version == 2 and not schedules.needs_decision(schedule)

    def test_cancel_from_the_panel_comes_back_to_the_flag(self, author) -> None:
        schedule = ramp(author)
        client = signed_in(author)
        url = detail_url(schedule, "cancel") + "?back=flag"
        confirm = client.get(url).text
        assert 'action="' + url in confirm.replace("&amp;", "&")
        assert reverse("flags:detail", args=["sample_ramp"]) in confirm  # its Cancel link
        with watch_audit() as log:
            response = client.post(url)
        log.one("flags.schedule_cancelled", actor=author)
        assert response["Location"] == reverse("flags:detail", args=["sample_ramp"])
        assert f"Cancelled schedule #{schedule.pk}" in client.get(response["Location"]).text
        schedule.refresh_from_db()
        assert schedule.state == ScheduleState.CANCELLED

    def test_a_finished_schedule_has_no_actions(self, author) -> None:
        schedule = ramp(author)
        schedules.schedule_cancel(schedule_id=schedule.pk, actor=author)
        html = signed_in(author).get(detail_url(schedule)).text
        assert 'data-testid="sched-actions"' not in html
        assert "cancelled by pat.rivera@northwind.example" in html


class TestForm:
    def url(self, key: str = "sample_ramp") -> str:
        return reverse("flags:schedule_new", args=[key])

    def ramp_form(self, **changes) -> dict[str, str]:
        return {
            "kind": "ramp",
            "percents": "10, 50, 100",
            "start_at": minute(timezone.now()),
            "every": "1",
            "every_unit": "days",
            **changes,
        }

    def test_the_form_says_times_are_utc(self, author) -> None:
        FlagFactory(key="sample_ramp", scope_environments=["dev"])
        html = signed_in(author).get(self.url()).text
        assert 'type="datetime-local"' in html and "Time (UTC)" in html
        assert "Times are UTC" in html
        assert 'data-testid="sched-needs-approval"' not in html

    def test_where_approvals_are_asked_it_says_each_step_is_proposed(self, author) -> None:
        FlagFactory(key="sample_ramp")
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
        html = signed_in(author).get(self.url()).text
        assert 'data-testid="sched-needs-approval"' in html
        assert "Each step will be proposed as a change request at its time" in html
        assert "applied by the scheduler once it is approved" in html

    def test_a_ramp_without_javascript_opens_the_new_schedule(self, author) -> None:
        FlagFactory(key="sample_ramp")
        client = signed_in(author)
        with watch_audit() as log:
            response = client.post(self.url(), self.ramp_form())
        log.one("flags.schedule_created", actor=author)
        schedule = FlagSchedule.objects.get()
        assert response.status_code == 303 and response["Location"] == detail_url(schedule)
        assert schedule.kind == ScheduleKind.RAMP
        steps = list(schedule.steps.order_by("position"))
        assert [s.values["pct"] for s in steps] == [10, 50, 100]
        assert steps[1].at - steps[0].at == DAY
        assert (
            f"Scheduled #{schedule.pk} on sample_ramp: 3 steps."
            in client.get(response["Location"]).text
        )

    def test_a_change_with_htmx_navigates_to_the_schedule(self, author) -> None:
        FlagFactory(key="sample_ramp", state="off", pct=0)
        at = timezone.now() + timedelta(hours=3)
        data = {"kind": "change", "at": minute(at), "state": "on", "pct": "0", "title": ""}
        response = signed_in(author).post(self.url(), data, **HTMX)
        schedule = FlagSchedule.objects.get()
        assert response["HX-Redirect"] == detail_url(schedule)
        step = schedule.steps.get()
        assert step.values == {"state": "on"}  # only what differs from the flag now
        assert step.at == at.replace(second=0, microsecond=0)  # read as UTC
        assert schedule.title == "Set state on on sample_ramp"

    @pytest.mark.parametrize(
        ("changes", "status", "field_id", "text"),
        [
            ({"percents": ""}, 400, "sched-percents-errors", "give the steps"),
            ({"percents": "ten"}, 400, "sched-percents-errors", "whole percentages"),
            ({"percents": "50, 10"}, 422, "sched-percents-errors", "more tenants than the one"),
            ({"every": ""}, 400, "sched-every-errors", "give the time between steps"),
            ({"every": "1", "every_unit": "hours", "percents": "10, 20"}, 200, "", ""),
            ({"every": "60", "every_unit": "days"}, 422, "sched-every-errors", "5 minutes to 30"),
            ({"start_at": "2001-01-01T10:00"}, 422, "sched-start_at-errors", "has passed"),
            ({"start_at": "next week"}, 400, "sched-start_at-errors", "valid date/time"),
        ],
    )
    def test_a_bad_ramp_names_its_field_and_writes_nothing(
        self, author, changes, status, field_id, text
    ) -> None:
        FlagFactory(key="sample_ramp")
        with watch_audit() as log:
            response = signed_in(author).post(self.url(), self.ramp_form(**changes), **HTMX)
        if status == 200:  # the control case: the same form with good values is made
            assert response["HX-Redirect"]
            return
        log.none()
        assert response.status_code == status
        assert "<html" not in response.text and 'data-testid="sched-form"' in response.text
        errors = response.text.split(f'id="{field_id}"', 1)[1].split("</div>", 1)[0]
        assert text in errors
        assert not FlagSchedule.objects.exists()

    def test_a_change_to_what_the_flag_already_is_is_refused_on_the_state(self, author) -> None:
        FlagFactory(key="sample_ramp", state="off", pct=0)
        data = {"kind": "change", "at": minute(timezone.now()), "state": "off", "pct": "0"}
        response = signed_in(author).post(self.url(), data)
        assert response.status_code == 422 and "<html" in response.text
        errors = response.text.split('id="sched-state-errors"', 1)[1]
        assert "Nothing to schedule" in errors
        assert 'value="change" checked' in response.text.replace(
            'data-testid="sched-kind-change" ', ""
        )

    def test_a_change_needs_a_time(self, author) -> None:
        FlagFactory(key="sample_ramp")
        data = {"kind": "change", "at": "", "state": "on", "pct": "0"}
        response = signed_in(author).post(self.url(), data, **HTMX)
        assert response.status_code == 400
        assert "Time (UTC): give the time of the change" in response.text

    def test_an_unknown_flag_is_a_404(self, author) -> None:
        client = signed_in(author)
        assert client.get(self.url("no_such_flag")).status_code == 404
        assert client.post(self.url("no_such_flag"), self.ramp_form()).status_code == 404


class TestPanel:
    def test_lists_live_schedules_and_links_the_form(self, author) -> None:
        schedule = ramp(author)
        html = signed_in(author).get(reverse("flags:detail", args=["sample_ramp"])).text
        assert 'data-testid="flag-schedules"' in html
        assert f'data-id="{schedule.pk}"' in html and "next " in html and "rollout 10 %" in html
        assert reverse("flags:schedule_new", args=["sample_ramp"]) in html
        assert 'data-testid="flag-schedule-decision"' not in html

    def test_asks_keep_or_cancel_when_the_flag_changed(self, author) -> None:
        schedule = ramp(author)
        changed_by_hand(author)
        html = signed_in(author).get(reverse("flags:detail", args=["sample_ramp"])).text
        assert f"This flag was changed after schedule #{schedule.pk} was made." in html
        assert detail_url(schedule, "resume") + "?back=flag" in html
        assert detail_url(schedule, "cancel") + "?back=flag" in html

    def test_a_cancelled_schedule_leaves_the_panel(self, author) -> None:
        schedule = ramp(author)
        schedules.schedule_cancel(schedule_id=schedule.pk, actor=author)
        html = signed_in(author).get(reverse("flags:detail", args=["sample_ramp"])).text
        assert "None scheduled." in html


class TestChangeRequest:
    @pytest.fixture(autouse=True)
    def prod_needs_one(self, db) -> None:
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)

    def proposed(self, author):
        FlagFactory(key="sample_beta")
        return cr.flag_change(key="sample_beta", actor=author, state="on").change_request

    def url(self, request) -> str:
        return reverse("flags:change_request_schedule", kwargs={"request_id": request.pk})

    def test_the_request_page_offers_schedule_apply(self, author) -> None:
        request = self.proposed(author)
        page = reverse("flags:change_request", kwargs={"request_id": request.pk})
        html = signed_in(author).get(page).text
        assert 'data-testid="cr-schedule-form"' in html and f'action="{self.url(request)}"' in html

    def test_scheduling_opens_the_schedule_and_the_page_links_it(self, author) -> None:
        request = self.proposed(author)
        client = signed_in(author)
        at = timezone.now() + timedelta(hours=2)
        with watch_audit() as log:
            response = client.post(self.url(request), {"at": minute(at)})
        log.one("flags.schedule_created", actor=author)
        schedule = FlagSchedule.objects.get()
        assert response.status_code == 303 and response["Location"] == detail_url(schedule)
        assert schedule.kind == ScheduleKind.CHANGE_REQUEST and schedule.change_request == request
        page = client.get(reverse("flags:change_request", kwargs={"request_id": request.pk}))
        assert 'data-testid="cr-scheduled-link"' in page.text
        assert 'data-testid="cr-schedule-form"' not in page.text
        again = client.post(self.url(request), {"at": minute(at)}, **HTMX)
        assert again.status_code == 409 and "is already scheduled" in again.text

    def test_a_past_time_is_named_on_the_field(self, author) -> None:
        request = self.proposed(author)
        response = signed_in(author).post(self.url(request), {"at": "2001-01-01T10:00"})
        assert response.status_code == 422
        assert "Apply at (UTC): 2001-01-01 10:00 UTC has passed" in response.text
        assert not FlagSchedule.objects.exists()

    def test_a_closed_request_cannot_be_scheduled(self, author) -> None:
        request = self.proposed(author)
        cr.change_request_withdraw(request_id=request.pk, actor=author)
        page = reverse("flags:change_request", kwargs={"request_id": request.pk})
        assert 'data-testid="cr-schedule"' not in signed_in(author).get(page).text
        response = signed_in(author).post(self.url(request), {"at": minute(timezone.now())})
        assert response.status_code == 409 and "only an open or approved request" in response.text


class TestSavingOverASchedule:
    def test_a_save_by_hand_says_which_schedule_now_asks(self, author):
        schedule = ramp(author)
        response = signed_in(author).post(
            reverse("flags:save", kwargs={"key": "sample_ramp"}),
            {"description": "by hand", "state": "off", "pct": 0, "expected_version": 1},
            **HTMX,
        )
        assert response.status_code == 200
        assert f"Schedule #{schedule.pk} was made before this change" in response.text

    def test_the_kill_switch_says_so_too(self, author):
        FlagFactory(key="sample_live", state="rollout", pct=10)
        schedule = ramp(author, key="sample_live", percents=(20, 50))
        response = signed_in(author).post(
            reverse("flags:kill", kwargs={"key": "sample_live"}), **HTMX
        )
        assert f"Schedule #{schedule.pk} was made before this change" in response.text
