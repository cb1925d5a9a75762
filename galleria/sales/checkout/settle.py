"""Settlement amounts of a sale and of its refunds (docs/settlement.md): pure arithmetic, no database, no clock.

What a sale at a merchant moves between the mall and that merchant, besides the money the merchant took itself:

- `collected_fen`: money the mall's own gateway account took for the merchant — the WeChat Pay / Alipay payments
  of a sale whose channel the mall collects (pay at store in the member app; online orders — one gateway payment
  of a cart split over its sub-order sales, docs/design/online-mall.md §5.6);
- `points_value_fen`: points the member paid with, at the value the sale gave them (`Sale.points_value_fen`);
- `coupon_mall_fen` / `coupon_merchant_fen`: coupon and promotion discounts by funder (the redemptions'
  `mall_fen` / `merchant_fen`); the merchant's part is a memorandum (the member simply paid the merchant less);
- `merchant_points` / `merchant_points_fen`: the points the merchant funds (`points.rules.funding_split` of the
  points earned, as the points service credits them) and their value at the points policy's payment rate.

A refund rolls each back in proportion to what it returns, cumulatively over the sale's refunds (a part is the
sale's amount × returned-so-far / whole, rounded by `core.money.ratio_round`, half up, less what earlier refunds
rolled back), so partial refunds add up exactly to a full one: the gateway money by the payments the refund gives
back, the points value by the points returned, the merchant's points by the points clawed back, the coupons by
the coupons app's own roll-back (`coupons.rules.refund_funding`). The ledger legs are written by post.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from galleria.core.money import ratio_round

from ..types import Channel

# channels whose gateway payments the mall's account receives for the merchant (its own gateway otherwise)
MALL_COLLECTED_CHANNELS = frozenset({Channel.PAY_AT_STORE.value, Channel.ONLINE.value})
GATEWAY_METHODS = ("wechat", "alipay")


@dataclass(frozen=True)
class SettlementAmounts:
    """A sale's (or a refund's) settlement amounts, all non-negative; see the module docstring."""

    collected_fen: int = 0
    points_value_fen: int = 0
    coupon_mall_fen: int = 0
    coupon_merchant_fen: int = 0
    merchant_points: int = 0
    merchant_points_fen: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing to settle: no ledger transaction is written."""
        return not (
            self.collected_fen
            or self.points_value_fen
            or self.coupon_mall_fen
            or self.coupon_merchant_fen
            or self.merchant_points_fen
        )

    def explanation(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_explanation(cls, data: Mapping[str, Any]) -> SettlementAmounts:
        return cls(**{f.name: int(data.get(f.name) or 0) for f in fields(cls)})


def value_of_points(points: int, *, points_per_yuan: int) -> int:
    """What points are worth in fen at the points policy's payment rate (N points = ¥1), rounded half up."""
    return ratio_round(points, 100, points_per_yuan)


def sale_amounts(
    *,
    channel: str,
    payments: Iterable[tuple[str, int]],
    points_value_fen: int,
    discounts: Iterable[tuple[int, int]],
    merchant_points: int,
    points_per_yuan: int,
) -> SettlementAmounts:
    """A sale's amounts. `payments`: (method, fen); `discounts`: (mall_fen, merchant_fen) of each coupon or
    promotion applied; `merchant_points`: the points the merchant funds out of those the sale earned."""
    collected = 0
    if channel in MALL_COLLECTED_CHANNELS:
        collected = sum(amount for method, amount in payments if method in GATEWAY_METHODS)
    parts = list(discounts)
    return SettlementAmounts(
        collected_fen=collected,
        points_value_fen=points_value_fen,
        coupon_mall_fen=sum(mall for mall, _merchant in parts),
        coupon_merchant_fen=sum(merchant for _mall, merchant in parts),
        merchant_points=merchant_points,
        merchant_points_fen=value_of_points(merchant_points, points_per_yuan=points_per_yuan),
    )


def cumulative_part(total: int, done: int, whole: int) -> int:
    """`total` × done / whole, rounded half up; 0 when `whole` is 0. At done = whole it is `total` exactly."""
    if whole <= 0:
        return 0
    return ratio_round(total, min(done, whole), whole)


def _delta(total: int, before: int, now: int, whole: int) -> int:
    return cumulative_part(total, before + now, whole) - cumulative_part(total, before, whole)


def refund_amounts(
    *,
    at_sale: SettlementAmounts,
    gateway_back_fen: int,
    points_used: int,
    points_returned_before: int,
    points_returned: int,
    points_earned: int,
    points_clawed_before: int,
    points_clawed: int,
    coupon_mall_back_fen: int,
    coupon_merchant_back_fen: int,
) -> SettlementAmounts:
    """What one refund rolls back of the sale's amounts (`at_sale`, as its settlement transaction recorded them)."""
    return SettlementAmounts(
        collected_fen=min(gateway_back_fen, at_sale.collected_fen) if at_sale.collected_fen else 0,
        points_value_fen=_delta(at_sale.points_value_fen, points_returned_before, points_returned, points_used),
        coupon_mall_fen=coupon_mall_back_fen,
        coupon_merchant_fen=coupon_merchant_back_fen,
        merchant_points=_delta(at_sale.merchant_points, points_clawed_before, points_clawed, points_earned),
        merchant_points_fen=_delta(at_sale.merchant_points_fen, points_clawed_before, points_clawed, points_earned),
    )
