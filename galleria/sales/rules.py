"""Pure basket arithmetic: validation, the money/points split over lines, proportional refunds; the accepted window
of a sale or refund time; the split of a cart of several shops' sub-orders (`split_cart`)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError
from galleria.core.money import MAX_AMOUNT_FEN, allocate, ratio_round
from galleria.points import rules as points_rules
from galleria.points.types import RedeemConfig

from .types import LineIn, LineRefundShare, PaymentIn, RefundLineIn

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


def check_sale_time(
    *,
    occurred_at: dt.datetime,
    now: dt.datetime,
    live_minutes: int,
    offline_days: int,
    offline: bool,
    client_dated: bool = True,
) -> None:
    """The accepted window of a sale time (docs/api.md, "Sale times"). A time the client chose (the POS) must lie
    within `live_minutes` of `now` for a live call, or between `offline_days` back and `live_minutes` ahead for an
    offline upload: `sale.too_old` / `sale.future`. A time the server chose (`client_dated=False`: imports, the
    demo) is only refused in the future. Compared as POSIX timestamps, so any representable instant, whatever its
    offset, is answered without arithmetic on dates that could overflow."""
    _check_time(
        occurred_at=occurred_at,
        now=now,
        back_seconds=(offline_days * 86400 if offline else live_minutes * 60) if client_dated else None,
        ahead_seconds=live_minutes * 60,
        too_old=_("The sale time is too far in the past for this POS to send it."),
        future=_("The sale time is in the future."),
        prefix="sale",
    )


def check_refund_time(
    *,
    occurred_at: dt.datetime,
    now: dt.datetime,
    sale_at: dt.datetime,
    live_minutes: int,
    offline_days: int,
    client_dated: bool = True,
) -> None:
    """A refund time sent by the POS: no earlier than the sale, at most `offline_days` back (a refund recorded while
    the POS was offline) and at most `live_minutes` ahead: `refund.before_sale`, `refund.too_old`, `refund.future`.
    A time the server chose (`client_dated=False`: service desk, imports, the demo) is only refused in the future
    or before the sale."""
    _check_time(
        occurred_at=occurred_at,
        now=now,
        back_seconds=offline_days * 86400 if client_dated else None,
        ahead_seconds=live_minutes * 60,
        too_old=_("The refund time is too far in the past for this POS to send it."),
        future=_("The refund time is in the future."),
        prefix="refund",
    )
    if occurred_at.timestamp() < sale_at.timestamp():
        message = _("The refund time is before the sale.")
        raise ValidationError(message, code="refund.before_sale", fields={"occurred_at": message})


def _check_time(
    *,
    occurred_at: dt.datetime,
    now: dt.datetime,
    back_seconds: int | None,
    ahead_seconds: int,
    too_old: str | Promise,
    future: str | Promise,
    prefix: str,
) -> None:
    if occurred_at.utcoffset() is None:
        message = _("Give the time with its UTC offset, e.g. 2026-11-23T14:05:00+08:00.")
        raise ValidationError(message, code=f"{prefix}.time_invalid", fields={"occurred_at": message})
    at, current = occurred_at.timestamp(), now.timestamp()
    window = {
        "earliest": None if back_seconds is None else _iso(current - back_seconds),
        "latest": _iso(current + ahead_seconds),
    }
    if at > current + ahead_seconds:
        raise ValidationError(future, code=f"{prefix}.future", fields={"occurred_at": future}, extra=window)
    if back_seconds is not None and at < current - back_seconds:
        raise ValidationError(too_old, code=f"{prefix}.too_old", fields={"occurred_at": too_old}, extra=window)


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC).isoformat()


# ------------------------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundWanted:
    """What one refund takes per line: whole units, or (single-unit lines) part of the value in fen."""

    units: dict[int, int]
    amounts: dict[int, int]

    def lines(self) -> list[int]:
        return sorted(set(self.units) | set(self.amounts))


def refund_wanted(*, held: Mapping[int, tuple[int, int]], lines: Sequence[RefundLineIn] | None) -> RefundWanted:
    """What to refund per line number. `held` maps each sale line to (quantity, refunded so far); `lines=None`
    refunds everything still held. Unknown lines, an empty refund, negative figures and a line asked for both units
    and an amount are errors; what exceeds the line is checked by `refund_line_share`."""
    units: dict[int, int] = {}
    amounts: dict[int, int] = {}
    if lines is None:
        units = {no: q - done for no, (q, done) in held.items() if q > done}
    else:
        for item in lines:
            if item.line_no not in held:
                raise ValidationError(
                    _("No such line on this sale."),
                    code="refund.line_unknown",
                    fields={f"lines.{item.line_no}": "unknown"},
                )
            if item.quantity < 0 or item.amount_fen < 0 or (item.quantity and item.amount_fen):
                raise ValidationError(
                    _("Refund either a quantity or an amount of a line, not both, and never a negative one."),
                    code="refund.line_invalid",
                    fields={f"lines.{item.line_no}": "invalid"},
                )
            if item.amount_fen:
                amounts[item.line_no] = amounts.get(item.line_no, 0) + item.amount_fen
            elif item.quantity:
                units[item.line_no] = units.get(item.line_no, 0) + item.quantity
    if set(units) & set(amounts):
        raise ValidationError(
            _("Refund either a quantity or an amount of a line, not both, and never a negative one."),
            code="refund.line_invalid",
        )
    if not units and not amounts:
        raise ValidationError(_("Nothing to refund."), code="refund.empty")
    return RefundWanted(units=units, amounts=amounts)


def refund_line_share(
    *,
    line_no: int,
    quantity: int,
    refunded_qty: int,
    qty: int,
    amount_fen: int,
    paid_fen: int,
    points_earned: int,
    points_spent: int,
    clawed_fen: int,
    clawed_returned_fen: int,
    refunded_amount_fen: int = 0,
    part_fen: int = 0,
) -> LineRefundShare:
    """Refunding `qty` more units of a line — or, on a single-unit line, `part_fen` more of its value (the module
    docstring of sales.services states the formula): the cumulative share after this refund minus the one before,
    counted in units, or in fen of the line's value once part of a single-unit line has been refunded by amount.
    What an earlier refund's coupon clawback charged to what is still held comes back with it, in proportion."""
    if part_fen:
        left = amount_fen - refunded_amount_fen
        if quantity != 1 or refunded_qty:
            raise ValidationError(
                _("Only a single-item line can be refunded by amount; refund whole items of this line."),
                code="refund.amount_needs_single_unit",
                fields={f"lines.{line_no}": "quantity"},
            )
        if part_fen > left:
            raise ValidationError(
                _("Refund amount is more than what is left on the line."),
                code="refund.over_amount",
                fields={f"lines.{line_no}": str(left)},
            )
        done, after, whole = refunded_amount_fen, refunded_amount_fen + part_fen, amount_fen
        taking, held = part_fen, left
        units = 1 if part_fen == left else 0
    else:
        if refunded_qty + qty > quantity:
            raise ValidationError(
                _("Refund quantity is more than what is left on the line."),
                code="refund.over_quantity",
                fields={f"lines.{line_no}": str(quantity - refunded_qty)},
            )
        units = qty
        if quantity == 1 and refunded_amount_fen:  # the rest of a single-unit line already partly refunded by amount
            done, after, whole = refunded_amount_fen, amount_fen, amount_fen
            taking = held = 1
        else:
            done, after, whole = refunded_qty, refunded_qty + qty, quantity
            taking, held = qty, quantity - refunded_qty

    def share(value: int) -> int:
        return cumulative_share(value, after, whole) - cumulative_share(value, done, whole)

    clawed_back = ratio_round(clawed_fen - clawed_returned_fen, taking, held) if held else 0
    return LineRefundShare(
        amount_fen=share(amount_fen),
        money_fen=share(paid_fen) + clawed_back,
        clawed_returned_fen=clawed_back,
        points_clawback=share(points_earned),
        points_give_back=share(points_spent),
        units=units,
    )


def refund_payments(money_fen: int, remaining: Sequence[int]) -> list[int]:
    """Money back by payment method, in proportion to what each method still holds (largest remainder)."""
    return allocate(money_fen, list(remaining)) if money_fen and sum(remaining) else [0] * len(remaining)


# ------------------------------------------------------------------------------------------- a cart of several shops


@dataclass(frozen=True)
class CartSplit:
    """Points and the rest of a cart over its sub-orders (`split_cart`), in sub-order order. Per sub-order:
    points value + rest = due; Σ points = the points used; each part a whole multiple of the redeem unit."""

    points: tuple[int, ...]
    points_value_fen: tuple[int, ...]
    rest_fen: tuple[int, ...]


def _redeem_unit(redeem: RedeemConfig) -> int:
    """The smallest number of points a part may carry: a multiple of the redeem multiple worth whole fen."""
    whole_fen = redeem.points_per_yuan // math.gcd(100, redeem.points_per_yuan)
    return math.lcm(max(redeem.multiple, 1), whole_fen)


def _unit_caps(dues: Sequence[int], redeem: RedeemConfig, unit: int) -> list[int]:
    """Per sub-order, the most units its sale accepts: the max share of its due, in points, rounded down."""
    return [due * redeem.max_share_bp // 10_000 * redeem.points_per_yuan // 100 // unit for due in dues]


def _water_fill(units: int, dues: Sequence[int], caps: Sequence[int]) -> list[int]:
    """`units` over the sub-orders by largest remainder of their dues; a part above its cap is cut to the cap and
    the excess goes round again over the others (at most one round per sub-order)."""
    given = [0] * len(dues)
    active = list(range(len(dues)))  # the first round over every sub-order: the plain largest remainder
    left = units
    while left and active:
        parts = allocate(left, [dues[i] for i in active])
        left = 0
        for i, part in zip(active, parts, strict=True):
            take = min(part, caps[i] - given[i])
            given[i] += take
            left += part - take
        active = [i for i in active if given[i] < caps[i]]
    if left:
        raise AssertionError("units beyond the caps")  # split_cart checks Σ caps first
    return given


def cart_max_points(*, dues: Sequence[int], redeem: RedeemConfig, available: int) -> int:
    """The most points a cart accepts: each sub-order's own cap summed, bounded by what is available, in whole
    units; 0 below the minimum."""
    unit = _redeem_unit(redeem)
    limit = min(sum(_unit_caps(dues, redeem, unit)) * unit, max(available, 0))
    limit -= limit % unit
    return limit if limit >= redeem.min_points else 0


def split_cart(
    *, dues: Sequence[int], points: int, redeem: RedeemConfig, available: int, rest_fen: int | None = None
) -> CartSplit:
    """Split `points` over a cart's sub-orders and say what money each still needs (docs/design/online-mall.md §5.4).

    `dues` are the sub-orders' totals less every discount (shop and cross-shop). The points are checked once on
    the cart's total (minimum, multiple, whole fen, max share of the total, `available` = balance − held), then
    split in units (a multiple of the redeem multiple worth whole fen) by largest remainder of the dues, each part
    capped by its own sale's max share (water-filling). Rest per sub-order = due − value of its points. With
    `rest_fen` (what the member confirmed / the gateway collected) Σ rest must equal it (`sale.payments_mismatch`)."""
    if any(due < 0 for due in dues):
        raise ValueError("dues cannot be negative")
    given = [0] * len(dues)
    if points:
        points_rules.check_redemption(points=points, sale_total_fen=sum(dues), balance=available, config=redeem)
        unit = _redeem_unit(redeem)
        caps = _unit_caps(dues, redeem, unit)
        if points % unit or points // unit > sum(caps):
            raise ValidationError(
                _("These points cannot be split over the shops of this order within each shop's limit."),
                code="points.over_max_share",
                extra={"max_points": sum(caps) * unit},
            )
        given = [u * unit for u in _water_fill(points // unit, dues, caps)]
    values = [points_rules.redeem_value_fen(points=p, config=redeem) for p in given]
    rest = [due - value for due, value in zip(dues, values, strict=True)]
    if rest_fen is not None and sum(rest) != rest_fen:
        raise ValidationError(
            _("The amount paid (%(paid)s fen) is not what the order still needs (%(due)s fen).")
            % {"paid": rest_fen, "due": sum(rest)},
            code="sale.payments_mismatch",
            extra={"due_fen": sum(rest), "paid_fen": rest_fen},
        )
    return CartSplit(points=tuple(given), points_value_fen=tuple(values), rest_fen=tuple(rest))
