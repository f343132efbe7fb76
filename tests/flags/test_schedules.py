"""Scheduled flag changes: making them, the scheduler (idempotent, catching up after
downtime, pause and cancel, a flag changed by hand, the approval policy at the time
a step runs) and the command that runs it."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from audit.actions import describe
from audit.models import AuditEvent
from core.errors import ApplicationError, Conflict
from flags import change_requests as cr
from flags import schedules, services
from flags.models import (
    ApprovalPolicy,
    Flag,
    FlagSchedule,
    SchedulerRun,
    ScheduleState,
    StepState,
)
from tests.audit_helpers import watch_audit
from tests.flags.factories import FlagFactory
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def author():
    return OperatorFactory(email="pat.rivera@northwind.example")


@pytest.fixture
def reviewer():
    return OperatorFactory(email="sam.okafor@northwind.example")


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def ramp(author, now, key="sample_ramp", percents=(10, 25, 50, 100)) -> FlagSchedule:
    FlagFactory(key=key, state="off")
    return schedules.schedule_ramp(
        key=key, percents=list(percents), start_at=now + timedelta(hours=1), every=DAY, actor=author
    )


def flag(key="sample_ramp") -> Flag:
    return Flag.objects.get(key=key)


def states(schedule: FlagSchedule) -> list[str]:
    return list(schedule.steps.order_by("position").values_list("state", flat=True))


# ------------------------------------------------------------------ making --


class TestMaking:
    def test_a_ramp_has_one_step_a_day_and_is_audited(self, author, now):
        with watch_audit() as log:
            schedule = ramp(author, now)
        event = log.one("flags.schedule_created", actor=author)
        assert event.metadata["kind"] == "ramp"
        assert [s["values"]["pct"] for s in event.metadata["steps"]] == [10, 25, 50, 100]
        steps = list(schedule.steps.order_by("position"))
        assert [s.at - steps[0].at for s in steps] == [DAY * n for n in range(4)]
        assert all(s.values["state"] == "rollout" for s in steps)
        assert schedule.flag_version == 1 and schedule.state == "active"
        assert schedule.title == "Ramp sample_ramp: 10 % → 25 % → 50 % → 100 %"

    @pytest.mark.parametrize(
        "percents, field",
        [([], "percents"), ([10, 10], "percents"), ([50, 25], "percents"), ([0, 10], "percents"),
         ([10, 101], "percents"), (list(range(1, 13)), "percents"), ([True], "percents")],
    )  # fmt: skip
    def test_bad_percents_name_the_field(self, author, now, percents, field):
        FlagFactory(key="sample_ramp")
        with pytest.raises(ApplicationError) as refused:
            schedules.schedule_ramp(
                key="sample_ramp", percents=percents, start_at=now, every=DAY, actor=author
            )
        assert refused.value.field == field
        assert not FlagSchedule.objects.exists()

    def test_times_in_the_past_too_far_ahead_or_without_a_zone_are_refused(self, author, now):
        FlagFactory(key="sample_flag")
        for at, words in (
            (now - timedelta(hours=1), "has passed"),
            (now + timedelta(days=400), "a year ahead"),
            (now.replace(tzinfo=None), "time zone"),
        ):
            with pytest.raises(ApplicationError) as refused:
                schedules.schedule_change(
                    key="sample_flag", at=at, values={"state": "on"}, actor=author
                )
            assert refused.value.field == "at" and words in refused.value.message

    def test_a_ramp_step_interval_out_of_range_names_every(self, author, now):
        FlagFactory(key="sample_ramp")
        with pytest.raises(ApplicationError) as refused:
            schedules.schedule_ramp(
                key="sample_ramp", percents=[10, 50], start_at=now,
                every=timedelta(minutes=1), actor=author,
            )  # fmt: skip
        assert refused.value.field == "every"

    def test_a_change_to_values_the_flag_has_or_cannot_take_is_refused(self, author, now):
        FlagFactory(key="sample_flag", state="on")
        with pytest.raises(ApplicationError) as same:
            schedules.schedule_change(
                key="sample_flag", at=now, values={"state": "on"}, actor=author
            )
        assert same.value.field == "values"
        with pytest.raises(Exception):  # noqa: B017 - the model's own ValidationError
            schedules.schedule_change(key="sample_flag", at=now, values={"pct": 140}, actor=author)
        with pytest.raises(ValueError):
            schedules.schedule_change(
                key="sample_flag", at=now, values={"version": 9}, actor=author
            )
        assert not FlagSchedule.objects.exists()


# ---------------------------------------------------------------- running --


class TestRunning:
    def test_nothing_is_due_before_its_time(self, author, now):
        schedule = ramp(author, now)
        report = schedules.run_due(now=now)
        assert report.applied == 0 and states(schedule) == ["pending"] * 4
        assert flag().state == "off"
        assert SchedulerRun.objects.get().last_run_at == now

    def test_each_step_applies_at_its_time_once_as_the_system_for_its_author(self, author, now):
        schedule = ramp(author, now)
        first = now + timedelta(hours=1)
        with watch_audit() as log:
            report = schedules.run_due(now=first)
        assert report.applied == 1
        assert (flag().state, flag().pct, flag().version) == ("rollout", 10, 2)
        event = log.one("flag.updated")
        assert event.actor_id is None
        assert event.metadata["on_behalf_of"] == author.email
        assert event.metadata["schedule"] == schedule.pk
        assert describe(event).startswith(f"The system (for {author.email}) changed flag")
        # Idempotent: the same moment again, and again, applies nothing more.
        with watch_audit() as log:
            assert schedules.run_due(now=first).applied == 0
            assert schedules.run_due(now=first + timedelta(minutes=5)).applied == 0
        log.none()
        assert flag().version == 2
        assert states(schedule) == ["applied", "pending", "pending", "pending"]
        schedules.run_due(now=first + DAY)
        assert flag().pct == 25
        schedule.refresh_from_db()
        assert schedule.flag_version == 3

    def test_the_last_step_finishes_the_schedule(self, author, now):
        schedule = ramp(author, now, percents=(50, 100))
        schedules.run_due(now=now + timedelta(hours=1))
        with watch_audit() as log:
            schedules.run_due(now=now + timedelta(hours=1) + DAY)
        assert len(log.of("flags.schedule_finished")) == 1
        schedule.refresh_from_db()
        assert schedule.state == "done" and flag().pct == 100

    def test_after_downtime_it_catches_up_to_the_newest_due_step(self, author, now):
        schedule = ramp(author, now)
        # The scheduler did not run for three days: three steps fell due.
        report = schedules.run_due(now=now + timedelta(hours=1) + 2 * DAY + timedelta(hours=3))
        assert report.applied == 1
        assert (flag().pct, flag().version) == (50, 2)  # one write, straight to 50 %
        assert states(schedule) == ["skipped", "skipped", "applied", "pending"]
        step = schedule.steps.get(position=3)
        assert "Steps 1, 2 were skipped" in step.outcome

    def test_a_paused_schedule_waits_and_resumes_where_it_should_be(self, author, now):
        schedule = ramp(author, now)
        with watch_audit() as log:
            schedules.schedule_pause(schedule_id=schedule.pk, actor=author)
        log.one("flags.schedule_paused", actor=author)
        assert schedules.run_due(now=now + 2 * DAY).applied == 0
        assert flag().state == "off"
        schedules.schedule_resume(schedule_id=schedule.pk, actor=author)
        schedules.run_due(now=now + 2 * DAY)  # steps 1 and 2 fell due while paused
        assert flag().pct == 25

    def test_a_cancelled_schedule_never_writes_again(self, author, now):
        schedule = ramp(author, now)
        schedules.run_due(now=now + timedelta(hours=1))
        with watch_audit() as log:
            schedules.schedule_cancel(schedule_id=schedule.pk, actor=author)
        event = log.one("flags.schedule_cancelled", actor=author)
        assert event.metadata["steps_cancelled"] == [2, 3, 4]
        assert schedules.run_due(now=now + 10 * DAY).applied == 0
        assert flag().pct == 10
        assert states(schedule) == ["applied", "cancelled", "cancelled", "cancelled"]
        with pytest.raises(Conflict):
            schedules.schedule_cancel(schedule_id=schedule.pk, actor=author)
        with pytest.raises(Conflict):
            schedules.schedule_resume(schedule_id=schedule.pk, actor=author)

    def test_only_an_active_schedule_pauses(self, author, now):
        schedule = ramp(author, now)
        schedules.schedule_pause(schedule_id=schedule.pk, actor=author)
        with pytest.raises(Conflict):
            schedules.schedule_pause(schedule_id=schedule.pk, actor=author)


class TestChangedByHand:
    def test_a_flag_changed_by_hand_holds_the_schedule_until_someone_decides(self, author, now):
        schedule = ramp(author, now)
        schedules.run_due(now=now + timedelta(hours=1))
        services.flag_update(key="sample_ramp", actor=author, pct=15)
        schedule.refresh_from_db()
        assert schedules.needs_decision(schedule)  # asked at once, before the next run
        assert schedules.schedule_list(state="decision").get() == schedule
        with watch_audit() as log:
            report = schedules.run_due(now=now + timedelta(hours=1) + DAY)
        assert report.held == 1 and report.applied == 0
        assert flag().pct == 15  # the hand change stands
        held = log.one("flags.schedule_held")
        assert held.metadata["on_behalf_of"] == author.email
        schedule.refresh_from_db()
        assert schedule.state == ScheduleState.HELD
        assert "changed after this schedule" in schedule.held_reason
        # Keeping it applies the next steps on top of the flag as it is now.
        schedules.schedule_resume(schedule_id=schedule.pk, actor=author)
        schedules.run_due(now=now + timedelta(hours=1) + DAY)
        assert flag().pct == 25

    def test_the_kill_switch_stops_a_ramp(self, author, now):
        schedule = ramp(author, now)
        schedules.run_due(now=now + timedelta(hours=1))
        services.flag_kill(key="sample_ramp", actor=author)
        schedules.run_due(now=now + 3 * DAY)
        schedule.refresh_from_db()
        assert schedule.state == "held"
        assert (flag().state, flag().pct) == ("off", 0)

    def test_cancelling_is_the_other_answer(self, author, now):
        schedule = ramp(author, now)
        services.flag_update(key="sample_ramp", actor=author, description="edited")
        schedules.schedule_cancel(schedule_id=schedule.pk, actor=author)
        schedule.refresh_from_db()
        assert not schedules.needs_decision(schedule)
        schedules.run_due(now=now + 5 * DAY)
        assert flag().state == "off"


class TestWithApprovals:
    @pytest.fixture(autouse=True)
    def prod_needs_one(self, db):
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)

    def test_a_step_needing_approval_is_proposed_in_the_authors_name(self, author, reviewer, now):
        schedule = ramp(author, now, percents=(10, 50))
        assert schedules.requirement_of(schedule).approvals == 1
        report = schedules.run_due(now=now + timedelta(hours=1))
        assert report.proposed == 1 and report.applied == 0
        assert flag().state == "off"  # nothing written without approval
        step = schedule.steps.get(position=1)
        assert step.state == StepState.WAITING
        request = step.change_request
        assert request.author == author  # so the author cannot approve it
        with pytest.raises(cr.NotAllowed):
            cr.change_request_approve(request_id=request.pk, actor=author)
        # Not approved yet: the next run waits.
        assert schedules.run_due(now=now + timedelta(hours=2)).applied == 0
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        report = schedules.run_due(now=now + timedelta(hours=2))
        assert report.applied == 1
        assert (flag().state, flag().pct) == ("rollout", 10)
        step.refresh_from_db()
        schedule.refresh_from_db()
        assert step.state == "applied" and schedule.flag_version == flag().version
        assert not schedules.needs_decision(schedule)

    def test_a_proposed_step_applied_by_hand_moves_the_schedule_on(self, author, reviewer, now):
        schedule = ramp(author, now, percents=(10, 50))
        schedules.run_due(now=now + timedelta(hours=1))
        request = schedule.steps.get(position=1).change_request
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        cr.change_request_apply(request_id=request.pk, actor=reviewer)
        schedule.refresh_from_db()
        assert not schedules.needs_decision(schedule)
        assert states(schedule) == ["applied", "pending"]

    def test_a_rejected_step_holds_the_schedule(self, author, reviewer, now):
        schedule = ramp(author, now, percents=(10, 50))
        schedules.run_due(now=now + timedelta(hours=1))
        request = schedule.steps.get(position=1).change_request
        cr.change_request_reject(request_id=request.pk, actor=reviewer, reason="Not this week")
        report = schedules.run_due(now=now + timedelta(hours=2))
        assert report.held == 1
        schedule.refresh_from_db()
        assert schedule.state == "held" and "Not this week" in schedule.held_reason
        assert states(schedule) == ["failed", "pending"]

    def test_an_approved_change_request_is_applied_at_its_time(self, author, reviewer, now):
        FlagFactory(key="sample_flag")
        request = cr.flag_change(key="sample_flag", actor=author, state="on").change_request
        cr.change_request_approve(request_id=request.pk, actor=reviewer)
        schedule = schedules.schedule_change_request(
            request_id=request.pk, at=now + timedelta(hours=3), actor=reviewer
        )
        with pytest.raises(Conflict):  # one schedule per request
            schedules.schedule_change_request(request_id=request.pk, at=now, actor=reviewer)
        assert schedules.run_due(now=now + timedelta(hours=2)).applied == 0
        with watch_audit() as log:
            schedules.run_due(now=now + timedelta(hours=3))
        (applied,) = log.of("flags.change_applied")
        assert applied.metadata["on_behalf_of"] == reviewer.email
        request.refresh_from_db()
        schedule.refresh_from_db()
        assert request.state == "applied" and flag("sample_flag").state == "on"
        assert schedule.state == "done"

    def test_a_scheduled_request_still_needs_its_approvals_then(self, author, now):
        FlagFactory(key="sample_flag")
        request = cr.flag_change(key="sample_flag", actor=author, state="on").change_request
        schedule = schedules.schedule_change_request(request_id=request.pk, at=now, actor=author)
        report = schedules.run_due(now=now)
        assert report.held == 1 and flag("sample_flag").state == "off"
        schedule.refresh_from_db()
        assert "needs 1 approval" in schedule.held_reason


class TestCommand:
    def start_now(self, author) -> FlagSchedule:
        FlagFactory(key="sample_ramp")
        return schedules.schedule_ramp(
            key="sample_ramp", percents=[10, 50], start_at=timezone.now(), every=DAY, actor=author
        )

    def test_it_prints_what_it_applied(self, author):
        self.start_now(author)
        out = StringIO()
        call_command("apply_scheduled_flag_changes", stdout=out)
        assert "step 1 applied: version 2." in out.getvalue()
        assert "Applied 1, proposed 0, held 0." in out.getvalue()
        assert flag().pct == 10

    def test_it_exits_1_when_it_held_a_schedule(self, author):
        self.start_now(author)
        services.flag_update(key="sample_ramp", actor=author, pct=12)
        out, err = StringIO(), StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("apply_scheduled_flag_changes", stdout=out, stderr=err)
        assert exited.value.code == 1
        assert "held" in out.getvalue() and "1 schedule(s) held" in err.getvalue()
        assert flag().pct == 12

    def test_a_bad_loop_interval_exits_2(self):
        err = StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("apply_scheduled_flag_changes", "--loop", "1", stderr=err)
        assert exited.value.code == 2 and "between 5 and 3600" in err.getvalue()

    def test_nothing_due_prints_nothing(self, db):
        out = StringIO()
        with watch_audit() as log:
            call_command("apply_scheduled_flag_changes", stdout=out)
        assert out.getvalue() == ""
        log.none()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks are a PostgreSQL matter")
def test_two_schedulers_at_once_apply_each_step_once() -> None:
    author = OperatorFactory()
    start = timezone.now()
    FlagFactory(key="sample_ramp")
    schedules.schedule_ramp(
        key="sample_ramp", percents=[10, 50], start_at=start, every=DAY, actor=author
    )
    barrier = threading.Barrier(4)
    reports: list[schedules.RunReport] = []

    def run() -> None:
        barrier.wait()
        reports.append(schedules.run_due(now=start + timedelta(minutes=1)))
        connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(r.applied for r in reports) == 1
    assert (flag().pct, flag().version) == (10, 2)
    assert AuditEvent.objects.filter(action="flag.updated").count() == 1


class TestDeletingWhereApprovalsAreNeeded:
    def test_a_live_flag_is_turned_off_before_it_is_deleted(self, author):
        ApprovalPolicy.objects.create(environment="prod", approvals_required=1)
        FlagFactory(key="sample_live", state="on")
        with pytest.raises(Conflict) as refused:
            services.flag_delete(key="sample_live", actor=author)
        assert "Turn it off first" in refused.value.message
        services.flag_kill(key="sample_live", actor=author)
        services.flag_delete(key="sample_live", actor=author)
        assert not Flag.objects.filter(key="sample_live").exists()

    def test_without_a_policy_a_live_flag_is_deleted_at_once(self, author):
        FlagFactory(key="sample_live", state="on")
        services.flag_delete(key="sample_live", actor=author)
        assert not Flag.objects.filter(key="sample_live").exists()


@pytest.mark.parametrize("key", ["evaluate", "preview", "stream"])
def test_keys_the_api_uses_as_paths_are_reserved(author, key):
    with pytest.raises(Conflict) as refused:
        services.flag_create(key=key, actor=author)
    assert refused.value.field == "key" and "reserved" in refused.value.message
