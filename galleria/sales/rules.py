"""Pure basket arithmetic: validation, the money/points split over lines, proportional refunds."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError
from galleria.core.money import MAX_AMOUNT_FEN, allocate

from .types import LineIn, PaymentIn

MAX_LINES = 200
MONEY_METHODS = {"cash", "card", "wechat", "alipay", "unionpay", "wallet", "other"}


def validate_lines(lines: Sequence[LineIn]) -> int:
    """Check the lines of a basket; returns the total (sum of line amounts, before coupons and promotions)."""
    if not lines:
        raise ValidationError(_("A sale needs at least one line."), code="sale.no_lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(_("Too many lines in one sale."), code="sale.too_many_lines")
    errors: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.quantity <= 0:
            errors[f"lines.{i}.quantity"] = str(_("Quantity must be at least 1."))
        if line.unit_price_fen < 0 or line.amount_fen < 0:
            errors[f"lines.{i}.amount_fen"] = str(_("Amounts cannot be negative."))
        elif line.amount_fen > line.unit_price_fen * line.quantity:
            errors[f"lines.{i}.amount_fen"] = str(_("The line amount is more than quantity × unit price."))
    if errors:
        raise ValidationError(_("The sale is not valid."), code="sale.invalid", fields=errors)
    total = sum(line.amount_fen for line in lines)
    if total > MAX_AMOUNT_FEN:
        raise ValidationError(_("Amount out of range."), code="money.out_of_range")
    return total


def validate_payments(
    payments: Sequence[PaymentIn], *, total_fen: int, points_value_fen: int, discount_fen: int = 0
) -> None:
    """Money + points value must equal the total less the coupons and promotions applied."""
    errors: dict[str, str] = {}
    for i, pay in enumerate(payments):
        if pay.method not in MONEY_METHODS:
            errors[f"payments.{i}.method"] = str(_("Unknown payment method."))
        if pay.amount_fen <= 0:
            errors[f"payments.{i}.amount_fen"] = str(_("Payment amounts must be positive."))
    if errors:
        raise ValidationError(_("The sale is not valid."), code="sale.invalid", fields=errors)
    paid = sum(p.amount_fen for p in payments)
    due = total_fen - discount_fen
    if paid + points_value_fen != due:
        raise ValidationError(
            _(
                "Payments (%(paid)s fen) plus points (%(points)s fen) do not add up to the amount due "
                "(%(due)s fen: total %(total)s less discounts %(discount)s)."
            )
            % {"paid": paid, "points": points_value_fen, "due": due, "total": total_fen, "discount": discount_fen},
            code="sale.payments_mismatch",
            extra={
                "total_fen": total_fen,
                "discount_fen": discount_fen,
                "due_fen": due,
                "paid_fen": paid,
                "points_value_fen": points_value_fen,
            },
        )


def validate_basket(
    lines: Sequence[LineIn], payments: Sequence[PaymentIn], *, points_value_fen: int, discount_fen: int = 0
) -> int:
    """Check a basket; returns the total (sum of line amounts). Money + points value must equal the total less
    the discount."""
    total = validate_lines(lines)
    validate_payments(payments, total_fen=total, points_value_fen=points_value_fen, discount_fen=discount_fen)
    return total


def split_over_lines(amount: int, lines: Sequence[LineIn], discounts: Sequence[int] | None = None) -> list[int]:
    """Split a sale-level amount (money paid, points used) over lines in proportion to what each line costs
    after its share of the coupons and promotions (largest remainder: the parts add up to the amount)."""
    if discounts is None:
        return allocate(amount, [line.amount_fen for line in lines])
    return allocate(amount, [line.amount_fen - d for line, d in zip(lines, discounts, strict=True)])


def cumulative_share(total: int, part: int, whole: int) -> int:
    """round-half-up(total × part / whole). Refunds use cumulative shares: what is due after this refund minus
    what earlier refunds already took, so partial refunds always add up exactly to a full one."""
    if whole <= 0:
        return 0
    return (total * part * 2 + whole) // (2 * whole)
