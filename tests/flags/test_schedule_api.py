"""The schedules API: making a change at a time, a rollout ramp and a scheduled change
request; reading, pausing, resuming and cancelling them; who may call it; that every
malformed body is a 400 naming the field and writes nothing; and the schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as dj_timezone

from audit.models import AuditEvent
from flags import change_requests as cr
from flags import schedules, services
from flags.models import FlagSchedule, ScheduleState, StepState
from tests.audit_helpers import watch_audit
from tests.flags.factories import FlagFactory
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token

pytestmark = pytest.mark.django_db

ALL = "/api/flags/scheduled-changes/"
BERLIN_SUMMER = timezone(timedelta(hours=2))


def of_flag(key: str) -> str:
    return f"/api/flags/{key}/schedules/"


def one(schedule_id: int, action: str = "") -> str:
    return f"{ALL}{schedule_id}/{action + '/' if action else ''}"


def later(**delta: float) -> datetime:
    """A time ahead of now, written with a +02:00 offset."""
    return (dj_timezone.now() + timedelta(**delta)).astimezone(BERLIN_SUMMER)


@pytest.fixture
def operator():
    return OperatorFactory(email="pat.rivera@northwind.example")


@pytest.fixture
def api(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def flag():
    return FlagFactory(key="northwind_beta", scope_environments=["dev"])


def post(client: Client, url: str, body: Any = None, **headers: str) -> Any:
    return client.post(url, body if body is not None else {}, content_type="application/json",
                       **headers)  # fmt: skip


def change_body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "change",
        "at": later(hours=2).isoformat(),
        "values": {"state": "on", "scope": {"environments": ["dev", "staging"]}},
        "title": "Beta on in staging",
        **overrides,
    }


def ramp_body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "ramp",
        "percents": [10, 25, 50, 100],
        "start_at": later(hours=1).isoformat(),
        "every_hours": 1.5,
        **overrides,
    }


def make_change(operator, key: str = "northwind_beta", **values: Any) -> FlagSchedule:
    return schedules.schedule_change(
        key=key, at=later(hours=3), values=values or {"state": "on"}, actor=operator
    )


# ----------------------------------------------------------------- making --


class TestCreate:
    def test_a_change_at_a_time_answers_201_with_the_schedule_and_is_audited(
        self, api, operator, flag
    ) -> None:
        at = later(hours=2)
        with watch_audit() as log:
            response = post(api, of_flag("northwind_beta"), change_body(at=at.isoformat()))
        assert response.status_code == 201, response.json()
        body = response.json()
        assert set(body) == {
            "id", "flag", "kind", "title", "state", "needs_decision", "held_reason",
            "flag_version", "change_request", "created_by", "created_at", "steps",
            "next_step_at",
        }  # fmt: skip
        assert body["flag"] == "northwind_beta" and body["kind"] == "change"
        assert body["state"] == "active" and body["needs_decision"] is False
        assert body["title"] == "Beta on in staging"
        assert body["created_by"] == "pat.rivera@northwind.example"
        assert body["flag_version"] == flag.version and body["change_request"] is None
        [step] = body["steps"]
        # The values come back in the shape they were sent in.
        assert step["values"] == {"state": "on", "scope": {"environments": ["dev", "staging"]}}
        assert step["state"] == "pending" and step["position"] == 1
        # The same instant, whatever offset it was given with.
        assert datetime.fromisoformat(step["at"]) == at
        assert datetime.fromisoformat(body["next_step_at"]) == at
        event = log.one("flags.schedule_created", actor=operator)
        assert event.target_id == str(body["id"]) and event.actor_ip == "127.0.0.1"
        assert event.metadata["kind"] == "change" and event.metadata["flag"] == "northwind_beta"
        stored = FlagSchedule.objects.get()
        assert stored.steps.get().values == {
            "state": "on",
            "scope_environments": ["dev", "staging"],
        }

    def test_a_ramp_makes_one_step_per_percent_every_given_hours(self, api, flag) -> None:
        start = later(hours=1)
        response = post(api, of_flag("northwind_beta"), ramp_body(start_at=start.isoformat()))
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["kind"] == "ramp"
        assert body["title"] == "Ramp northwind_beta: 10 % → 25 % → 50 % → 100 %"
        steps = body["steps"]
        assert [s["values"] for s in steps] == [
            {"state": "rollout", "pct": p} for p in (10, 25, 50, 100)
        ]
        times = [datetime.fromisoformat(s["at"]) for s in steps]
        assert times[0] == start
        assert [b - a for a, b in pairwise(times)] == [timedelta(minutes=90)] * 3

    def test_a_time_with_z_is_utc(self, api, flag) -> None:
        at = (dj_timezone.now() + timedelta(days=1)).replace(microsecond=0)
        text = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = post(api, of_flag("northwind_beta"), change_body(at=text))
        assert response.status_code == 201
        assert datetime.fromisoformat(response.json()["steps"][0]["at"]) == at

    def test_an_unknown_flag_is_a_404(self, api) -> None:
        response = post(api, of_flag("no_such_flag"), change_body())
        assert response.status_code == 404
        assert "no_such_flag" in response.json()["detail"]

    @pytest.mark.parametrize("key", ["Not-A-Key", "a%00b", "a" * 300])
    def test_a_key_that_cannot_be_a_key_is_refused_never_an_error(self, api, key) -> None:
        # A NUL byte never reaches a view (core.request_guard answers 400 for it).
        assert post(api, of_flag(key), change_body()).status_code in (400, 404)
        assert api.get(of_flag(key)).status_code in (400, 404)
        assert not FlagSchedule.objects.exists()


class TestValidation:
    """Shapes are checked before any service runs: 400, the field named, nothing written."""

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "sideways"}, "kind"),
            ({"kind": ["change"]}, "kind"),
            ({"kind": None}, "kind"),
            ({"kind": "change_request", "at": "2030-01-01T00:00:00Z"}, "kind"),
            (change_body(at="2030-06-01T09:00:00"), "at"),  # no offset
            (change_body(at="2030-06-01"), "at"),
            (change_body(at="tomorrow"), "at"),
            (change_body(at=1893456000), "at"),
            (change_body(at="2030-13-45T09:00:00+02:00"), "at"),
            (change_body(at="2030-06-01T09:00:00+02:00\x00"), "at"),
            (change_body(values={"colour": "red"}), "values"),
            (change_body(values={"state": "on", "key": "other_flag"}), "values"),
            (change_body(values={}), "values"),
            (change_body(values="on"), "values"),
            (change_body(values=["state", "on"]), "values"),
            (change_body(values=None), "values"),
            (change_body(values={"pct": 300}), "values"),
            (change_body(values={"pct": "lots"}), "values"),
            (change_body(values={"state": "sideways"}), "values"),
            (change_body(values={"scope": {"planets": ["mars"]}}), "values"),
            (change_body(values={"scope": {"plans": "starter"}}), "values"),
            (change_body(values={"description": "Bad\x00byte"}), "values"),
            (change_body(values={"scope": {"tenant_slugs": ["acme"] * 501}}), "values"),
            (change_body(title="Beta\x00on"), "title"),
            (change_body(title="x" * 201), "title"),
            (change_body(title=["Beta"]), "title"),
            ({"kind": "change", "values": {"state": "on"}}, "at"),
            (change_body(percents=[10]), "percents"),  # a ramp's field on a change
            (ramp_body(percents="10,25,50"), "percents"),
            (ramp_body(percents={"first": 10}), "percents"),
            (ramp_body(percents=[10, "twenty"]), "percents"),
            (ramp_body(percents=[10, True]), "percents"),
            (ramp_body(percents=[10, 25.5]), "percents"),
            (ramp_body(percents=[0, 50]), "percents"),
            (ramp_body(percents=[50, 150]), "percents"),
            (ramp_body(percents=[]), "percents"),
            (ramp_body(percents=list(range(1, 12))), "percents"),
            (ramp_body(percents=list(range(1, 100)) * 100), "percents"),
            (ramp_body(percents=None), "percents"),
            (ramp_body(start_at="2030-06-01T09:00:00"), "start_at"),
            (ramp_body(every_hours="soon"), "every_hours"),
            (ramp_body(every_hours=True), "every_hours"),
            (ramp_body(every_hours=0), "every_hours"),
            (ramp_body(every_hours=0.05), "every_hours"),
            (ramp_body(every_hours=721), "every_hours"),
            (ramp_body(every_hours=1e308), "every_hours"),
            (ramp_body(every_hours="NaN"), "every_hours"),
            (ramp_body(every_hours=[1]), "every_hours"),
            ({k: v for k, v in ramp_body().items() if k != "every_hours"}, "every_hours"),
            ({**ramp_body(every="PT1H")}, "every"),
            (ramp_body(title="\x00"), "title"),
        ],
    )
    def test_a_bad_body_is_a_400_naming_the_field(self, api, flag, body, field) -> None:
        with watch_audit() as log:
            response = post(api, of_flag("northwind_beta"), body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), response.json()
        assert not FlagSchedule.objects.exists()
        log.none()

    @pytest.mark.parametrize("body", [[change_body()], 42, "true", "null", '"change"'])
    def test_a_body_that_is_not_an_object_is_a_400(self, api, flag, body) -> None:
        response = post(api, of_flag("northwind_beta"), body)
        assert response.status_code == 400
        assert "non_field_errors" in response.json()

    @pytest.mark.parametrize("raw", ["change", "{", '{"kind": NaN}', ""])
    def test_a_body_that_is_not_json_is_a_400(self, api, flag, raw) -> None:
        response = api.post(of_flag("northwind_beta"), raw, content_type="application/json")
        assert response.status_code == 400
        assert not FlagSchedule.objects.exists()

    def test_unknown_fields_in_values_are_each_named(self, api, flag) -> None:
        body = change_body(values={"state": "on", "colour": "red", "size": 3})
        errors = post(api, of_flag("northwind_beta"), body).json()["values"]
        assert set(errors) == {"colour", "size"}

    def test_a_value_the_flag_cannot_take_names_the_fields_api_name(self, api, flag) -> None:
        body = change_body(values={"scope": {"plans": ["platinum"]}})
        with watch_audit() as log:
            response = post(api, of_flag("northwind_beta"), body)
        assert response.status_code == 400
        assert "platinum" in response.json()["values"]["scope.plans"][0]
        assert not FlagSchedule.objects.exists()
        log.none()


class TestRefusals:
    """The services' rules: a 422 with `field`, in the API's words."""

    @pytest.mark.parametrize(
        ("body", "field", "words"),
        [
            (change_body(at="2020-01-01T09:00:00+02:00"), "at", "has passed"),
            (change_body(at=later(days=400).isoformat()), "at", "a year ahead"),
            (change_body(values={"state": "off"}), "values", "Nothing to schedule"),
            (ramp_body(percents=[50, 25]), "percents", "more tenants"),
            (ramp_body(start_at="2020-01-01T09:00:00Z"), "start_at", "has passed"),
            # Each time is fine on its own; the last step falls beyond a year.
            (
                ramp_body(
                    start_at=later(days=300).isoformat(), every_hours=720, percents=[1, 2, 3, 4]
                ),
                "every_hours",
                "a year ahead",
            ),
        ],
    )
    def test_a_refused_schedule_is_a_422_naming_the_field(
        self, api, flag, body, field, words
    ) -> None:
        with watch_audit() as log:
            response = post(api, of_flag("northwind_beta"), body)
        assert response.status_code == 422, response.content
        assert response.json()["field"] == field
        assert words in response.json()["detail"]
        assert not FlagSchedule.objects.exists()
        log.none()


# ---------------------------------------------------------------- reading --


class TestRead:
    def test_a_flags_list_is_newest_first_filtered_and_only_its_own(
        self, api, operator, flag
    ) -> None:
        FlagFactory(key="northwind_search")
        first = make_change(operator, description="First")
        second = make_change(operator, description="Second")
        make_change(operator, key="northwind_search")
        schedules.schedule_pause(schedule_id=first.pk, actor=operator)
        body = api.get(of_flag("northwind_beta")).json()
        assert body["count"] == 2
        assert [s["id"] for s in body["results"]] == [second.pk, first.pk]
        paused = api.get(of_flag("northwind_beta") + "?state=paused").json()
        assert [s["id"] for s in paused["results"]] == [first.pk]

    def test_a_bad_state_filter_is_a_400_and_an_unknown_flag_a_404(self, api, flag) -> None:
        response = api.get(of_flag("northwind_beta") + "?state=sideways")
        assert response.status_code == 400 and "state" in response.json()
        assert api.get(ALL + "?state=%00").status_code == 400
        assert api.get(of_flag("no_such_flag")).status_code == 404

    def test_the_list_of_all_filters_by_state_flag_and_search(self, api, operator, flag) -> None:
        FlagFactory(key="northwind_search")
        beta = make_change(operator)
        search = make_change(operator, key="northwind_search")
        done = make_change(operator, key="northwind_search", description="Cancelled one")
        schedules.schedule_cancel(schedule_id=done.pk, actor=operator)
        # The flag changed by other means: the beta schedule needs a decision.
        services.flag_update(key="northwind_beta", actor=operator, pct=5)

        def ids(query: str) -> list[int]:
            response = api.get(ALL + query)
            assert response.status_code == 200, response.content
            return [s["id"] for s in response.json()["results"]]

        assert ids("") == [done.pk, search.pk, beta.pk]
        assert ids("?state=live") == [search.pk, beta.pk]
        assert ids("?state=decision") == [beta.pk]
        assert ids("?state=cancelled") == [done.pk]
        assert ids("?flag=northwind_beta") == [beta.pk]
        assert ids("?flag=northwind_search&state=live") == [search.pk]
        assert ids("?flag=no_such_flag") == []
        assert ids("?search=search") == [done.pk, search.pk]
        decided = api.get(one(beta.pk)).json()
        assert decided["needs_decision"] is True and decided["state"] == "active"

    @pytest.mark.parametrize(
        ("query", "field"),
        [("?flag=Not%20A%20Key", "flag"), ("?flag=a%00b", "flag"), ("?search=a%00b", "search"),
         ("?search=" + "x" * 101, "search"), ("?state=held%00", "state")],
    )  # fmt: skip
    def test_a_bad_filter_is_a_400_naming_it(self, api, query, field) -> None:
        response = api.get(ALL + query)
        assert response.status_code == 400
        # Ours name it as a key; core.request_guard, which stops NUL bytes first, as `field`.
        assert field in response.json() or response.json().get("field") == field

    def test_the_list_is_paged(self, api, operator, flag) -> None:
        made = [make_change(operator, description=f"Step {n}") for n in range(3)]
        page = api.get(ALL + "?page_size=2").json()
        assert page["count"] == 3 and len(page["results"]) == 2
        assert page["next"].endswith("page=2&page_size=2") and page["previous"] is None
        rest = api.get(ALL + "?page_size=2&page=2").json()
        assert [s["id"] for s in rest["results"]] == [made[0].pk]
        assert api.get(ALL + "?page=99").status_code == 404

    def test_a_page_costs_the_same_queries_however_many_schedules(
        self, api, operator, flag
    ) -> None:
        make_change(operator)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert api.get(ALL).status_code == 200
            return len(captured)

        few = queries()
        for n in range(4):
            schedules.schedule_ramp(
                key="northwind_beta", percents=[10, 20 + n], start_at=later(hours=1),
                every=timedelta(hours=1), actor=operator,
            )  # fmt: skip
        assert queries() == few

    def test_one_schedule_and_a_404(self, api, operator, flag) -> None:
        made = make_change(operator)
        body = api.get(one(made.pk)).json()
        assert body["id"] == made.pk and body["steps"][0]["values"] == {"state": "on"}
        missing = api.get(one(made.pk + 1000))
        assert missing.status_code == 404
        assert f"#{made.pk + 1000}" in missing.json()["detail"]
        assert api.get(ALL + "99999999999999999999/").status_code == 404


# ---------------------------------------------------- pause, resume, cancel --


class TestActions:
    def test_pause_resume_cancel_each_answer_the_schedule_and_are_audited(
        self, api, operator, flag
    ) -> None:
        made = make_change(operator)
        for action, state, audit_action in (
            ("pause", "paused", "flags.schedule_paused"),
            ("resume", "active", "flags.schedule_resumed"),
            ("cancel", "cancelled", "flags.schedule_cancelled"),
        ):
            with watch_audit() as log:
                response = post(api, one(made.pk, action))
            assert response.status_code == 200, response.content
            assert response.json()["state"] == state
            event = log.one(audit_action, actor=operator)
            assert event.target_id == str(made.pk) and event.actor_ip == "127.0.0.1"
        body = api.get(one(made.pk)).json()
        assert [s["state"] for s in body["steps"]] == [StepState.CANCELLED]
        assert body["next_step_at"] is None

    @pytest.mark.parametrize(
        ("setup", "action", "words"),
        [
            ("pause", "pause", "only an active one can pause"),
            (None, "resume", "nothing to resume"),
            ("cancel", "cancel", "can no longer be cancelled"),
            ("cancel", "resume", "nothing to resume"),
            ("cancel", "pause", "only an active one can pause"),
        ],
    )
    def test_an_action_its_state_forbids_is_a_409_with_the_reason(
        self, api, operator, flag, setup, action, words
    ) -> None:
        made = make_change(operator)
        if setup:
            getattr(schedules, f"schedule_{setup}")(schedule_id=made.pk, actor=operator)
        before = FlagSchedule.objects.get().state
        with watch_audit() as log:
            response = post(api, one(made.pk, action))
        assert response.status_code == 409
        assert words in response.json()["detail"]
        assert FlagSchedule.objects.get().state == before
        log.none()

    def test_resume_keeps_a_schedule_whose_flag_changed(self, api, operator, flag) -> None:
        made = make_change(operator)
        changed = services.flag_update(key="northwind_beta", actor=operator, pct=5)
        with watch_audit() as log:
            response = post(api, one(made.pk, "resume"))
        assert response.status_code == 200
        assert response.json()["needs_decision"] is False
        assert response.json()["flag_version"] == changed.version
        event = log.one("flags.schedule_resumed", actor=operator)
        assert event.metadata["flag_version_before"] == flag.version

    @pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
    def test_an_unknown_schedule_is_a_404(self, api, action) -> None:
        assert post(api, one(99999, action)).status_code == 404


# ------------------------------------------------------ change requests --


class TestChangeRequestSchedule:
    def url(self, request_id: int) -> str:
        return f"/api/flags/change-requests/{request_id}/schedule/"

    def test_scheduling_a_change_request_answers_201_and_a_second_time_409(
        self, api, operator, flag
    ) -> None:
        request = cr.change_request_create(key="northwind_beta", actor=operator, state="on")
        at = later(hours=5)
        with watch_audit() as log:
            response = post(api, self.url(request.pk), {"at": at.isoformat()})
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "change_request" and body["change_request"] == request.pk
        assert body["steps"][0]["change_request"] == request.pk
        assert datetime.fromisoformat(body["next_step_at"]) == at
        log.one("flags.schedule_created", actor=operator)
        again = post(api, self.url(request.pk), {"at": at.isoformat()})
        assert again.status_code == 409 and "already scheduled" in again.json()["detail"]
        assert FlagSchedule.objects.count() == 1

    def test_a_closed_request_is_a_409(self, api, operator, flag) -> None:
        request = cr.change_request_create(key="northwind_beta", actor=operator, state="on")
        cr.change_request_withdraw(request_id=request.pk, actor=operator)
        response = post(api, self.url(request.pk), {"at": later(hours=1).isoformat()})
        assert response.status_code == 409 and "withdrawn" in response.json()["detail"]
        assert not FlagSchedule.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [({}, "at"), ({"at": "2030-06-01T09:00:00"}, "at"), ({"at": None}, "at"),
         ({"at": "2030-06-01T09:00:00Z", "every_hours": 1}, "every_hours")],
    )  # fmt: skip
    def test_a_bad_body_is_a_400(self, api, operator, flag, body, field) -> None:
        request = cr.change_request_create(key="northwind_beta", actor=operator, state="on")
        response = post(api, self.url(request.pk), body)
        assert response.status_code == 400 and field in response.json()
        assert not FlagSchedule.objects.exists()

    def test_a_time_that_has_passed_is_a_422(self, api, operator, flag) -> None:
        request = cr.change_request_create(key="northwind_beta", actor=operator, state="on")
        response = post(api, self.url(request.pk), {"at": "2020-01-01T00:00:00Z"})
        assert response.status_code == 422 and response.json()["field"] == "at"

    def test_an_unknown_request_is_a_404(self, api) -> None:
        response = post(api, self.url(99999), {"at": later(hours=1).isoformat()})
        assert response.status_code == 404


# ------------------------------------------------------------ who may call --


class TestAccess:
    def test_anonymous_callers_get_401_and_nothing_is_written(self, flag) -> None:
        anonymous = Client()
        assert anonymous.get(ALL).status_code == 401
        response = post(anonymous, of_flag("northwind_beta"), change_body())
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert not FlagSchedule.objects.exists()

    def test_signed_in_non_operators_get_403(self, operator, flag) -> None:
        made = make_change(operator)
        member = Client()
        member.force_login(UserFactory())
        assert member.get(ALL).status_code == 403
        assert member.get(one(made.pk)).status_code == 403
        assert post(member, one(made.pk, "cancel")).status_code == 403
        assert post(member, of_flag("northwind_beta"), change_body()).status_code == 403
        assert FlagSchedule.objects.get().state == ScheduleState.ACTIVE

    @pytest.mark.parametrize("scope", ["flags:read", "flags:evaluate"])
    def test_service_tokens_neither_read_nor_write(self, operator, flag, scope) -> None:
        made = make_change(operator)
        service = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(scope)}")
        assert service.get(ALL).status_code == 403
        assert service.get(of_flag("northwind_beta")).status_code == 403
        assert post(service, one(made.pk, "pause")).status_code == 403
        assert post(service, of_flag("northwind_beta"), change_body()).status_code == 403
        assert FlagSchedule.objects.count() == 1
        assert not AuditEvent.objects.filter(action="flags.schedule_paused").exists()


def test_the_schema_documents_every_schedule_operation(api) -> None:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/flags/{key}/schedules/",
        "/api/flags/scheduled-changes/",
        "/api/flags/scheduled-changes/{schedule_id}/",
        "/api/flags/scheduled-changes/{schedule_id}/pause/",
        "/api/flags/scheduled-changes/{schedule_id}/resume/",
        "/api/flags/scheduled-changes/{schedule_id}/cancel/",
        "/api/flags/change-requests/{request_id}/schedule/",
    ):
        assert path in text, path
    for operation in (
        "flag_schedules_list", "flag_schedule_create", "flag_schedules_list_all",
        "flag_schedule_get", "flag_schedule_pause", "flag_schedule_resume",
        "flag_schedule_cancel", "flag_change_request_schedule",
    ):  # fmt: skip
        assert operation in text, operation
    assert "every_hours" in text and "ScheduleCreate" in text
