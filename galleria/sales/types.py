from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import pgettext_lazy

from galleria.coupons.types import AppliedDiscount, CouponOption, IssuedCoupon, PromotionOption


class Channel(models.TextChoices):
    """How a sale reached the checkout pipeline (galleria/sales/checkout): every sale records its channel."""

    POS = "pos", pgettext_lazy("sales channel", "POS")
    COUNTER = "counter", pgettext_lazy("sales channel", "Merchant counter")
    RECEIPT = "receipt", pgettext_lazy("sales channel", "Receipt photo")
    PAY_AT_STORE = "pay_at_store", pgettext_lazy("sales channel", "Pay at store")
    ONLINE = "online", pgettext_lazy("sales channel", "Online order")
    POINTS_MALL = "points_mall", pgettext_lazy("sales channel", "Points mall")
    PARKING = "parking", pgettext_lazy("sales channel", "Parking")
    PAYMENT_LINK = "payment_link", pgettext_lazy("sales channel", "Payment-linked points")
    EVENT = "event", pgettext_lazy("sales channel", "Event registration")
    AMENITY = "amenity", pgettext_lazy("sales channel", "Member services")


# Channels whose money was paid before the pipeline saw the basket (a receipt photo, a payment at the shop's own
# WeChat Pay till): no promotion or tier discount can change what was paid, so none is applied to them.
PAID_ELSEWHERE_CHANNELS = frozenset({Channel.RECEIPT, Channel.PAYMENT_LINK})
# The mall's own services paid through the pipeline (a parking fee, a points-mall exchange, an event seat): points
# may pay all of it, it earns no points (every line is excluded from earning) and gets no promotion or tier discount
# (the tier's benefit is free hours; a points-mall item's or an event's price is the price).
SERVICE_CHANNELS = frozenset({Channel.PARKING, Channel.POINTS_MALL, Channel.EVENT, Channel.AMENITY})


@dataclass(frozen=True)
class LineIn:
    sku: str
    name: str
    quantity: int
    unit_price_fen: int
    amount_fen: int  # after line discounts; ≤ quantity × unit price
    category: str = ""


@dataclass(frozen=True)
class PaymentIn:
    method: str
    amount_fen: int


@dataclass(frozen=True)
class SaleIn:
    merchant_id: int
    store_id: int
    terminal_id: int | None
    pos_sale_id: str
    occurred_at: dt.datetime
    lines: tuple[LineIn, ...]
    payments: tuple[PaymentIn, ...]
    member_id: int | None = None
    join_phone: str | None = None  # "pay = join": register this phone in the same transaction
    points_to_use: int = 0
    is_offline: bool = False
    coupon_ids: tuple[int, ...] = ()  # the member's coupons to redeem (promotions in force apply by themselves)
    # occurred_at was chosen by the client (the POS): it must lie in the group's accepted window (sales.rules)
    client_dated: bool = False
    channel: str = Channel.POS  # a Channel value: the adapter that brought the sale


@dataclass(frozen=True)
class ChannelTotal:
    """Sales of one channel in a period (sales.selectors.sales_by_channel)."""

    channel: str
    sales: int
    total_fen: int
    discount_fen: int
    paid_fen: int
    refunded_fen: int


@dataclass(frozen=True)
class LineRefundShare:
    """What refunding some units of one sale line gives back (sales.rules.refund_line_share)."""

    amount_fen: int  # line value (money + points value)
    money_fen: int  # money, including what an earlier coupon clawback charged to these units
    clawed_returned_fen: int  # of which: earlier clawback given back
    points_clawback: int  # points earned on these units, to take back
    points_give_back: int  # points spent on these units, to return
    units: int = 0  # units this refund completes (an amount refund completes its unit when it takes what is left)


@dataclass(frozen=True)
class RefundLineIn:
    """Refund `quantity` units of a line, or — on a single-unit line (a bill paid at the store, a receipt) —
    `amount_fen` of its value: the money, points and coupons of the line follow in proportion, and refunding
    what is left of the line later completes it exactly (sales.rules.refund_line_share)."""

    line_no: int
    quantity: int = 0
    amount_fen: int = 0


@dataclass(frozen=True)
class Quote:
    total_fen: int
    paid_fen: int
    points_value_fen: int
    points_to_earn: int
    explanation: dict[str, object]
    points_balance: int
    max_points_usable: int
    tier_code: str
    tier_name: str
    tier_discount_bp: int
    free_parking_hours: int
    discount_fen: int = 0  # coupons and promotions applied (the chosen coupons, or the best combination)
    applied: tuple[AppliedDiscount, ...] = ()
    coupons: tuple[CouponOption, ...] = ()  # every coupon the member holds, usable here or not (and why)
    promotions: tuple[PromotionOption, ...] = ()
    best_coupon_ids: tuple[int, ...] = ()
    order_of_application: tuple[str, ...] = ()
    line_discounts: tuple[int, ...] = ()  # the discount of each line, in line order (what the sale records)


@dataclass(frozen=True)
class SaleResult:
    sale_id: int
    member_id: int | None
    member_joined: bool
    points_earned: int
    points_used: int
    points_balance: int | None
    explanation: dict[str, object] = field(default_factory=dict)
    tier_upgraded_to: str | None = None
    discount_fen: int = 0
    applied: tuple[AppliedDiscount, ...] = ()
    coupons_issued: tuple[IssuedCoupon, ...] = ()  # spend-triggered (消费返券)
    member_card_no: str | None = None  # pay = join: the new member's card number


@dataclass(frozen=True)
class SaleRefundable:
    """A sale's figures for a refund screen (sales.selectors.sale_refundable)."""

    sale_id: int
    total_fen: int  # the bill: money + points value + discounts
    paid_fen: int  # money
    points_used: int
    points_value_fen: int
    discount_fen: int  # coupons and promotions
    points_earned: int
    refunded_fen: int  # of the bill, so far
    refunds: int  # how many refunds so far

    @property
    def left_fen(self) -> int:
        return self.total_fen - self.refunded_fen


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    sale_id: int
    amount_fen: int
    money_fen: int
    payments: dict[str, int]
    points_clawed_back: int
    points_shortfall: int
    points_returned: int
    points_balance: int | None
    coupon_deduct_fen: int = 0  # discount the kept goods no longer earn (threshold lost), kept from the money
    coupons_restored: tuple[int, ...] = ()
    coupons_revoked: tuple[int, ...] = ()  # unused purchase rewards (消费返券) the kept goods no longer earn


# ----------------------------------------------------- an online cart of several shops (sales/checkout/cart.py)


@dataclass(frozen=True)
class CartPartIn:
    """One sub-order of a cart: one merchant's lines at one store, its own coupons; `pos_sale_id` is its sale's
    receipt number (the online order's, "on:<order number>")."""

    merchant_id: int
    store_id: int
    pos_sale_id: str
    lines: tuple[LineIn, ...]
    coupon_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CartIn:
    """A cart of several shops for the checkout pipeline (docs/design/online-mall.md §5.3). `cart_key` is the
    checkout's number: the cross-shop coupon's redemption parts carry it, and with `use_holds` the cart first
    releases the points hold `chk:<cart_key>` and may redeem the coupons held under `cart_key`. `rest_method` pays
    what points and discounts leave ('' when nothing is left; wallet, wechat, alipay); `rest_fen`, when given, is
    the money confirmed or collected: Σ of the sub-orders' rests must equal it (`sale.payments_mismatch`)."""

    member_id: int
    occurred_at: dt.datetime
    parts: tuple[CartPartIn, ...]
    cart_key: str
    cart_coupon_id: int | None = None
    points_to_use: int = 0
    rest_method: str = ""
    rest_fen: int | None = None
    use_holds: bool = False
    channel: str = Channel.ONLINE


@dataclass(frozen=True)
class PartSplit:
    """One sub-order's figures: total = discount (shop + its cross-shop part) + points value + rest."""

    merchant_id: int
    total_fen: int
    discount_fen: int
    cart_discount_fen: int
    points: int
    points_value_fen: int
    rest_fen: int
    points_to_earn: int
    line_discounts: tuple[int, ...] = ()


@dataclass(frozen=True)
class CartQuote:
    """What a cart would cost and earn (read-only): the figures per sub-order and in total, the points the member
    may use on it, and what each sub-order's coupons and promotions gave."""

    parts: tuple[PartSplit, ...]
    applied: tuple[tuple[AppliedDiscount, ...], ...]
    goods_fen: int
    discount_fen: int
    cart_discount_fen: int
    points: int
    points_value_fen: int
    rest_fen: int
    points_to_earn: int
    points_available: int
    max_points_usable: int


@dataclass(frozen=True)
class CartResult:
    """A committed cart: one sale per sub-order (in sub-order order) and their figures (≡ the quote's)."""

    sales: tuple[SaleResult, ...]
    parts: tuple[PartSplit, ...]
