"""Temporary passwords for a first sign-in, when no recovery link can be sent."""

from __future__ import annotations

import secrets
import string

# None of the confusables I O 0 1 l: the password is read off a screen and typed.
UPPER = "".join(c for c in string.ascii_uppercase if c not in "IO")
LOWER = "".join(c for c in string.ascii_lowercase if c != "l")
DIGITS = "23456789"
SYMBOLS = "!#$%&*+-=?@^_"
ALPHABET = UPPER + LOWER + DIGITS + SYMBOLS
LENGTH = 16

_random = secrets.SystemRandom()


def temporary_password() -> str:
    """16 characters with at least one upper, lower, digit and symbol, shuffled."""
    chars = [secrets.choice(cls) for cls in (UPPER, LOWER, DIGITS, SYMBOLS)]
    chars += [secrets.choice(ALPHABET) for _ in range(LENGTH - len(chars))]
    _random.shuffle(chars)
    return "".join(chars)
