"""flags.reach against the engine: every count is what `engine.evaluate` says tenant by
tenant, for each scope axis, their AND, environments and a flag that reaches nobody."""

from __future__ import annotations

import random

import pytest

from flags import engine, reach
from flags.engine import FlagSnapshot, Scope, TenantContext
from tests.flags.vectors import CASES, FLAGS

ENVS = ("prod", "staging", "dev")
PLANS = ("starter", "business", "enterprise")
PARTNERS = (None, "nordic-it", "alpine-resellers")


def tenants(n: int = 300, seed: int = 7) -> list[TenantContext]:
    rng = random.Random(seed)
    return [
        TenantContext(
            f"{rng.getrandbits(96):024x}",
            f"sample-{i}",
            rng.choice(PLANS),
            rng.choice(PARTNERS),
            "dev",
        )
        for i in range(n)
    ]


def by_hand(flag: FlagSnapshot, people: list[TenantContext], env: str) -> int:
    """The plain loop the reach module must always agree with."""
    return sum(engine.evaluate(flag, ctx.in_environment(env)).value for ctx in people)


def flag(state: str, pct: int = 0, **scope: list[str]) -> FlagSnapshot:
    return FlagSnapshot("sample_flag", state, pct, Scope.from_lists(scope))


PEOPLE = tenants()

CASES_BY_AXIS = {
    "off": flag("off", 50, plans=["business"]),
    "on": flag("on", 0, plans=["business"]),  # on ignores the scope
    "targeted_no_scope": flag("targeted"),
    "targeted_plan": flag("targeted", plans=["business"]),
    "targeted_tenants": flag("targeted", tenant_slugs=["sample-1", "sample-2", "gone-co"]),
    "targeted_partner": flag("targeted", partner_slugs=["nordic-it"]),
    "targeted_env": flag("targeted", environments=["prod"]),
    "targeted_and": flag("targeted", plans=["enterprise"], partner_slugs=["alpine-resellers"]),
    "rollout_0": flag("rollout", 0),
    "rollout_100": flag("rollout", 100, plans=["starter"]),
    "rollout_37": flag("rollout", 37),
    "rollout_scoped": flag("rollout", 60, plans=["business"], environments=["staging", "prod"]),
}


@pytest.mark.parametrize("name", list(CASES_BY_AXIS))
def test_every_count_is_the_engines_answer_tenant_by_tenant(name: str) -> None:
    f = CASES_BY_AXIS[name]
    counts = reach.flag_reach(f, PEOPLE, ENVS)
    assert list(counts) == list(ENVS)
    assert counts == {env: by_hand(f, PEOPLE, env) for env in ENVS}


def test_the_known_answers() -> None:
    counts = {name: reach.flag_reach(f, PEOPLE, ENVS) for name, f in CASES_BY_AXIS.items()}
    n = len(PEOPLE)
    assert counts["off"] == dict.fromkeys(ENVS, 0)
    assert counts["on"] == dict.fromkeys(ENVS, n)
    assert counts["targeted_no_scope"] == dict.fromkeys(ENVS, 0)
    assert counts["targeted_tenants"] == dict.fromkeys(ENVS, 2)
    assert counts["targeted_env"] == {"prod": n, "staging": 0, "dev": 0}
    business = sum(c.plan == "business" for c in PEOPLE)
    assert counts["targeted_plan"] == dict.fromkeys(ENVS, business)
    assert counts["rollout_scoped"]["dev"] == 0
    assert 0 < counts["rollout_scoped"]["prod"] < business
    # A bucket split is roughly its share (sha256 is uniform), and never more than all.
    assert 0.25 * n < counts["rollout_37"]["prod"] < 0.5 * n


def test_random_flags_agree_with_the_engine() -> None:
    rng = random.Random(11)
    for i in range(60):
        scope = {
            "plans": rng.sample(PLANS, rng.randint(0, 2)),
            "partner_slugs": rng.sample(["nordic-it", "alpine-resellers"], rng.randint(0, 1)),
            "tenant_slugs": [f"sample-{rng.randrange(300)}" for _ in range(rng.randint(0, 3))],
            "environments": rng.sample(ENVS, rng.randint(0, 2)),
        }
        f = FlagSnapshot(f"random_{i}", rng.choice(engine.STATES), rng.randint(0, 100),
                         Scope.from_lists(scope))  # fmt: skip
        assert reach.flag_reach(f, PEOPLE, ENVS) == {env: by_hand(f, PEOPLE, env) for env in ENVS}


def test_the_shared_vectors_reach_what_they_evaluate_to() -> None:
    seen: dict[str, TenantContext] = {}
    for case in CASES:
        c = case["context"]
        seen[c["tenant_slug"]] = TenantContext(
            c["tenant_id"], c["tenant_slug"], c["plan"], c["partner_slug"], "dev"
        )
    people = list(seen.values())
    counts = reach.reach(FLAGS, people, ENVS)
    for case in CASES:
        c = case["context"]
        for key, value in case["expected"].items():
            if value:
                assert counts[key][c["environment"]] >= 1, (key, c)


def test_an_and_that_no_tenant_satisfies_reaches_nobody_and_says_which_lists() -> None:
    people = [
        TenantContext("a1", "north", "enterprise", None, "prod"),
        TenantContext("a2", "south", "starter", "alpine-resellers", "prod"),
    ]
    f = flag("targeted", plans=["enterprise"], partner_slugs=["alpine-resellers"])
    counts = reach.flag_reach(f, people, ENVS)
    assert counts == dict.fromkeys(ENVS, 0)
    assert reach.unreached(f, counts, ENVS, total=2) == list(ENVS)
    matches = reach.axis_matches(f, people, "prod")
    assert [(m.axis, m.matching) for m in matches] == [("plans", 1), ("partner_slugs", 1)]


def test_who_should_reach_and_where() -> None:
    assert reach.meant_for(flag("targeted", environments=["prod"]), ENVS) == ["prod"]
    assert reach.meant_for(flag("targeted"), ENVS) == list(ENVS)
    assert not reach.should_reach(flag("off"))
    assert not reach.should_reach(flag("rollout", 0))  # prepared, deliberately nobody
    assert reach.should_reach(flag("rollout", 1))
    assert reach.should_reach(flag("on"))
    # Nobody to miss: no warning on a platform without tenants.
    assert reach.unreached(flag("on"), dict.fromkeys(ENVS, 0), ENVS, total=0) == []
    # Only the environments it is meant for.
    prod_only = flag("targeted", plans=["business"], environments=["prod"])
    assert reach.unreached(prod_only, {"prod": 3, "staging": 0, "dev": 0}, ENVS, 5) == []
    assert reach.unreached(prod_only, {"prod": 0, "staging": 0, "dev": 0}, ENVS, 5) == ["prod"]


def test_flips_count_each_tenant_that_turns_on_or_off() -> None:
    saved = flag("rollout", 30)
    proposed = flag("rollout", 30, plans=["business"], environments=["prod"])
    result = {f.environment: f for f in reach.flips(saved, proposed, PEOPLE, ENVS)}
    for env in ENVS:
        before = [engine.evaluate(saved, c.in_environment(env)).value for c in PEOPLE]
        after = [engine.evaluate(proposed, c.in_environment(env)).value for c in PEOPLE]
        assert result[env].turned_on == sum(a and not b for a, b in zip(after, before, strict=True))
        assert result[env].turned_off == sum(
            b and not a for a, b in zip(after, before, strict=True)
        )
    assert result["dev"].turned_off > 0 and result["dev"].turned_on == 0
    # Raising a rollout only turns tenants on (the spec's monotonicity).
    up = {
        f.environment: f
        for f in reach.flips(flag("rollout", 20), flag("rollout", 60), PEOPLE, ENVS)
    }
    assert up["prod"].turned_on > 0 and up["prod"].turned_off == 0
    same = reach.flips(saved, saved, PEOPLE, ENVS)
    assert not any(f.any for f in same)


@pytest.mark.parametrize("name", list(CASES_BY_AXIS))
def test_adjusting_for_changed_tenants_equals_a_recount(name: str) -> None:
    f = CASES_BY_AXIS[name]
    before = PEOPLE[:250]
    renamed = [TenantContext(c.tenant_id, c.tenant_slug, "business", "nordic-it", c.environment)
               for c in PEOPLE[:20]]  # fmt: skip
    after = renamed + PEOPLE[20:200] + PEOPLE[250:]
    counts = reach.flag_reach(f, before, ENVS)
    adjusted = reach.adjust(
        counts, f, removed=PEOPLE[:20] + PEOPLE[200:250], added=renamed + PEOPLE[250:]
    )
    assert adjusted == reach.flag_reach(f, after, ENVS)
