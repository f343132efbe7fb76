from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from operators.passwords import DIGITS, LOWER, SYMBOLS, UPPER, temporary_password


@settings(max_examples=2000)
@given(st.integers())
def test_every_temporary_password_keeps_every_rule(_draw: int) -> None:
    password = temporary_password()
    assert len(password) == 16
    assert any(c in UPPER for c in password)
    assert any(c in LOWER for c in password)
    assert any(c in DIGITS for c in password)
    assert any(c in SYMBOLS for c in password)
    assert not set(password) & set("IO01l")


def test_passwords_are_not_repeated_and_the_classes_are_not_in_fixed_places() -> None:
    draws = [temporary_password() for _ in range(2000)]
    assert len(set(draws)) == len(draws)
    # Shuffled: the first character is not always an upper-case letter, etc.
    assert len({next(i for i, c in enumerate(p) if c in SYMBOLS) for p in draws}) > 8
