"""The action registry: every action the code records is named there, and every
event, old or new, reads as a sentence."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from audit import actions

ROOT = Path(__file__).resolve().parents[2]
APPS = ("audit", "core", "flags", "monitor", "notifications", "operators", "tenants", "demo")
# `action="tenant.suspended"` and the transition table's `"tenant.suspended",` entries.
LITERAL = re.compile(r"""["']([a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*)["']""")


def _event(
    action: str, metadata: object = None, actor: str = "ops@example.test"
) -> SimpleNamespace:
    return SimpleNamespace(
        action=action,
        actor_email=actor,
        target_repr="Sample Tenant (sample)",
        metadata=metadata or {},
    )


def _recorded_codes() -> set[str]:
    codes = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            for call in re.finditer(r"record\((.*?)\)\n", text, re.S):
                codes.update(code for code in LITERAL.findall(call.group(1)) if "." in code)
    return codes


def test_every_action_the_code_records_is_registered() -> None:
    recorded = {code for code in _recorded_codes() if code.split(".")[0] in _prefixes()}
    assert recorded, "the scan found no record() calls: it is broken"
    assert recorded <= set(actions.ACTIONS), recorded - set(actions.ACTIONS)


def _prefixes() -> set[str]:
    return {code.split(".")[0] for code in actions.ACTIONS}


def test_the_transition_table_names_registered_actions() -> None:
    from tenants.services import _TRANSITIONS

    for _from, _to, code, _rule in _TRANSITIONS.values():
        assert actions.is_known(code)


@pytest.mark.parametrize("code", sorted(actions.ACTIONS))
def test_every_action_reads_as_a_sentence(code: str) -> None:
    sentence = actions.describe(_event(code))
    assert code not in sentence
    assert sentence[0].isupper() or sentence.startswith("ops@")
    # Odd metadata an old row might hold never breaks rendering.
    for metadata in (
        {"changes": "x", "outcomes": [1], "attempts": None, "window_seconds": "x"},
        [],
        None,
    ):
        assert actions.describe(_event(code, metadata))


def test_sentences_carry_the_detail_an_operator_acts_on() -> None:
    suspended = _event("tenant.suspended", {"previous_status": "active"})
    assert actions.describe(suspended) == (
        "ops@example.test suspended tenant Sample Tenant (sample) (was active)"
    )
    edited = _event("tenant.updated", {"changes": {"plan": {}, "display_name": {}}})
    assert actions.describe(edited).endswith("(changed display name, plan)")
    reconciled = _event(
        "tenant.reconciled",
        {"outcomes": {"stalwart": {"state": "error"}, "ocis": {"state": "ready"}}},
        actor="",
    )
    assert actions.describe(reconciled) == (
        "The system reconciled tenant Sample Tenant (sample) (failed for stalwart)"
    )
    throttled = _event("user.login_throttled", {"attempts": 100, "window_seconds": 900}, actor="")
    assert "100 attempts refused so far in this 15-minute window" in actions.describe(throttled)


def test_an_action_removed_from_the_registry_still_renders() -> None:
    assert actions.describe(_event("tenant.teleported")) == (
        "ops@example.test did tenant.teleported on Sample Tenant (sample)"
    )
    assert actions.tone("tenant.teleported") == "neutral"


def test_kinds_group_every_action_once() -> None:
    grouped = [a.code for _kind, members in actions.kinds() for a in members]
    assert sorted(grouped) == sorted(actions.ACTIONS)
    assert actions.codes_of_kind("Tenants")[0] == "tenant.created"


def test_require_known_names_the_unknown() -> None:
    actions.require_known(["tenant.created"])
    with pytest.raises(ValueError, match=r"tenant\.teleported"):
        actions.require_known(["tenant.created", "tenant.teleported"])
