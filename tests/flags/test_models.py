from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from flags.models import Flag

pytestmark = pytest.mark.django_db


def _errors(flag: Flag) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        flag.full_clean()
    return exc.value.message_dict


def test_a_valid_flag_passes_validation() -> None:
    Flag(
        key="sample_saml",
        state="targeted",
        scope_plans=["business"],
        scope_tenant_slugs=["acme"],
        scope_partner_slugs=["nordic-it"],
        scope_environments=["prod"],
    ).full_clean()


@pytest.mark.parametrize("key", ["Saml", "1saml", "s", "saml-sso", "a" * 64, "saml sso"])
def test_flag_key_follows_the_contract(key: str) -> None:
    assert "key" in _errors(Flag(key=key))


@pytest.mark.parametrize("pct", [-1, 101])
def test_pct_is_0_to_100(pct: int) -> None:
    assert "pct" in _errors(Flag(key="rollout_x", pct=pct))


def test_state_must_be_known() -> None:
    assert "state" in _errors(Flag(key="rollout_x", state="maybe"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scope_plans", ["platinum"]),
        ("scope_environments", ["qa"]),
        ("scope_tenant_slugs", ["Not A Slug"]),
        ("scope_partner_slugs", "nordic-it"),
        ("scope_plans", ["business", "business"]),
    ],
)
def test_scope_allowlists_take_only_known_values(field: str, value: object) -> None:
    assert field in _errors(Flag(key="rollout_x", **{field: value}))
