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
    once (the coupon is issued)."""

    PENDING_PAYMENT = "pending_payment", pgettext_lazy("order state", "Waiting for payment")
    PAID = "paid", pgettext_lazy("order state", "Paid")
    SHIPPED = "shipped", pgettext_lazy("order state", "Shipped")
    COMPLETED = "completed", pgettext_lazy("order state", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("order state", "Cancelled")


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
