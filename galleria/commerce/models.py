"""Commerce tables (docs/points-mall.md): the points mall's settings, categories, products and their SKUs, orders
with their lines, and the per-(product, member) row that serialises one member's exchanges of one item.

Designed for the online mall to extend: a `Product` belongs to the mall group (`merchant` empty: the points mall)
or, later, to a merchant; a product has SKUs (the points mall uses one: no options) with a cash price, a points
price and a stock that never goes below zero (a CHECK; the exchange takes stock with one conditional UPDATE); an
`Order` has lines and a state machine (types.OrderState). The order's money and points go through the checkout
pipeline: `sale_id` is the sale of the points mall's store (channel `points_mall`)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.core.models import TimeStampedModel
from galleria.coupons.models import CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant, Store
from galleria.tiers.models import TierLevel

from .types import Fulfilment, OrderState, PayMethod, ProductKind, ProductStatus, ShopChannel

__all__ = [
    "Category",
    "Fulfilment",
    "MemberQuota",
    "Order",
    "OrderLine",
    "OrderState",
    "PayMethod",
    "Product",
    "ProductKind",
    "ProductStatus",
    "ShopChannel",
    "ShopSettings",
    "Sku",
]


class ShopSettings(TimeStampedModel):
    """A mall group's points mall: the store whose sales the exchanges are (the mall's own service desk, like a car
    park's store), where gifts are picked up, and whether the shop is open."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pickup_place = models.CharField(_("pickup place"), max_length=120, blank=True)
    pickup_hours = models.CharField(_("pickup hours"), max_length=60, blank=True)
    is_open = models.BooleanField(_("open"), default=True)

    class Meta:
        verbose_name = _("points mall settings")
        verbose_name_plural = _("points mall settings")


class Category(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    shop = models.CharField(max_length=20, choices=ShopChannel.choices, default=ShopChannel.POINTS_MALL)
    name = models.CharField(_("name"), max_length=30)
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("shown"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "shop", "name"], name="commerce_category_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """An item (SPU). Points mall: owned by the group (`merchant` empty), one SKU."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    shop = models.CharField(max_length=20, choices=ShopChannel.choices, default=ShopChannel.POINTS_MALL)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ProductKind.choices)
    title = models.CharField(_("title"), max_length=60)
    subtitle = models.CharField(_("subtitle"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    # the picture: re-encoded JPEG in Django's storage; `image_sha` addresses it in URLs (changes with the picture)
    image_name = models.CharField(max_length=200, blank=True)
    image_sha = models.CharField(max_length=64, blank=True)
    coupon_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allow_pickup = models.BooleanField(_("pick up at the service desk"), default=True)
    allow_delivery = models.BooleanField(_("delivery"), default=False)
    per_member_limit = models.PositiveIntegerField(_("limit per member"), null=True, blank=True)
    per_day_limit = models.PositiveIntegerField(_("limit per member per day"), null=True, blank=True)
    min_tier = models.ForeignKey(TierLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_sale_from = models.DateTimeField(_("on sale from"), null=True, blank=True)
    on_sale_until = models.DateTimeField(_("on sale until"), null=True, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    member_cancellable = models.BooleanField(_("members may cancel"), default=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [models.Index(fields=["mall_group", "shop", "status", "sort_order"], name="commerce_product_list")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(shop="points_mall") | Q(merchant__isnull=True), name="commerce_points_mall_owned_by_group"
            ),
            models.CheckConstraint(
                condition=~Q(kind="coupon") | Q(coupon_template__isnull=False), name="commerce_coupon_item_template"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Sku(TimeStampedModel):
    """A sellable variant with its prices and stock. `stock` is what is left; `sold` counts units exchanged and not
    cancelled. Stock is taken with `UPDATE … SET stock = stock - q WHERE id = … AND stock >= q` (never oversold)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(_("SKU"), max_length=40)
    name = models.CharField(_("option"), max_length=60, blank=True)
    price_points = models.BigIntegerField(_("points"), default=0)
    price_fen = models.BigIntegerField(_("cash (fen)"), default=0)
    stock = models.IntegerField(_("stock"), default=0)
    sold = models.IntegerField(_("exchanged"), default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="commerce_sku_code_unique"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="commerce_sku_stock_non_negative"),
            models.CheckConstraint(condition=Q(sold__gte=0), name="commerce_sku_sold_non_negative"),
            models.CheckConstraint(
                condition=Q(price_points__gte=0) & Q(price_fen__gte=0), name="commerce_sku_prices_non_negative"
            ),
        ]


class MemberQuota(models.Model):
    """The row one member's exchanges of one product lock (created on first use): limits are counted from the
    orders under this lock, so two exchanges at once cannot both pass a limit."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "member"], name="commerce_quota_unique")]


class Order(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    shop = models.CharField(max_length=20, choices=ShopChannel.choices, default=ShopChannel.POINTS_MALL)
    number = models.CharField(_("order number"), max_length=24, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")  # the seller
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=OrderState.choices)
    fulfilment = models.CharField(_("fulfilment"), max_length=10, choices=Fulfilment.choices)
    local_day = models.DateField()  # the mall-local day of the exchange (daily limits, statistics)
    # what was paid: points, and the cash part by the wallet or a gateway (through the sale of `store`)
    total_points = models.BigIntegerField(_("points"), default=0)
    cash_fen = models.BigIntegerField(_("cash"), default=0)
    wallet_fen = models.BigIntegerField(default=0)
    gateway_fen = models.BigIntegerField(default=0)
    pay_method = models.CharField(_("paid by"), max_length=10, choices=PayMethod.choices, default=PayMethod.POINTS)
    gateway_reference = models.CharField(max_length=64, blank=True)  # our out_trade_no at the gateway
    sale_id = models.BigIntegerField(null=True, blank=True)
    pos_sale_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=80)
    paid_at = models.DateTimeField(_("exchanged at"))
    # pickup at the desk: the code works once
    pickup_code = models.CharField(_("pickup code"), max_length=8, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    handed_over_by = models.CharField(max_length=100, blank=True)
    # delivery
    ship_name = models.CharField(pgettext_lazy("delivery", "receiver"), max_length=40, blank=True)
    ship_phone = models.CharField(_("receiver's phone"), max_length=20, blank=True)
    ship_address = models.CharField(_("address"), max_length=200, blank=True)
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=60, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    shipped_by = models.CharField(max_length=100, blank=True)
    # cancellation: the sale refunded through the pipeline
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(max_length=100, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)
    points_returned = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["mall_group", "shop", "paid_at"], name="commerce_order_group_time"),
            models.Index(fields=["member", "paid_at"], name="commerce_order_member_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="commerce_order_key_unique"),
            models.UniqueConstraint(
                fields=["mall_group", "pickup_code"], condition=~Q(pickup_code=""), name="commerce_pickup_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(total_points__gte=0) & Q(cash_fen__gte=0) & Q(wallet_fen__gte=0) & Q(gateway_fen__gte=0),
                name="commerce_order_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(cash_fen=models.F("wallet_fen") + models.F("gateway_fen")), name="commerce_order_cash_paid"
            ),
        ]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(default=1)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=60)  # as exchanged
    quantity = models.PositiveIntegerField()
    unit_points = models.BigIntegerField(default=0)
    unit_fen = models.BigIntegerField(default=0)
    coupon_ids = models.JSONField(default=list, blank=True)  # coupons issued by this line (coupon items)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="commerce_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="commerce_line_quantity_positive"),
        ]
        indexes = [models.Index(fields=["product", "order"], name="commerce_line_product")]
