"""Paying a parking fee after the benefits: points in whole-hour steps, then the wallet, then a payment gateway.

Points and the wallet are payment means, not benefits: they pay the net fee, they do not lower it. The frictionless
exit (无感支付) rule is here too. docs/parking.md, section "Benefits and the order they apply in", has the details.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FeeError
from .tariff import MAX_FEN

__all__ = ["PaymentPlan", "PointsQuote", "PointsRate", "auto_pay_allowed", "plan_payment", "points_usable"]

MAX_POINTS = 10**12


def _amount(value: object, field: str, *, high: int = MAX_FEN) -> int:
    if type(value) is not int or not 0 <= value <= high:
        raise FeeError("parking.amount", f"{field} must be an int in [0, {high}]", field=field)
    return value


@dataclass(frozen=True)
class PointsRate:
    """`points` points are worth `fen` fen: 100 points = ¥1 is PointsRate(points=100, fen=100)."""

    points: int
    fen: int

    def __post_init__(self) -> None:
        if type(self.points) is not int or type(self.fen) is not int or not (self.points > 0 and self.fen > 0):
            raise FeeError("parking.points_rate", "a points rate is two positive ints", field="points_rate")


@dataclass(frozen=True)
class PointsQuote:
    steps: int  # whole hours paid with points
    points_per_step: int
    points: int
    fen: int


@dataclass(frozen=True)
class PaymentPlan:
    """How a net fee is paid: points + wallet + gateway == net fee."""

    net_fee_fen: int
    points: int
    points_fen: int
    wallet_fen: int
    gateway_fen: int


def points_usable(
    amount_fen: int,
    *,
    step_fen: int,
    rate: PointsRate,
    balance_points: int,
    max_points: int | None = None,
) -> PointsQuote:
    """The most points that may pay `amount_fen`, and the fen they cover.

    Points pay whole steps of `step_fen` (one hour at the tariff's unit price: `Tariff.hour_price_fen`); a step costs
    ceil(step_fen × rate.points / rate.fen) points (never less than the rate). A remainder smaller than one step is
    left for the wallet or a gateway. `max_points` is what the member chose to spend at most.
    """
    _amount(amount_fen, "amount_fen")
    _amount(step_fen, "step_fen")
    _amount(balance_points, "balance_points", high=MAX_POINTS)
    if max_points is not None:
        _amount(max_points, "max_points", high=MAX_POINTS)
    if not isinstance(rate, PointsRate):
        raise FeeError("parking.points_rate", "rate is a PointsRate", field="points_rate")
    if step_fen == 0:
        return PointsQuote(steps=0, points_per_step=0, points=0, fen=0)
    per_step = -(-step_fen * rate.points // rate.fen)
    budget = balance_points if max_points is None else min(balance_points, max_points)
    steps = min(amount_fen // step_fen, budget // per_step)
    return PointsQuote(steps=steps, points_per_step=per_step, points=steps * per_step, fen=steps * step_fen)


def plan_payment(
    net_fee_fen: int,
    *,
    step_fen: int,
    rate: PointsRate,
    balance_points: int,
    wallet_balance_fen: int,
    max_points: int | None = None,
) -> PaymentPlan:
    """Points first (whole-hour steps, up to `max_points`; 0 = none), then the wallet, the rest to a gateway."""
    quote = points_usable(
        net_fee_fen, step_fen=step_fen, rate=rate, balance_points=balance_points, max_points=max_points
    )
    _amount(wallet_balance_fen, "wallet_balance_fen", high=MAX_POINTS)
    rest = net_fee_fen - quote.fen
    wallet = min(rest, wallet_balance_fen)
    return PaymentPlan(
        net_fee_fen=net_fee_fen,
        points=quote.points,
        points_fen=quote.fen,
        wallet_fen=wallet,
        gateway_fen=rest - wallet,
    )


def auto_pay_allowed(net_fee_fen: int, per_exit_cap_fen: int) -> bool:
    """Frictionless exit: charge automatically at the barrier when the net fee is within the member's per-exit cap.

    A fee of 0 is always allowed (nothing is charged). Over the cap the car pays first (in the app or at the exit).
    """
    _amount(net_fee_fen, "net_fee_fen")
    _amount(per_exit_cap_fen, "per_exit_cap_fen")
    return net_fee_fen <= per_exit_cap_fen
