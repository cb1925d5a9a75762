"""Price: the pure arithmetic of a checkout — no database, no clock. The quote and the sale both call `price`.

Input: the basket lines and their total, the coupons-and-promotions evaluation (galleria/coupons/rules.py: the
sale's redeem step and the quote's coupon_quote both run rules.best_combination; `discounts_of` reads either),
the points to use with the member's balance and the group's redeem rules, the payments (None: a quote without
them), the earn configuration (None: nobody to credit) and the points already earned toward the daily cap.

Output (`Priced`): discount, points value (an over-limit request is an error, never capped), amount due and
money paid, the money and the points split over the lines in proportion to what each line costs after its
discount (largest remainder, so the parts add up), and the points earned with their per-line split and their
explanation. Raises the input's ValidationError (points limits, payments that do not add up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from galleria.coupons.types import BasketLine, LineDiscount
from galleria.points import rules as points_rules
from galleria.points.types import EarnConfig, EarnLine, RedeemConfig

from .. import rules
from ..types import LineIn, PaymentIn
from .types import Discounts, Priced


class _Evaluated(Protocol):
    @property
    def total_discount_fen(self) -> int: ...

    @property
    def line_discounts(self) -> tuple[LineDiscount, ...]: ...


def basket_lines(lines: Sequence[LineIn]) -> list[BasketLine]:
    """The sale's lines as the coupons app reads them (line numbers from 1)."""
    return [
        BasketLine(
            line_no=i + 1,
            sku=ln.sku,
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            amount_fen=ln.amount_fen,
            category=ln.category,
        )
        for i, ln in enumerate(lines)
    ]


def discounts_of(evaluation: _Evaluated) -> Discounts:
    """A coupons evaluation (rules.Evaluation, or SaleDiscounts from the sale's redeem step) as pricing reads it."""
    return Discounts(
        total_fen=evaluation.total_discount_fen,
        line_fen=tuple(d.discount_fen for d in evaluation.line_discounts),
    )


def price(
    *,
    lines: Sequence[LineIn],
    total_fen: int,
    discounts: Discounts,
    points_to_use: int,
    balance: int,
    redeem: RedeemConfig,
    payments: Sequence[PaymentIn] | None,
    earn: EarnConfig | None,
    earned_today: int,
) -> Priced:
    """Price a basket whose lines `rules.validate_lines` accepted (`total_fen` is their sum)."""
    due = total_fen - discounts.total_fen
    points_value = 0
    if points_to_use:
        points_value = points_rules.check_redemption(
            points=points_to_use, sale_total_fen=due, balance=balance, config=redeem
        )
    if payments is not None:
        rules.validate_payments(
            payments, total_fen=total_fen, points_value_fen=points_value, discount_fen=discounts.total_fen
        )
    paid = due - points_value
    line_discount = list(discounts.line_fen)
    line_paid = rules.split_over_lines(paid, lines, line_discount)
    line_spent = rules.split_over_lines(points_to_use, lines, line_discount) if points_to_use else [0] * len(lines)
    earned, line_earned, explanation = 0, [0] * len(lines), {}
    if earn is not None:
        result = points_rules.earn(
            lines=[
                EarnLine(sku=ln.sku, category=ln.category, paid_fen=p) for ln, p in zip(lines, line_paid, strict=True)
            ],
            config=earn,
            earned_today=earned_today,
        )
        earned, line_earned, explanation = result.points, list(result.line_points), result.explanation
    return Priced(
        total_fen=total_fen,
        discount_fen=discounts.total_fen,
        line_discount_fen=tuple(line_discount),
        points_used=points_to_use,
        points_value_fen=points_value,
        due_fen=due,
        paid_fen=paid,
        line_paid_fen=tuple(line_paid),
        line_points_spent=tuple(line_spent),
        points_earned=earned,
        line_points_earned=tuple(line_earned),
        explanation=explanation,
    )
