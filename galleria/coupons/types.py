"""Frozen values that cross the coupons app's boundary (sales calls in with baskets; quotes and results go out).

Money is integer fen everywhere. A basket line is what the till sends: `amount_fen` is the line's amount before
any coupon or promotion (≤ quantity × unit price; the POS may already have applied its own line discounts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BasketLine:
    line_no: int
    sku: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    category: str = ""


@dataclass(frozen=True)
class OfferSpec:
    """What the pure rules need to know about one coupon or promotion (built by selectors from the rows).

    `key` identifies the candidate ("coupon:<id>" or "promotion:<id>"); `template_key` groups interchangeable
    coupons (same template). `rank` orders candidates for the tie-break (promotions first, then coupons by
    expiry and id). Scope lists are empty when they do not restrict.
    """

    key: str
    kind: str
    name: str = ""
    is_coupon: bool = True
    template_key: str = ""
    rank: tuple[int, ...] = ()
    value_fen: int = 0
    percent_off_bp: int = 0
    max_discount_fen: int | None = None
    threshold_fen: int = 0
    min_items: int = 0
    # per-unit kinds: the special price of one unit (特价), and how many units of a sale get the discount
    unit_price_fen: int = 0
    max_units: int | None = None
    # merchant-level scope
    scope_kind: str = "all"
    owner_merchant_id: int | None = None
    scope_categories: tuple[str, ...] = ()
    scope_merchant_ids: tuple[int, ...] = ()
    excluded_merchant_ids: tuple[int, ...] = ()
    # line-level scope
    scope_skus: tuple[str, ...] = ()
    excluded_skus: tuple[str, ...] = ()
    excluded_line_categories: tuple[str, ...] = ()
    # stacking and funding
    stacking_group: str = ""
    is_exclusive: bool = False
    max_per_sale: int = 1
    funder: str = "mall"
    merchant_share_bp: int = 0
    # refunds
    on_threshold_loss: str = "deduct"


@dataclass(frozen=True)
class LineDiscount:
    line_no: int
    discount_fen: int


@dataclass(frozen=True)
class AllocationLine:
    """One line's share of one applied item. `basis_fen` is the amount the item was computed on (the line's
    amount after earlier steps); the refund rule uses it to re-check thresholds on what the shopper keeps."""

    line_no: int
    quantity: int
    basis_fen: int
    discount_fen: int


@dataclass(frozen=True)
class Applied:
    """One coupon or promotion applied to a basket, with its explanation."""

    key: str
    kind: str
    discount_fen: int
    lines: tuple[AllocationLine, ...]
    mall_fen: int
    merchant_fen: int
    explanation: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """The result of applying a selection in the fixed order (rules.ORDER_OF_APPLICATION)."""

    keys: tuple[str, ...]
    total_discount_fen: int
    applied: tuple[Applied, ...]
    line_discounts: tuple[LineDiscount, ...]
    order: tuple[str, ...]
    unmet: tuple[tuple[str, str], ...] = ()  # (key, reason) of selected items that gave no discount


# ------------------------------------------------------------------------------------------- refunds


@dataclass(frozen=True)
class RefundLineQty:
    """Units of a line a sale refund completes; on a single-unit line refunded by amount, also the part of the line
    refunded now (`part_fen`) out of what was still held of it (`of_fen`) — the discount follows in proportion."""

    line_no: int
    quantity: int
    part_fen: int = 0
    of_fen: int = 0


@dataclass(frozen=True)
class RedemptionState:
    """What a recorded redemption still holds, for the pure refund rule. `lines` carry per line the original
    quantity, basis and discount, plus `refunded_qty` and `rolled_back_fen` so far."""

    key: str
    spec: OfferSpec
    discount_fen: int
    rolled_back_fen: int
    lines: tuple[dict[str, int], ...]


@dataclass(frozen=True)
class RefundOutcome:
    """Per redemption: the discount rolled back with the refunded lines (in proportion) and the extra clawback
    when what the shopper keeps no longer meets the condition (policy "deduct")."""

    key: str
    rolled_back_fen: int
    clawback_fen: int
    lines: tuple[dict[str, int], ...]
    line_rollbacks: tuple[LineDiscount, ...]
    fully_returned: bool
    threshold_lost: bool
    line_clawbacks: tuple[LineDiscount, ...] = ()  # the clawback charged to each kept line


# ------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AppliedDiscount:
    """One coupon or promotion on a sale, as recorded (the redemption id is the settlement reference)."""

    redemption_id: int | None
    coupon_id: int | None
    promotion_id: int | None
    kind: str
    name: str
    discount_fen: int
    mall_fen: int
    merchant_fen: int
    lines: tuple[LineDiscount, ...]
    explanation: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SaleDiscounts:
    """What `coupons_redeem_for_sale_in_tx` returns: per line the total discount (sum = total_discount_fen)."""

    total_discount_fen: int
    line_discounts: tuple[LineDiscount, ...]
    applied: tuple[AppliedDiscount, ...]
    order: tuple[str, ...]


@dataclass(frozen=True)
class SaleRefundDiscounts:
    """What `coupons_refund_for_sale_in_tx` returns.

    `rolled_back_fen`: the discount that went with the refunded goods (in proportion). A sale that refunds the
    gross line amounts deducts it; a sale that refunds lines net of discount has already done so.
    `clawback_fen`: the discount the kept goods no longer earn (threshold lost, policy "deduct"): always deduct.
    `deduct_fen` = rolled_back_fen + clawback_fen. `restored_coupon_ids`: coupons given back to the member.
    `line_clawbacks`: the clawback per kept line (the shopper now pays that much more for those lines, so a
    later refund of them gives it back).
    """

    rolled_back_fen: int
    clawback_fen: int
    deduct_fen: int
    line_rollbacks: tuple[LineDiscount, ...]
    restored_coupon_ids: tuple[int, ...]
    mall_fen: int
    merchant_fen: int
    line_clawbacks: tuple[LineDiscount, ...] = ()  # how `clawback_fen` falls on the kept lines


@dataclass(frozen=True)
class IssuedCoupon:
    coupon_id: int
    template_id: int
    code: str
    member_id: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    created: bool = True


@dataclass(frozen=True)
class CouponOption:
    """One held coupon in a quote: whether it applies to this basket, and its discount alone."""

    coupon_id: int
    template_id: int
    name: str
    kind: str
    valid_until: dt.datetime
    is_applicable: bool
    discount_fen: int
    reason_code: str = ""


@dataclass(frozen=True)
class PromotionOption:
    promotion_id: int
    name: str
    kind: str
    discount_fen: int


@dataclass(frozen=True)
class CouponQuote:
    coupons: tuple[CouponOption, ...]
    promotions: tuple[PromotionOption, ...]
    best: Evaluation
    best_coupon_ids: tuple[int, ...]
    best_promotion_ids: tuple[int, ...]


@dataclass(frozen=True)
class ClaimOffer:
    template_id: int
    name: str
    kind: str
    claim_method: str
    claim_points: int
    claim_price_fen: int
    remaining: int | None
    claimed_by_member: int
    can_claim: bool
    reason_code: str = ""


@dataclass(frozen=True)
class TemplateStats:
    template_id: int
    total_quantity: int | None
    remaining: int | None
    issued: int
    available: int
    used: int
    expired: int
    void: int
    redemption_rate_bp: int
    discount_fen: int
    mall_fen: int
    merchant_fen: int


@dataclass(frozen=True)
class CouponCheck:
    """A standalone validation (merchant staff scanning a code): may it be used here, now?"""

    coupon_id: int
    code: str
    kind: str
    name: str
    member_id: int
    status: str
    valid_until: dt.datetime
    is_usable: bool
    reason_code: str = ""
    exchange_item: str = ""
    parking_hours: int = 0
    value_fen: int = 0


@dataclass(frozen=True)
class ParkingCouponOption:
    """A member's parking coupon usable now (coupons.selectors.parking_coupons): free hours or an amount off a
    parking fee, with who funds it (the fee engine bills a merchant-funded coupon to `merchant_id`)."""

    coupon_id: int
    code: str
    name: str
    hours: int
    value_fen: int
    funder: str  # "mall" | "merchant" | "split"
    merchant_id: int | None
    valid_until: dt.datetime


# ------------------------------------------------------------------------------------------- a cart of several shops


@dataclass(frozen=True)
class CartPartLines:
    """One sub-order of an online cart as the cross-shop coupon sees it: its merchant and its lines at their
    residual amounts (after the shop's own coupons and promotions), numbered as in its sale."""

    merchant_id: int
    merchant_category: str
    lines: tuple[BasketLine, ...]


@dataclass(frozen=True)
class CartCouponSplit:
    """The cross-shop coupon over a cart (`rules.cart_coupon_split`): the discount, its per-line allocation per
    sub-order (in sub-order order; empty for a sub-order it does not reach), or why it does not apply."""

    discount_fen: int
    parts: tuple[tuple[AllocationLine, ...], ...]
    reason: str = ""
    explanation: dict[str, object] = field(default_factory=dict)

    def part_fen(self, i: int) -> int:
        return sum(ln.discount_fen for ln in self.parts[i])


@dataclass(frozen=True)
class CartPartCoupons:
    """One sub-order for `coupons_redeem_for_cart_in_tx`: its merchant, lines and the shop coupons chosen."""

    merchant_id: int
    lines: tuple[BasketLine, ...]
    coupon_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CartDiscounts:
    """What `coupons_redeem_for_cart_in_tx` returns: per sub-order its discounts as one sale's (shop items and its
    part of the cross-shop coupon, per line), and that part alone."""

    parts: tuple[SaleDiscounts, ...]
    cart_fen: tuple[int, ...]
