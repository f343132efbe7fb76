"""Evaluation counts: in memory per worker, flushed additively per flag and day."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from flags import counters, engine, services
from flags.engine import FlagSnapshot, Scope, TenantContext
from flags.models import FlagEvaluationDay
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import TenantFactory

EVALUATE = "/api/flags/evaluate/"
ENVIRONMENTS = ("dev", "staging", "prod")
OFREP_ONE = "/ofrep/v1/evaluate/flags/{}"
OFREP_BULK = "/ofrep/v1/evaluate/flags"


@pytest.fixture(autouse=True)
def _fresh_tally():
    counters.reset_for_tests()
    yield
    counters.reset_for_tests()


@pytest.fixture
def evaluate(client, db):
    """POST as a service with flags:evaluate, to the native or an OFREP endpoint."""
    TenantFactory(slug="northwind", plan="business")
    token = make_token("flags:evaluate")

    def post(url: str, body: dict):
        return client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )

    return post


FLAGS = (
    FlagSnapshot("flag_00", "off"),
    FlagSnapshot("flag_01", "on"),
    FlagSnapshot("flag_02", "rollout", pct=50),
    FlagSnapshot("flag_03", "targeted", scope=Scope(plans=frozenset({"business"}))),
    FlagSnapshot("flag_04", "rollout", pct=30, scope=Scope(environments=frozenset({"prod"}))),
    *(FlagSnapshot(f"flag_{i:02}", "rollout", pct=i) for i in range(5, 40)),
)
CONTEXTS = [
    TenantContext(f"tenant-id-{n}", f"tenant-{n}", plan, None, env)
    for n, (plan, env) in enumerate(
        [("business", "prod"), ("starter", "prod"), ("business", "dev"), ("enterprise", "dev")]
    )
]


def rows() -> dict[str, tuple[int, int]]:
    return {r.key: (r.on_count, r.off_count) for r in FlagEvaluationDay.objects.all()}


# ------------------------------------------------------------- counting --


class TestTally:
    def test_record_counts_each_key_and_value(self) -> None:
        tally = counters.Tally()
        tally.record({"saml_sso": True, "beta_ui": False})
        tally.record({"saml_sso": True, "beta_ui": True})
        tally.record_one("beta_ui", False)
        assert tally.pending() == {
            ("saml_sso", True): 2,
            ("beta_ui", False): 2,
            ("beta_ui", True): 1,
        }

    def test_threads_lose_no_increment(self) -> None:
        tally = counters.Tally()
        answers = {f"flag_{i}": i % 2 == 0 for i in range(10)}

        def hammer() -> None:
            for _ in range(2_000):
                tally.record(answers)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(tally.pending().values()) == {8_000}

    def test_a_whole_snapshot_is_counted_once_and_expanded_per_flag(self) -> None:
        tally, per_flag = counters.Tally(), counters.Tally()
        for ctx in [*CONTEXTS, CONTEXTS[0], CONTEXTS[0], CONTEXTS[3]]:
            answers = engine.evaluate_all(FLAGS, ctx)
            tally.record_evaluation(FLAGS, ctx, answers)
            per_flag.record(answers)
        assert tally.pending_requests() == len(CONTEXTS)  # one entry per tenant context
        assert tally.pending() == per_flag.pending()
        assert sum(tally.pending().values()) == (len(CONTEXTS) + 3) * len(FLAGS)

    def test_engine_results_count_like_booleans(self) -> None:
        tally, per_flag = counters.Tally(), counters.Tally()
        for ctx in CONTEXTS:
            tally.record_evaluation(FLAGS, ctx, engine.explain_all(FLAGS, ctx))
            per_flag.record(engine.evaluate_all(FLAGS, ctx))
        assert tally.pending() == per_flag.pending()

    def test_a_new_snapshot_leaves_counted_answers_alone(self) -> None:
        tally = counters.Tally()
        before = (FlagSnapshot("saml_sso", "off"), FlagSnapshot("retired_flag", "on"))
        after = (FlagSnapshot("saml_sso", "on"), FlagSnapshot("new_flag", "on"))
        ctx = CONTEXTS[0]
        tally.record_evaluation(before, ctx, engine.evaluate_all(before, ctx))
        tally.record_evaluation(after, ctx, engine.evaluate_all(after, ctx))
        tally.record_evaluation(after, ctx, engine.evaluate_all(after, ctx))
        assert tally.pending() == {
            ("saml_sso", False): 1,
            ("retired_flag", True): 1,
            ("saml_sso", True): 2,
            ("new_flag", True): 2,
        }

    def test_answers_that_are_not_the_whole_snapshot_count_per_flag(self) -> None:
        tally = counters.Tally()
        tally.record_evaluation(FLAGS, CONTEXTS[0], {"flag_01": True})
        assert tally.pending() == {("flag_01", True): 1}
        assert tally.pending_requests() == 0

    def test_memory_stays_bounded_and_the_counts_stay_right(self, monkeypatch) -> None:
        monkeypatch.setattr(counters, "MAX_PENDING_REQUESTS", 3)
        monkeypatch.setattr(counters, "MAX_PENDING_SNAPSHOTS", 2)
        tally, per_flag = counters.Tally(), counters.Tally()
        snapshots = [FLAGS, FLAGS[:4], tuple(reversed(FLAGS)), FLAGS[2:]]
        for n in range(60):
            flags, ctx = snapshots[n // 7 % 4], CONTEXTS[n % len(CONTEXTS)]
            answers = engine.evaluate_all(flags, ctx)
            tally.record_evaluation(flags, ctx, answers)
            per_flag.record(answers)
            assert tally.pending_requests() <= 3
            assert tally.pending_snapshots() <= 2
        assert tally.pending() == per_flag.pending()

    def test_an_entry_counted_very_often_does_not_spill_into_its_neighbours(self) -> None:
        answers = engine.evaluate_all(FLAGS, CONTEXTS[0])
        often = 2**40 + 3
        counts = counters.expand(
            {(id(FLAGS), CONTEXTS[0]): [often, bytes(answers.values())]}, {id(FLAGS): FLAGS}
        )
        assert counts == {(key, value): often for key, value in answers.items()}

    def test_threads_and_a_flusher_lose_no_whole_snapshot_count(self, monkeypatch) -> None:
        monkeypatch.setattr(counters, "MAX_PENDING_REQUESTS", 4)  # folds under the load too
        tally = counters.Tally()
        snapshots = [FLAGS, FLAGS[1:]]
        expected: list[Counter[tuple[str, bool]]] = []
        taken: Counter[tuple[str, bool]] = Counter()
        done = threading.Event()

        def hammer(offset: int) -> None:
            mine: Counter[tuple[str, bool]] = Counter()
            for n in range(1_500):
                flags, ctx = snapshots[n % 2], CONTEXTS[(n + offset) % len(CONTEXTS)]
                answers = engine.evaluate_all(flags, ctx)
                tally.record_evaluation(flags, ctx, answers)
                mine.update(answers.items())
            expected.append(mine)

        def flusher() -> None:
            while not done.is_set():
                taken.update(tally.take()[0])

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
        taking = threading.Thread(target=flusher)
        taking.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        taking.join()
        taken.update(tally.pending())
        assert taken == sum(expected, Counter())

    def test_take_empties_the_batch(self) -> None:
        tally = counters.Tally()
        tally.record({"saml_sso": True})
        batch, day, last_at = tally.take()
        assert batch == Counter({("saml_sso", True): 1})
        assert day == timezone.now().date()
        assert last_at > 0
        assert tally.pending() == {}


# -------------------------------------------------------------- flushing --


@pytest.mark.django_db
class TestFlush:
    def test_flush_writes_per_flag_per_day_and_adds_up(self) -> None:
        today = timezone.now().date()
        counters.write_batch({("saml_sso", True): 3, ("saml_sso", False): 1}, day=today, last_at=0)
        counters.write_batch({("saml_sso", True): 2, ("beta_ui", False): 4}, day=today, last_at=0)
        assert rows() == {"saml_sso": (5, 1), "beta_ui": (0, 4)}

    def test_another_day_is_another_row(self) -> None:
        today = timezone.now().date()
        counters.write_batch({("saml_sso", True): 1}, day=today - timedelta(days=1), last_at=0)
        counters.write_batch({("saml_sso", True): 1}, day=today, last_at=0)
        assert FlagEvaluationDay.objects.filter(key="saml_sso").count() == 2

    def test_last_evaluated_at_only_moves_forward(self) -> None:
        today = timezone.now().date()
        later = timezone.now().timestamp()
        counters.write_batch({("saml_sso", True): 1}, day=today, last_at=later)
        counters.write_batch({("saml_sso", True): 1}, day=today, last_at=later - 3600)
        row = FlagEvaluationDay.objects.get(key="saml_sso")
        assert abs(row.last_evaluated_at.timestamp() - later) < 0.01

    def test_many_flags_are_written_in_chunks(self) -> None:
        batch = {(f"flag_{i:03}", i % 2 == 0): i + 1 for i in range(250)}
        assert counters.write_batch(batch, day=timezone.now().date(), last_at=0) == 250
        assert FlagEvaluationDay.objects.count() == 250
        assert FlagEvaluationDay.objects.get(key="flag_249").off_count == 250

    def test_flush_moves_the_pending_counts_to_the_table(self) -> None:
        counters.record({"saml_sso": True})
        counters.record({"saml_sso": False})
        assert counters.flush() == 1
        assert rows() == {"saml_sso": (1, 1)}
        assert counters.pending() == {}
        assert counters.flush() == 0  # nothing new: no write

    def test_a_failed_write_keeps_the_counts_for_the_next_flush(self, monkeypatch) -> None:
        from django.db import OperationalError

        def down(*args, **kwargs):
            raise OperationalError("the database is away")

        counters.record({"saml_sso": True})
        monkeypatch.setattr(counters, "write_batch", down)
        assert counters.flush() == 0
        assert counters.pending() == {("saml_sso", True): 1}
        monkeypatch.undo()
        counters.flush()
        assert rows() == {"saml_sso": (1, 0)}

    def test_the_interval_decides_when_a_request_flushes(self, settings, monkeypatch) -> None:
        settings.FLAG_EVAL_FLUSH_SECONDS = 60
        clock = [1000.0]
        monkeypatch.setattr(counters, "_monotonic", lambda: clock[0])
        counters.reset_for_tests()
        counters.record({"saml_sso": True})
        clock[0] += 59
        counters.record({"saml_sso": True})
        assert not FlagEvaluationDay.objects.exists()
        clock[0] += 2
        counters.record({"saml_sso": False})  # flushes what came before, then counts
        assert rows() == {"saml_sso": (2, 0)}
        assert counters.pending() == {("saml_sso", False): 1}


@pytest.mark.django_db
def test_pruning_deletes_days_past_the_kept_ones(settings) -> None:
    settings.FLAG_STALE_DAYS = 30
    today = date(2026, 11, 28)
    for age in (0, 89, 90, 200):
        FlagEvaluationDay.objects.create(
            key="saml_sso", day=today - timedelta(days=age), last_evaluated_at=timezone.now()
        )
    assert counters.prune(today=today) == 2
    ages = sorted((today - d).days for d in FlagEvaluationDay.objects.values_list("day", flat=True))
    assert ages == [0, 89]


def test_a_long_stale_window_keeps_its_days(settings) -> None:
    settings.FLAG_STALE_DAYS = 120
    assert counters.days_kept() == 121


# ------------------------------------------------- the evaluate endpoints --


class TestEvaluatePath:
    def test_native_evaluate_counts_every_flag_of_the_snapshot(self, evaluate) -> None:
        services.flag_update(key="saml_sso", state="on", actor=None)
        assert evaluate(EVALUATE, {"tenantSlug": "northwind"}).status_code == 200
        pending = counters.pending()
        assert pending[("saml_sso", True)] == 1
        assert sum(pending.values()) == len(services_keys())

    def test_explain_counts_too(self, evaluate) -> None:
        evaluate(EVALUATE, {"tenantSlug": "northwind", "explain": True})
        assert sum(counters.pending().values()) == len(services_keys())

    def test_ofrep_counts_one_flag_and_the_bulk(self, evaluate) -> None:
        evaluate(OFREP_ONE.format("saml_sso"), {"context": {"targetingKey": "northwind"}})
        assert counters.pending() == {("saml_sso", False): 1}
        evaluate(OFREP_BULK, {"context": {"targetingKey": "northwind"}})
        assert counters.pending()[("saml_sso", False)] == 2

    def test_unknown_keys_and_refused_requests_count_nothing(self, evaluate) -> None:
        response = evaluate(
            OFREP_ONE.format("made_up_key"), {"context": {"targetingKey": "northwind"}}
        )
        assert response.status_code == 404
        assert evaluate(EVALUATE, {"tenantSlug": "nobody-here"}).status_code == 404
        assert evaluate(EVALUATE, {"tenantSlug": "northwind", "saml_ssx": True}).status_code == 200
        assert all(key in services_keys() for key, _ in counters.pending())
        assert ("made_up_key", False) not in counters.pending()

    @pytest.mark.parametrize(
        ("url", "body"),
        [
            (EVALUATE, {"tenantSlug": "northwind"}),
            (EVALUATE, {"tenantSlug": "northwind", "explain": True}),
            (OFREP_ONE.format("saml_sso"), {"context": {"targetingKey": "northwind"}}),
            (OFREP_BULK, {"context": {"targetingKey": "northwind"}}),
        ],
    )
    def test_counting_adds_no_query(self, evaluate, url, body, django_assert_num_queries) -> None:
        assert evaluate(url, body).status_code == 200  # warms the snapshot and the token
        with django_assert_num_queries(0):
            for _ in range(5):
                assert evaluate(url, body).status_code == 200
        assert sum(counters.pending().values()) >= 6

    def test_holding_memory_down_adds_no_query(
        self, evaluate, monkeypatch, django_assert_num_queries
    ) -> None:
        monkeypatch.setattr(counters, "MAX_PENDING_REQUESTS", 1)
        monkeypatch.setattr(counters, "MAX_PENDING_SNAPSHOTS", 1)
        bodies = [{"tenantSlug": "northwind", "environment": env} for env in ENVIRONMENTS]
        for body in bodies:
            assert evaluate(EVALUATE, body).status_code == 200  # warms what can be warmed
        with django_assert_num_queries(0):
            for body in bodies * 3:
                assert evaluate(EVALUATE, body).status_code == 200
        assert counters._tally.pending_requests() == 1  # the others were folded
        assert sum(counters.pending().values()) == 12 * len(services_keys())

    def test_the_request_after_the_interval_flushes(self, evaluate, monkeypatch) -> None:
        clock = [1000.0]
        monkeypatch.setattr(counters, "_monotonic", lambda: clock[0])
        counters.reset_for_tests()
        evaluate(OFREP_ONE.format("saml_sso"), {"context": {"targetingKey": "northwind"}})
        clock[0] += 61
        evaluate(OFREP_ONE.format("saml_sso"), {"context": {"targetingKey": "northwind"}})
        assert rows() == {"saml_sso": (0, 1)}


def services_keys() -> set[str]:
    from flags.models import Flag

    return set(Flag.objects.values_list("key", flat=True))


# ------------------------------------------- two flushers on PostgreSQL --


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="concurrent writers are a PostgreSQL matter"
)
def test_two_flushers_at_once_lose_no_count() -> None:
    today = timezone.now().date()
    start = threading.Barrier(2)
    errors: list[Exception] = []
    batch = {(f"flag_{i:02}", i % 3 == 0): 1 for i in range(40)}

    def flusher() -> None:
        try:
            start.wait()
            for _ in range(25):
                counters.write_batch(batch, day=today, last_at=0)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flusher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert FlagEvaluationDay.objects.count() == 40
    totals = {r.key: r.on_count + r.off_count for r in FlagEvaluationDay.objects.all()}
    assert set(totals.values()) == {50}


@pytest.mark.django_db
def test_the_exit_flush_writes_only_to_the_database_the_counts_came_from(monkeypatch) -> None:
    tally = counters.Tally()
    tally.record({"saml_sso": True})
    monkeypatch.setitem(connection.settings_dict, "NAME", "someone_elses_database")
    assert tally.flush_at_exit() == 0
    monkeypatch.undo()
    assert tally.flush_at_exit() == 1
    assert rows() == {"saml_sso": (1, 0)}
