"""Identifiers: card numbers with a Luhn check digit, unguessable tokens."""

from __future__ import annotations

import secrets


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number(prefix: str = "8", length: int = 12) -> str:
    """A random card number: prefix + random digits + Luhn check digit (random, so numbers cannot be enumerated)."""
    body_len = length - len(prefix) - 1
    body = "".join(secrets.choice("0123456789") for _ in range(body_len))
    base = prefix + body
    return base + luhn_check_digit(base)
