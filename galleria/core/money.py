"""Money is integer fen. This module owns every rounding and every split of an amount.

Rounding mode: ROUND_HALF_UP on fen when a ratio produces a fraction (e.g. percentages), and floor where the
caller asks for it (points). Splits use the largest-remainder method so the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

FEN_PER_YUAN = 100
MAX_AMOUNT_FEN = 10**13  # ¥100 billion: bounds every amount the API accepts


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse a yuan amount ("12.30", 12, Decimal) exactly; more than two decimals is an error, not a rounding."""
    try:
        dec = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValidationError(_("Not an amount: %(value)s") % {"value": value}, code="money.invalid") from exc
    if not dec.is_finite():
        raise ValidationError(_("Not an amount: %(value)s") % {"value": value}, code="money.invalid")
    fen = dec * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValidationError(_("Amounts have at most two decimals."), code="money.precision")
    result = int(fen)
    if abs(result) > MAX_AMOUNT_FEN:
        raise ValidationError(_("Amount out of range."), code="money.out_of_range")
    return result


def fen_to_yuan_str(amount_fen: int) -> str:
    """12345 → "123.45"; -5 → "-0.05"."""
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"


def format_cny(amount_fen: int) -> str:
    """12345678 → "¥123,456.78"."""
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{part:02d}"


def ratio_round(amount: int, numerator: int, denominator: int, *, mode: str = ROUND_HALF_UP) -> int:
    """amount × numerator / denominator rounded with `mode` (ROUND_HALF_UP or ROUND_FLOOR), exactly."""
    if denominator == 0:
        raise ZeroDivisionError("denominator is zero")
    value = Decimal(amount) * Decimal(numerator) / Decimal(denominator)
    return int(value.to_integral_value(rounding=mode))


def floor_div(amount: int, numerator: int, denominator: int) -> int:
    return ratio_round(amount, numerator, denominator, mode=ROUND_FLOOR)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` in proportion (largest remainder). The parts always sum to `total`.

    Ties on the remainder go to the earlier weight, so the result is deterministic. All-zero weights → equal split.
    """
    if not weights:
        if total:
            raise ValueError("cannot allocate a non-zero total over no weights")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    quotients = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    left = magnitude - sum(quotients)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        quotients[i] += 1
    return [sign * q for q in quotients]
