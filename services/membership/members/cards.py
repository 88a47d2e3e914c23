"""Card numbers: 16 digits, "8" + 14 random digits + a Luhn check digit (ISO/IEC 7812), so a
cashier's single mistyped digit or swapped neighbours are caught before any lookup."""

from __future__ import annotations

import secrets


def luhn_digit(digits: str) -> str:
    """The check digit to append to `digits`."""
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
    return len(number) >= 2 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def new_card_no() -> str:
    body = "8" + f"{secrets.randbelow(10**14):014d}"
    return body + luhn_digit(body)
