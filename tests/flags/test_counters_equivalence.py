"""Counting whole-snapshot requests once and expanding them at flush time writes exactly
what counting every answer per flag would: the expected rows here are summed from the
answers the endpoints gave, nothing else."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from flags import counters, services
from flags.models import FlagEvaluationDay
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import PartnerFactory, TenantFactory

EVALUATE = "/api/flags/evaluate/"
OFREP_ONE = "/ofrep/v1/evaluate/flags/{}"
OFREP_BULK = "/ofrep/v1/evaluate/flags"
TENANTS = ("northwind", "bluefin", "larkspur")


@pytest.fixture(autouse=True)
def _fresh_tally():
    counters.reset_for_tests()
    yield
    counters.reset_for_tests()


@dataclass
class Expected:
    """What a per-flag count of every answer given would write."""

    counts: Counter[tuple[str, bool]] = field(default_factory=Counter)
    # Per key: the (before, after) wall clock of the newest request that counted it in
    # the last batch that held it; a batch writes its newest request's time to each row.
    last_at: dict[str, tuple[float, float]] = field(default_factory=dict)
    batch_keys: set[str] = field(default_factory=set)
    batch_newest: tuple[float, float] = (0.0, 0.0)

    def answered(self, answers: dict[str, bool], started: float) -> None:
        for key, value in answers.items():
            self.counts[(key, value)] += 1
        if answers:
            self.batch_keys |= set(answers)
            self.batch_newest = (started, time.time())

    def flushed(self) -> None:
        for key in self.batch_keys:
            self.last_at[key] = self.batch_newest
        self.batch_keys = set()

    def rows(self) -> dict[str, tuple[int, int]]:
        keys = {key for key, _ in self.counts}
        return {k: (self.counts[(k, True)], self.counts[(k, False)]) for k in keys}


@pytest.fixture
def api(client, db):
    TenantFactory(slug="northwind", plan="business")
    TenantFactory(slug="bluefin", plan="starter")
    TenantFactory(slug="larkspur", plan="enterprise", partner=PartnerFactory(slug="harbor"))
    services.flag_create(key="gradual_checkout", state="rollout", pct=50, actor=None)
    services.flag_create(
        key="partner_reports", state="targeted", scope_partner_slugs=["harbor"], actor=None
    )
    services.flag_create(
        key="business_only", state="targeted", scope_plans=["business"], actor=None
    )
    services.flag_create(
        key="prod_beta", state="rollout", pct=100, scope_environments=["prod"], actor=None
    )
    services.flag_update(key="saml_sso", state="on", actor=None)
    token = make_token("flags:evaluate")
    expected = Expected()

    def post(url: str, body: dict) -> int:
        started = time.time()
        response = client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code == 200:
            expected.answered(answers_in(url, body, response.json()), started)
        return response.status_code

    return post, expected


def answers_in(url: str, body: dict, data: dict) -> dict[str, bool]:
    """The on/off answers a response carried, whatever its shape."""
    if url == OFREP_BULK:
        return {flag["key"]: flag["value"] for flag in data["flags"]}
    if url.startswith(OFREP_BULK + "/"):
        return {data["key"]: data["value"]}
    if body.get("explain"):
        return {key: answer["value"] for key, answer in data.items()}
    return data


def a_round(post, environments: tuple[str, ...]) -> None:
    """Every kind of request, for every tenant and the given environments."""
    for slug in TENANTS:
        for env in environments:
            assert post(EVALUATE, {"tenantSlug": slug, "environment": env}) == 200
            assert post(OFREP_BULK, {"context": {"targetingKey": slug, "environment": env}}) == 200
        assert post(EVALUATE, {"tenantSlug": slug}) == 200  # the default environment
        assert post(EVALUATE, {"tenantSlug": slug}) == 200  # the same request again
        assert post(OFREP_BULK, {"context": {"targetingKey": slug}}) == 200
        context = {"context": {"targetingKey": slug}}
        assert post(OFREP_ONE.format("gradual_checkout"), context) == 200
        assert post(OFREP_ONE.format("no_such_flag"), context) == 404
    assert post(EVALUATE, {"tenantSlug": "northwind", "explain": True}) == 200
    assert post(EVALUATE, {"tenantSlug": "bluefin", "saml_ssx": True}) == 200  # ignored field
    assert post(EVALUATE, {"tenantSlug": "nobody-here"}) == 404
    assert post(OFREP_BULK, {"context": {"targetingKey": "nobody-here"}}) == 400


def stored() -> dict[str, FlagEvaluationDay]:
    return {row.key: row for row in FlagEvaluationDay.objects.all()}


def run_the_mix(post, expected: Expected) -> None:
    a_round(post, ("dev", "staging", "prod"))
    services.flag_update(key="gradual_checkout", pct=80, actor=None)  # a new snapshot
    a_round(post, ("prod",))
    counters.flush()
    expected.flushed()
    services.flag_create(key="late_flag", state="on", actor=None)
    a_round(post, ("dev", "prod"))
    services.flag_delete(key="partner_reports", actor=None)  # after it was counted
    a_round(post, ("staging",))
    services.flag_update(key="prod_beta", state="off", actor=None)  # before the flush
    counters.flush()
    expected.flushed()


class TestTheMixWritesWhatPerFlagCountingWould:
    def test_counts_per_flag_and_day(self, api) -> None:
        post, expected = api
        run_the_mix(post, expected)
        rows = stored()
        assert {k: (r.on_count, r.off_count) for k, r in rows.items()} == expected.rows()
        assert expected.counts[("partner_reports", True)] > 0  # the mix did reach it
        # Answers that differ by tenant and environment are among them.
        assert expected.counts[("business_only", True)] > 0
        assert expected.counts[("business_only", False)] > 0
        assert expected.counts[("prod_beta", True)] > 0
        assert expected.counts[("prod_beta", False)] > 0
        assert {r.day for r in rows.values()} == {timezone.now().date()}

    def test_last_evaluated_at_is_the_batch_s_newest_request(self, api) -> None:
        post, expected = api
        run_the_mix(post, expected)
        for key, row in stored().items():
            before, after = expected.last_at[key]
            assert before - 0.001 <= row.last_evaluated_at.timestamp() <= after + 0.001, key

    def test_the_same_with_tiny_memory_bounds(self, api, monkeypatch) -> None:
        # Folding into per-flag counts on every new entry and snapshot changes nothing.
        monkeypatch.setattr(counters, "MAX_PENDING_REQUESTS", 2)
        monkeypatch.setattr(counters, "MAX_PENDING_SNAPSHOTS", 1)
        post, expected = api
        run_the_mix(post, expected)
        assert {k: (r.on_count, r.off_count) for k, r in stored().items()} == expected.rows()

    def test_a_worker_flushing_the_same_rows_adds_to_them(self, api) -> None:
        post, expected = api
        run_the_mix(post, expected)
        first = expected.rows()
        a_round(post, ("prod",))  # more answers, on top of the stored rows
        counters.flush()
        rows = {k: (r.on_count, r.off_count) for k, r in stored().items()}
        assert rows == expected.rows()
        assert rows["saml_sso"][0] > first["saml_sso"][0]
