"""Enums and frozen values that cross the commerce app's boundary (docs/points-mall.md).

The points mall is the first shop of this app: products owned by the mall group, exchanged for points or points +
cash. The online mall (issue #17's second half) extends the same tables: a product owned by a merchant, several
SKUs per product, carts and per-merchant sub-orders. The enums below already name what that needs where it costs
nothing now (`Channel`, `OrderState.PENDING_PAYMENT`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ShopChannel(models.TextChoices):
    """Which shop an order was placed in (the sale's checkout channel has the same name)."""

    POINTS_MALL = "points_mall", pgettext_lazy("shop", "Points mall")
    ONLINE = "online", pgettext_lazy("shop", "Online mall")


class ProductKind(models.TextChoices):
    GIFT = "gift", pgettext_lazy("product kind", "Physical gift")
    COUPON = "coupon", pgettext_lazy("product kind", "Coupon")
    # Event tickets wait for events (issue #19): no kind is faked for them.


class ProductStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("product status", "Draft")
    ON_SALE = "on_sale", pgettext_lazy("product status", "On sale")
    OFF_SALE = "off_sale", pgettext_lazy("product status", "Off sale")


class Fulfilment(models.TextChoices):
    """How an order reaches the member."""

    PICKUP = "pickup", pgettext_lazy("fulfilment", "Pick up at the service desk")
    DELIVERY = "delivery", pgettext_lazy("fulfilment", "Delivery")
    COUPON = "coupon", pgettext_lazy("fulfilment", "Coupon to the member's account")


class OrderState(models.TextChoices):
    """pending_payment → paid → (shipped →) completed, or → cancelled. Points-mall orders are created paid (the
    points, wallet or the gateway's money are taken in the order's own transaction); a coupon order completes at
    once (the coupon is issued). Online orders (docs/design/online-mall.md §6): pending_payment → paid → shipped →
    delivered → completed, or paid → ready_for_pickup → delivered; pending / paid / ready → cancelled."""

    PENDING_PAYMENT = "pending_payment", pgettext_lazy("order state", "Waiting for payment")
    PAID = "paid", pgettext_lazy("order state", "Paid")
    READY_FOR_PICKUP = "ready_for_pickup", pgettext_lazy("order state", "Ready for pickup")
    SHIPPED = "shipped", pgettext_lazy("order state", "Shipped")
    DELIVERED = "delivered", pgettext_lazy("order state", "Delivered")
    COMPLETED = "completed", pgettext_lazy("order state", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order state", "Cancelled")


class CheckoutState(models.TextChoices):
    """One online "submit": waiting for its one gateway payment, paid (its orders' sales made), or cancelled (the
    points, coupon and stock holds released; nothing was ever posted)."""

    PENDING_PAYMENT = "pending_payment", pgettext_lazy("checkout state", "Waiting for payment")
    PAID = "paid", pgettext_lazy("checkout state", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("checkout state", "Cancelled")


class ShelfPlacement(models.TextChoices):
    HOME = "home", pgettext_lazy("shelf placement", "Mall home page")
    CATEGORY = "category", pgettext_lazy("shelf placement", "Category page")


class ShipmentStatus(models.TextChoices):
    SHIPPED = "shipped", pgettext_lazy("shipment", "Shipped")
    IN_TRANSIT = "in_transit", pgettext_lazy("shipment", "In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", pgettext_lazy("shipment", "Out for delivery")
    DELIVERED = "delivered", pgettext_lazy("shipment", "Delivered")
    EXCEPTION = "exception", pgettext_lazy("shipment", "Problem in delivery")
    NOTE = "note", pgettext_lazy("shipment", "Note")


class ShipmentSource(models.TextChoices):
    MERCHANT = "merchant", pgettext_lazy("shipment source", "Merchant")
    API = "api", pgettext_lazy("shipment source", "Integration")
    SYSTEM = "system", pgettext_lazy("shipment source", "System")


class ReturnKind(models.TextChoices):
    REFUND_ONLY = "refund_only", pgettext_lazy("after-sales", "Refund only")
    RETURN_REFUND = "return_refund", pgettext_lazy("after-sales", "Return and refund")


class ReturnState(models.TextChoices):
    """requested → approved → (return_refund: awaiting_goods → goods_received →) refunded; requested → rejected →
    escalated → refunded | closed; requested → withdrawn (docs/design/online-mall.md §7)."""

    REQUESTED = "requested", pgettext_lazy("after-sales", "Requested")
    APPROVED = "approved", pgettext_lazy("after-sales", "Approved")
    AWAITING_GOODS = "awaiting_goods", pgettext_lazy("after-sales", "Waiting for the goods")
    GOODS_RECEIVED = "goods_received", pgettext_lazy("after-sales", "Goods received")
    REFUNDED = "refunded", pgettext_lazy("after-sales", "Refunded")
    REJECTED = "rejected", pgettext_lazy("after-sales", "Rejected")
    ESCALATED = "escalated", pgettext_lazy("after-sales", "Escalated to the mall")
    CLOSED = "closed", pgettext_lazy("after-sales", "Closed")
    WITHDRAWN = "withdrawn", pgettext_lazy("after-sales", "Withdrawn")


class ReviewStatus(models.TextChoices):
    VISIBLE = "visible", pgettext_lazy("review status", "Shown")
    HIDDEN = "hidden", pgettext_lazy("review status", "Hidden")


class PayMethod(models.TextChoices):
    """What paid the cash part of an exchange (`points`: there was none)."""

    POINTS = "points", _("Points only")
    WALLET = "wallet", _("Wallet")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


@dataclass(frozen=True)
class Address:
    """A delivery address the member typed (kept on the order as written)."""

    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class ProductIn:
    """A points-mall item as the console's editor sends it (one SKU: the points mall sells no options)."""

    title: str
    kind: str
    price_points: int
    price_fen: int = 0
    subtitle: str = ""
    description: str = ""
    category_id: int | None = None
    coupon_template_id: int | None = None
    allow_pickup: bool = True
    allow_delivery: bool = False
    per_member_limit: int | None = None
    per_day_limit: int | None = None
    min_tier_id: int | None = None
    on_sale_from: dt.datetime | None = None
    on_sale_until: dt.datetime | None = None
    sort_order: int = 0
    status: str = ProductStatus.DRAFT
    member_cancellable: bool = True
    initial_stock: int = 0  # on create only; afterwards stock moves by `stock_adjust`


@dataclass(frozen=True)
class GatewayTender:
    """The money a payment gateway took for an exchange (services_gateway.py)."""

    method: str  # wechat | alipay
    amount_fen: int
    reference: str  # our out_trade_no at the gateway


@dataclass(frozen=True)
class Availability:
    """Whether a member may exchange an item now, and the numbers the app explains it with."""

    problem: str  # "" or an error code (commerce.out_of_stock, commerce.limit_reached, …)
    stock: int
    bought_total: int
    bought_today: int
    max_quantity: int  # the most this member may take now (0 when `problem`)


@dataclass(frozen=True)
class Stats:
    """Redemption statistics of a period (selectors.stats)."""

    orders: int
    cancelled: int
    points_spent: int
    cash_fen: int
    items: int
    members: int
    by_day: tuple[tuple[dt.date, int, int, int], ...]  # (day, orders, points, cash fen)
    top_items: tuple[tuple[int, str, int, int], ...]  # (product id, title, quantity, points)


# ------------------------------------------------------------------------------------------------- online mall


@dataclass(frozen=True)
class OnlineProductIn:
    """An online product as the merchant's editor sends it (options and SKUs are saved apart: `OptionIn`, `SkuIn`).
    A new product starts as a draft; publishing is its own step."""

    title: str
    subtitle: str = ""
    description: str = ""
    category_id: int | None = None
    allow_pickup: bool = True
    allow_delivery: bool = False
    on_sale_from: dt.datetime | None = None
    on_sale_until: dt.datetime | None = None
    sort_order: int = 0


@dataclass(frozen=True)
class OptionIn:
    name: str  # 颜色
    values: tuple[str, ...]  # 红, 蓝


@dataclass(frozen=True)
class SkuIn:
    """One combination sold: {option name: value} (empty for a product without options) and its prices in fen."""

    options: dict[str, str]
    price_fen: int
    list_price_fen: int | None = None
    barcode: str = ""


@dataclass(frozen=True)
class ShopIn:
    is_open: bool
    ship_from_store_id: int | None
    pickup_store_ids: tuple[int, ...]
    return_address: str = ""
    service_phone: str = ""


@dataclass(frozen=True)
class OnlineSettingsIn:
    is_open: bool
    pay_minutes: int = 15
    auto_receive_days: int = 10
    return_days: int = 7
    pickup_days: int = 7
    after_sale_response_hours: int = 48
    review_window_days: int = 30


@dataclass(frozen=True)
class ShelfIn:
    title: str
    placement: str  # ShelfPlacement
    category_id: int | None = None
    sort_order: int = 0
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    is_active: bool = True


@dataclass(frozen=True)
class SkuView:
    """A SKU as the product page shows it: its options, prices and what the member may buy now."""

    sku_id: int
    options: dict[str, str]
    label: str
    price_fen: int
    list_price_fen: int | None
    available: int  # over the stores the shop sells from (pickup stores and the ship-from store)


@dataclass(frozen=True)
class ProductCard:
    """One product in a list or a search result."""

    product_id: int
    title: str
    subtitle: str
    merchant_id: int
    image_sha: str
    min_price_fen: int
    max_price_fen: int
    sales_30d: int
