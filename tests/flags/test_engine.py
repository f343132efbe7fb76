from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flags import engine
from flags.engine import FlagSnapshot, Scope, TenantContext
from tests.flags.vectors import BUCKETS, CASES, FLAGS, context


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: "{tenant_slug}-{environment}".format(**c["context"])
)
def test_every_shared_vector(case) -> None:
    assert engine.evaluate_all(FLAGS, context(case)) == case["expected"]


@pytest.mark.parametrize("case", CASES[:6], ids=lambda c: c["context"]["tenant_slug"])
def test_explain_agrees_with_evaluate(case) -> None:
    ctx = context(case)
    explained = engine.explain_all(FLAGS, ctx)
    assert {k: r.value for k, r in explained.items()} == case["expected"]


@pytest.mark.parametrize("row", BUCKETS, ids=lambda r: f"{r['tenant_id']}:{r['key']}")
def test_bucket_values_are_pinned(row) -> None:
    assert engine.bucket(row["tenant_id"], row["key"]) == row["bucket"]


def test_bucket_reads_the_whole_digest() -> None:
    # Pinned independently of the vectors: sha256("1:jmap_native_v2") as one integer, mod 100.
    import hashlib

    digest = hashlib.sha256(b"1:jmap_native_v2").hexdigest()
    assert engine.bucket("1", "jmap_native_v2") == int(digest, 16) % 100 == 24


CTX = TenantContext("42", "acme", "business", "nordic-it", "prod")


@pytest.mark.parametrize(
    ("flag", "reason", "value"),
    [
        (FlagSnapshot("f_off", "off", 100), engine.DISABLED, False),
        (FlagSnapshot("f_on", "on", 0, Scope(plans=frozenset({"starter"}))), engine.STATIC, True),
        (FlagSnapshot("f_tgt", "targeted"), engine.DEFAULT, False),
        (FlagSnapshot("f_tgt", "targeted", 0, Scope(plans=frozenset({"business"}))),
         engine.TARGETING_MATCH, True),
        (FlagSnapshot("f_tgt", "targeted", 0, Scope(partner_slugs=frozenset({"other"}))),
         engine.DEFAULT, False),
        (FlagSnapshot("f_all", "rollout", 100), engine.SPLIT, True),
        (FlagSnapshot("f_none", "rollout", 0), engine.DEFAULT, False),
        (FlagSnapshot("f_env", "rollout", 100, Scope(environments=frozenset({"dev"}))),
         engine.DEFAULT, False),
    ],
)  # fmt: skip
def test_each_rule_gives_its_reason(flag, reason, value) -> None:
    assert engine.evaluate(flag, CTX) == engine.Result(flag.key, value, reason)


def test_a_null_partner_matches_no_partner_allowlist() -> None:
    scope = Scope(partner_slugs=frozenset({"nordic-it"}))
    ctx = TenantContext("1", "acme", "starter", None, "prod")
    assert not engine.matches_scope(scope, ctx)
    assert engine.evaluate(FlagSnapshot("f", "targeted", 0, scope), ctx).value is False


def test_a_snapshot_refuses_what_the_contract_does_not_allow() -> None:
    with pytest.raises(ValueError):
        FlagSnapshot("f", "maybe")
    with pytest.raises(ValueError):
        FlagSnapshot("f", "rollout", 101)


tenant_ids = st.integers(min_value=1, max_value=10**12).map(str)
keys = st.from_regex(r"[a-z][a-z0-9_]{1,20}", fullmatch=True)
pcts = st.integers(min_value=0, max_value=100)


NO_SCOPE = Scope()


def _rollout(key: str, pct: int, scope: Scope = NO_SCOPE) -> FlagSnapshot:
    return FlagSnapshot(key, "rollout", pct, scope)


def _ctx(tenant_id: str) -> TenantContext:
    return TenantContext(tenant_id, f"t{tenant_id}", "starter", None, "prod")


@settings(max_examples=300)
@given(tenant_ids, keys, pcts)
def test_deterministic(tenant_id, key, pct) -> None:
    flag = _rollout(key, pct)
    assert engine.evaluate(flag, _ctx(tenant_id)) == engine.evaluate(flag, _ctx(tenant_id))


@settings(max_examples=300)
@given(tenant_ids, keys, pcts, pcts)
def test_raising_pct_never_turns_anyone_off(tenant_id, key, p, q) -> None:
    low, high = sorted((p, q))
    ctx = _ctx(tenant_id)
    on_low = engine.evaluate(_rollout(key, low), ctx).value
    on_high = engine.evaluate(_rollout(key, high), ctx).value
    assert on_high or not on_low
    # and the ones it turns on are exactly those whose bucket lies in [low, high)
    assert (on_high and not on_low) == (low <= engine.bucket(tenant_id, key) < high)


@settings(max_examples=200)
@given(tenant_ids, keys)
def test_pct_0_is_nobody_and_100_is_everyone_in_scope(tenant_id, key) -> None:
    ctx = _ctx(tenant_id)
    assert engine.evaluate(_rollout(key, 0), ctx).value is False
    assert engine.evaluate(_rollout(key, 100), ctx).value is True
    out_of_scope = Scope(plans=frozenset({"enterprise"}))
    assert engine.evaluate(_rollout(key, 100, out_of_scope), ctx).value is False


@pytest.mark.parametrize("pct", [1, 10, 25, 50, 75, 99])
def test_the_spread_over_10000_tenants_is_within_2_points_of_pct(pct) -> None:
    flag = _rollout("ocis_spaces_quota", pct)
    on = sum(engine.evaluate(flag, _ctx(str(n))).value for n in range(1, 10_001))
    assert abs(on / 100 - pct) <= 2, on


def test_buckets_for_different_keys_are_independent() -> None:
    same = sum(
        engine.bucket(str(n), "flag_a") == engine.bucket(str(n), "flag_b") for n in range(10_000)
    )
    assert same < 200  # about 1 in 100 by chance; a shared bucket would be all 10,000
