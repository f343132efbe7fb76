"""flags.explain: every reason in words with the rule that decided it, the zero-reach
words, and `POST /api/flags/evaluate/` with `explain` (the answer without it is
unchanged)."""

from __future__ import annotations

import json

import pytest

from core import versions
from flags import engine, explain
from flags.engine import FlagSnapshot, Scope, TenantContext
from flags.models import Flag
from flags.reach import AxisMatch
from tests.flags.vectors import CASES
from tests.operators.factories_tokens import make_token
from tests.tenants.factories import PartnerFactory, TenantFactory

EVALUATE = "/api/flags/evaluate/"
ACME = TenantContext("64b7f0c2a1e4d5f6a7b8c9d0", "acme", "business", None, "prod")


def flag(state: str, pct: int = 0, key: str = "sample_flag", **scope: list[str]) -> FlagSnapshot:
    return FlagSnapshot(key, state, pct, Scope.from_lists(scope))


class TestWords:
    def test_off_and_on(self) -> None:
        off = explain.explain(flag("off", plans=["business"]), ACME)
        assert (off.value, off.reason) == (False, engine.DISABLED)
        assert off.text == "Off for every tenant: the flag's state is off."
        on = explain.explain(flag("on", plans=["starter"]), ACME)
        assert (on.value, on.reason) == (True, engine.STATIC)
        assert "ignores the scope" in on.text

    def test_a_targeting_match_names_what_matched(self) -> None:
        e = explain.explain(flag("targeted", plans=["business"], environments=["prod"]), ACME)
        assert (e.value, e.reason, e.failed_axes) == (True, engine.TARGETING_MATCH, ())
        assert "plan business is listed" in e.text and "environment prod is listed" in e.text

    def test_a_failed_axis_is_named_with_the_and_rule(self) -> None:
        e = explain.explain(flag("targeted", plans=["business"], partner_slugs=["nordic-it"]), ACME)
        assert (e.value, e.reason) == (False, engine.DEFAULT)
        assert e.failed_axes == ("partner_slugs",)
        assert "it has no partner, and the partner list allows only nordic-it" in e.text
        assert explain.AND_NOTE in e.text

    def test_the_wrong_environment_is_named(self) -> None:
        e = explain.explain(flag("targeted", environments=["staging"]), ACME)
        assert e.failed_axes == ("environments",)
        assert "its environment prod is not in the environment list (staging)" in e.text

    def test_targeted_without_scope_says_how_to_fix_it(self) -> None:
        e = explain.explain(flag("targeted"), ACME)
        assert "has no scope list, so it reaches nobody" in e.text

    def test_rollout_in_and_out_of_the_bucket(self) -> None:
        bucket = engine.bucket(ACME.tenant_id, "sample_flag")
        inside = explain.explain(flag("rollout", bucket + 1), ACME)
        assert (inside.value, inside.reason, inside.bucket) == (True, engine.SPLIT, bucket)
        assert (
            f"bucket for this flag is {bucket}, below the rollout's {bucket + 1} %" in inside.text
        )
        outside = explain.explain(flag("rollout", bucket), ACME)
        assert (outside.value, outside.reason) == (False, engine.DEFAULT)
        assert f"turns on once the rollout reaches {bucket + 1} %" in outside.text
        zero = explain.explain(flag("rollout", 0), ACME)
        assert "0 %" in zero.text

    @pytest.mark.parametrize("case", CASES[:12], ids=lambda c: c["context"]["tenant_slug"])
    def test_every_reason_has_words_and_agrees_with_evaluation(self, case) -> None:
        from tests.flags.vectors import FLAGS, context

        ctx = context(case)
        for f in FLAGS:
            e = explain.explain(f, ctx)
            assert e.value == case["expected"][f.key]
            assert e.text and e.text.startswith("On" if e.value else "Off")

    def test_zero_reach_words(self) -> None:
        none_match = [AxisMatch("tenant_slugs", ("gone-co",), 0)]
        assert "no live tenant matches the tenant list (gone-co)" in explain.zero_reach_words(
            "prod", none_match, "targeted"
        )
        both = [AxisMatch("plans", ("enterprise",), 4), AxisMatch("partner_slugs", ("x",), 1)]
        words = explain.zero_reach_words("prod", both, "targeted")
        assert "the plan list (4 tenants) AND the partner list (1 tenant)" in words
        assert explain.AND_NOTE in words


@pytest.mark.django_db
class TestApi:
    def world(self) -> None:
        Flag.objects.all().delete()  # the seeded flags: this test names its own
        Flag.objects.create(key="saml_sso", state="targeted", scope_plans=["business"])
        Flag.objects.create(key="ramp", state="rollout", pct=40)
        Flag.objects.create(key="branding", state="targeted", scope_partner_slugs=["nordic-it"])
        TenantFactory(slug="acme", plan="business", stable_id=ACME.tenant_id)
        TenantFactory(slug="tyrell", plan="business", partner=PartnerFactory(slug="nordic-it"))
        versions.bump("flags")
        versions.bump("tenants")

    def post(self, client, body):
        token = make_token("flags:evaluate")
        return client.post(EVALUATE, body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    def test_explain_adds_the_reason_and_its_detail(self, client) -> None:
        self.world()
        body = self.post(client, {"tenantSlug": "acme", "environment": "prod", "explain": True})
        assert body.status_code == 200
        answer = body.json()
        assert set(answer) == {"saml_sso", "ramp", "branding"}
        assert answer["saml_sso"]["value"] is True
        assert answer["saml_sso"]["reason"] == "TARGETING_MATCH"
        branding = answer["branding"]
        assert (branding["value"], branding["reason"]) == (False, "DEFAULT")
        detail = branding["detail"]
        assert detail["failed_axes"] == ["partner_slugs"]
        assert detail["axes"]["partner_slugs"] == {
            "allowed": ["nordic-it"], "value": None, "matches": False,
        }  # fmt: skip
        assert detail["environment"] == "prod" and detail["state"] == "targeted"
        assert "partner" in detail["text"]
        ramp = answer["ramp"]["detail"]
        assert ramp["bucket"] == engine.bucket(ACME.tenant_id, "ramp") and ramp["pct"] == 40
        assert answer["ramp"]["value"] == (ramp["bucket"] < 40)

    def test_without_explain_the_answer_is_the_plain_map(self, client) -> None:
        self.world()
        response = self.post(client, {"tenantSlug": "acme", "environment": "prod"})
        ramp = engine.bucket(ACME.tenant_id, "ramp") < 40
        expected = {"branding": False, "ramp": ramp, "saml_sso": True}
        assert response.json() == expected
        # Byte for byte: the same JSON as before explain grew a detail.
        assert response.content == json.dumps(expected, separators=(",", ":")).encode()


def test_each_axis_check_reads_as_words() -> None:
    e = explain.explain(flag("targeted", plans=["business"], partner_slugs=["nordic-it"]), ACME)
    assert [a.words for a in e.axes] == [
        "plan business is in the plan list (business)",
        "no partner, so not in the partner list (nordic-it)",
    ]
