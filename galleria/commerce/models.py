"""Commerce tables (docs/points-mall.md): the points mall's settings, categories, products and their SKUs, orders
with their lines, and the per-(product, member) row that serialises one member's exchanges of one item.

Designed for the online mall to extend: a `Product` belongs to the mall group (`merchant` empty: the points mall)
or, later, to a merchant; a product has SKUs (the points mall uses one: no options) with a cash price, a points
price and a stock that never goes below zero (a CHECK; the exchange takes stock with one conditional UPDATE); an
`Order` has lines and a state machine (types.OrderState). The order's money and points go through the checkout
pipeline: `sale_id` is the sale of the points mall's store (channel `points_mall`)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.core.models import TimeStampedModel
from galleria.coupons.models import Coupon, CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant, Store
from galleria.tiers.models import TierLevel

from .rules_catalog import MAX_IMAGES, MAX_STOCK, SETTINGS_BOUNDS
from .types import (
    CheckoutState,
    Fulfilment,
    OrderState,
    PayMethod,
    ProductKind,
    ProductStatus,
    ReturnKind,
    ReturnState,
    ReviewStatus,
    ShelfPlacement,
    ShipmentSource,
    ShipmentStatus,
    ShopChannel,
)

__all__ = [
    "CartItem",
    "Category",
    "Checkout",
    "CheckoutState",
    "Fulfilment",
    "MemberQuota",
    "MerchantShop",
    "OnlineSettings",
    "Order",
    "OrderLine",
    "OrderState",
    "PayMethod",
    "Product",
    "ProductImage",
    "ProductKind",
    "ProductOption",
    "ProductStatus",
    "ReturnLine",
    "ReturnRequest",
    "Review",
    "Shelf",
    "ShelfItem",
    "ShipmentEvent",
    "ShopChannel",
    "ShopPickupStore",
    "ShopSettings",
    "Sku",
    "SkuStock",
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
    # online mall: two levels (a top category and its children; the service refuses a third), an icon picture
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    icon_name = models.CharField(max_length=200, blank=True)
    icon_sha = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "shop", "name"], name="commerce_category_name_unique"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")), name="commerce_category_not_own_parent"
            ),
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
    # online mall (docs/design/online-mall.md §3.1). `search_text`: NFKC, lower case — title, subtitle, category,
    # merchant name, option values (rules_catalog.search_text); PostgreSQL indexes its 1- and 2-character grams
    search_text = models.CharField(max_length=400, blank=True, default="")
    min_price_fen = models.BigIntegerField(_("lowest price"), default=0)  # of the active SKUs
    max_price_fen = models.BigIntegerField(_("highest price"), default=0)
    sales_30d = models.IntegerField(_("sold in 30 days"), default=0)  # by a periodic job, never per sale
    rating_sum = models.IntegerField(default=0)
    rating_count = models.IntegerField(default=0)
    # the mall's takedown: hidden from the mall whatever the merchant's status, with the reason shown to them
    is_blocked = models.BooleanField(_("taken down by the mall"), default=False)
    blocked_reason = models.CharField(_("reason for the takedown"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [
            models.Index(fields=["mall_group", "shop", "status", "sort_order"], name="commerce_product_list"),
            models.Index(
                "mall_group", "shop", "status", "category", F("sales_30d").desc(), name="commerce_product_browse"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(shop="points_mall") | Q(merchant__isnull=True), name="commerce_points_mall_owned_by_group"
            ),
            models.CheckConstraint(
                condition=~Q(shop="online") | Q(merchant__isnull=False), name="commerce_online_owned_by_merchant"
            ),
            models.CheckConstraint(
                condition=Q(min_price_fen__gte=0, max_price_fen__gte=F("min_price_fen")),
                name="commerce_product_price_range",
            ),
            models.CheckConstraint(
                condition=Q(sales_30d__gte=0, rating_count__gte=0, rating_sum__gte=F("rating_count"))
                & Q(rating_sum__lte=F("rating_count") * 5),
                name="commerce_product_counters",
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
    # online mall: the option values this SKU is ({"颜色": "红", "尺码": "M"}) and their normalised key
    # ("颜色=红|尺码=M", rules_catalog.option_key; "" for a product without options); its stock is per store in
    # SkuStock (`stock` above stays the points mall's)
    options = models.JSONField(default=dict, blank=True)
    option_key = models.CharField(max_length=200, blank=True, default="")
    list_price_fen = models.BigIntegerField(_("list price"), null=True, blank=True)  # 划线价: shown, never charged
    barcode = models.CharField(_("barcode"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        indexes = [models.Index(fields=["barcode"], condition=~Q(barcode=""), name="commerce_sku_barcode")]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="commerce_sku_code_unique"),
            models.UniqueConstraint(fields=["product", "option_key"], name="commerce_sku_options_unique"),
            models.CheckConstraint(
                condition=Q(list_price_fen__isnull=True) | Q(list_price_fen__gte=0), name="commerce_sku_list_price"
            ),
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
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)  # empty while an online order waits
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
    # online mall (docs/design/online-mall.md §3.2): one order per merchant of a checkout, its sale made at payment.
    # goods = discount (shop + this order's part of the cross-shop coupon) + points value + cash
    checkout = models.ForeignKey("Checkout", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    goods_fen = models.BigIntegerField(_("goods"), default=0)
    discount_fen = models.BigIntegerField(_("discount"), default=0)
    cart_discount_fen = models.BigIntegerField(default=0)  # the cross-shop coupon's part, inside discount_fen
    points_value_fen = models.BigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    return_until = models.DateTimeField(_("returns until"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    earn_hold_open = models.BooleanField(default=False)  # points earned held (`earn:<id>`) until completion

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["mall_group", "shop", "paid_at"], name="commerce_order_group_time"),
            models.Index(fields=["member", "paid_at"], name="commerce_order_member_time"),
            models.Index("merchant", "shop", "state", F("paid_at").desc(), name="commerce_order_merchant_queue"),
            models.Index(fields=["shipped_at"], condition=Q(state="shipped"), name="commerce_order_shipped_due"),
            models.Index(fields=["return_until"], condition=Q(state="delivered"), name="commerce_order_delivered_due"),
            models.Index(fields=["ready_at"], condition=Q(state="ready_for_pickup"), name="commerce_order_ready_due"),
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
            models.CheckConstraint(
                condition=Q(
                    goods_fen__gte=0,
                    discount_fen__gte=0,
                    cart_discount_fen__gte=0,
                    points_value_fen__gte=0,
                    points_earned__gte=0,
                    refunded_fen__gte=0,
                )
                & Q(cart_discount_fen__lte=F("discount_fen"), refunded_fen__lte=F("goods_fen")),
                name="commerce_order_online_amounts",
            ),
            models.CheckConstraint(
                condition=~Q(shop="online") | Q(goods_fen=F("discount_fen") + F("points_value_fen") + F("cash_fen")),
                name="commerce_order_online_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=False) | Q(state__in=["pending_payment", "cancelled"]),
                name="commerce_order_paid_has_time",
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
    # online mall: the option values as shown (红 / M), the line's amount and discount from the placement quote
    # (checked equal at payment), units refunded so far; `line_no` is the sale's line number
    sku_label = models.CharField(max_length=60, blank=True)
    amount_fen = models.BigIntegerField(default=0)
    discount_fen = models.BigIntegerField(default=0)
    refunded_qty = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="commerce_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="commerce_line_quantity_positive"),
            models.CheckConstraint(condition=Q(refunded_qty__lte=F("quantity")), name="commerce_line_refunded_qty"),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0, discount_fen__gte=0, discount_fen__lte=F("amount_fen")),
                name="commerce_line_amounts",
            ),
        ]
        indexes = [models.Index(fields=["product", "order"], name="commerce_line_product")]


# ================================================================================================ online mall
# docs/design/online-mall.md §3. Catalogue and stock (§3.1), cart, checkout and shipments (§3.2), after-sales and
# reviews (§3.3). Behaviour lives in the services; the tables hold what must always be true as constraints.


def _bounds() -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}), name=f"commerce_online_{name}_bounds"
        )
        for name, low, high in SETTINGS_BOUNDS
    ]


class OnlineSettings(TimeStampedModel):
    """A mall group's online mall: open or not, and its clocks (payment window, auto-receive, return window, pickup
    window, the merchant's time to answer an after-sales request, the review window)."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    is_open = models.BooleanField(_("open"), default=False)
    pay_minutes = models.PositiveSmallIntegerField(_("minutes to pay"), default=15)
    auto_receive_days = models.PositiveSmallIntegerField(_("days until received automatically"), default=10)
    return_days = models.PositiveSmallIntegerField(_("days to ask for a return"), default=7)
    pickup_days = models.PositiveSmallIntegerField(_("days to pick up"), default=7)
    after_sale_response_hours = models.PositiveSmallIntegerField(
        _("hours to answer an after-sales request"), default=48
    )
    review_window_days = models.PositiveSmallIntegerField(_("days to write a review"), default=30)

    class Meta:
        verbose_name = _("online mall settings")
        verbose_name_plural = _("online mall settings")
        constraints = _bounds()


class MerchantShop(TimeStampedModel):
    """A merchant's shop in the online mall: open or not, the store it ships from (empty: no delivery), the stores
    members may pick up at (ShopPickupStore), where returns go and the customer-service phone."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="+")
    is_open = models.BooleanField(_("open"), default=False)
    ship_from_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ships from")
    )
    return_address = models.CharField(_("return address"), max_length=200, blank=True)
    service_phone = models.CharField(_("customer service phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("online shop")
        verbose_name_plural = _("online shops")


class ShopPickupStore(models.Model):
    shop = models.ForeignKey(MerchantShop, on_delete=models.CASCADE, related_name="pickup_stores")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "store"], name="commerce_pickup_store_unique")]


class ProductOption(models.Model):
    """One option of a product (颜色) with its values in order (红, 蓝); the SKUs are their combinations."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(_("option"), max_length=20)
    position = models.PositiveSmallIntegerField(default=0)
    values = models.JSONField(_("values"), default=list)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="commerce_option_name_unique"),
            models.UniqueConstraint(fields=["product", "position"], name="commerce_option_position_unique"),
        ]


class ProductImage(models.Model):
    """A product's pictures in order; position 0 is the cover (also kept in Product.image_*)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField()
    image_name = models.CharField(max_length=200)
    image_sha = models.CharField(max_length=64)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "position"], name="commerce_image_position_unique"),
            models.CheckConstraint(condition=Q(position__lt=MAX_IMAGES), name="commerce_image_position_max"),
        ]


class SkuStock(models.Model):
    """One SKU at one store. `on_hand` is in the store; `allocated` is promised to orders not yet handed over;
    available = on_hand − allocated. Every change is one conditional UPDATE (commerce/sql.py, "stock"); the CHECK
    makes "oversold" unrepresentable (docs/design/online-mall.md §4)."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stocks")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    on_hand = models.IntegerField(_("on hand"), default=0)
    allocated = models.IntegerField(_("allocated"), default=0)
    sold = models.IntegerField(_("sold"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        indexes = [models.Index(fields=["store", "sku"], name="commerce_stock_store")]
        constraints = [
            models.UniqueConstraint(fields=["sku", "store"], name="commerce_stock_unique"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0, on_hand__gte=F("allocated"), on_hand__lte=MAX_STOCK, sold__gte=0),
                name="commerce_stock_not_oversold",
            ),
        ]


class Shelf(models.Model):
    """A curated list of products on the mall's home page or a category page, shown in its window."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=30)
    placement = models.CharField(_("shown on"), max_length=10, choices=ShelfPlacement.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sort_order = models.IntegerField(_("sort order"), default=0)
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    is_active = models.BooleanField(_("shown"), default=True)

    class Meta:
        verbose_name = _("shelf")
        verbose_name_plural = _("shelves")
        indexes = [models.Index(fields=["mall_group", "placement", "sort_order"], name="commerce_shelf_list")]
        constraints = [
            models.CheckConstraint(
                condition=Q(placement="home", category__isnull=True) | Q(placement="category", category__isnull=False),
                name="commerce_shelf_placement",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="commerce_shelf_window",
            ),
        ]


class ShelfItem(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sort_order = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["shelf", "sort_order"], name="commerce_shelf_item_order")]
        constraints = [models.UniqueConstraint(fields=["shelf", "product"], name="commerce_shelf_item_unique")]


class CartItem(models.Model):
    """A SKU in a member's cart (at most 100 rows per member: the service)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["member", "updated_at"], name="commerce_cart_member")]
        constraints = [
            models.UniqueConstraint(fields=["member", "sku"], name="commerce_cart_sku_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=99), name="commerce_cart_quantity"),
        ]


class Checkout(TimeStampedModel):
    """One online "submit": one order per merchant (Order.checkout) and at most one gateway payment for all of
    them. goods = discount + points value + wallet + gateway; the wallet pays all of the rest or none of it."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("checkout number"), max_length=24, unique=True)  # "OC" + yymmdd + 10 digits
    idempotency_key = models.CharField(max_length=80)
    state = models.CharField(_("state"), max_length=20, choices=CheckoutState.choices)
    placed_at = models.DateTimeField(_("placed at"))
    expires_at = models.DateTimeField(_("pay by"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    goods_fen = models.BigIntegerField(_("goods"), default=0)
    discount_fen = models.BigIntegerField(_("discount"), default=0)
    points = models.BigIntegerField(_("points"), default=0)
    points_value_fen = models.BigIntegerField(default=0)
    wallet_fen = models.BigIntegerField(default=0)
    gateway_fen = models.BigIntegerField(default=0)
    pay_method = models.CharField(_("paid by"), max_length=10, choices=PayMethod.choices, default=PayMethod.POINTS)
    gateway_reference = models.CharField(max_length=64, blank=True)  # our out_trade_no
    cart_coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ship_name = models.CharField(pgettext_lazy("delivery", "receiver"), max_length=40, blank=True)
    ship_phone = models.CharField(_("receiver's phone"), max_length=20, blank=True)
    ship_address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(state="pending_payment"), name="commerce_checkout_expiry"),
            models.Index("member", F("placed_at").desc(), name="commerce_checkout_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="commerce_checkout_key_unique"),
            models.CheckConstraint(
                condition=Q(
                    goods_fen__gte=0,
                    discount_fen__gte=0,
                    points__gte=0,
                    points_value_fen__gte=0,
                    wallet_fen__gte=0,
                    gateway_fen__gte=0,
                ),
                name="commerce_checkout_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(goods_fen=F("discount_fen") + F("points_value_fen") + F("wallet_fen") + F("gateway_fen")),
                name="commerce_checkout_adds_up",
            ),
            models.CheckConstraint(condition=Q(wallet_fen=0) | Q(gateway_fen=0), name="commerce_checkout_one_payer"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("placed_at")), name="commerce_checkout_expiry_after"),
        ]

    def __str__(self) -> str:
        return self.number


class ShipmentEvent(models.Model):
    """A step of a delivery's timeline (merchant, a signed integration, or the system); `external_id` makes an
    integration's event idempotent."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipment_events")
    at = models.DateTimeField(_("time"))
    status = models.CharField(_("status"), max_length=20, choices=ShipmentStatus.choices)
    location = models.CharField(_("place"), max_length=60, blank=True)
    text = models.CharField(_("details"), max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=ShipmentSource.choices)
    external_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["order", "at"], name="commerce_shipment_order_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_id"], condition=~Q(external_id=""), name="commerce_shipment_external_once"
            )
        ]


class ReturnRequest(TimeStampedModel):
    """A member's after-sales request on one order (lines and quantities in ReturnLine), §7's state machine."""

    number = models.CharField(_("request number"), max_length=24, unique=True)  # "RR…"
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=ReturnKind.choices)
    state = models.CharField(_("state"), max_length=20, choices=ReturnState.choices, default=ReturnState.REQUESTED)
    reason = models.CharField(_("reason"), max_length=200)
    photos = models.JSONField(default=list, blank=True)  # ≤ 3 picture shas
    respond_by = models.DateTimeField(null=True, blank=True)
    member_tracking_no = models.CharField(_("return tracking number"), max_length=60, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)  # the sales app's refund
    money_fen = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)
    payment_refund_ref = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=80)

    class Meta:
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        indexes = [
            models.Index("merchant", "state", F("created_at").desc(), name="commerce_return_queue"),
            models.Index(fields=["respond_by"], condition=Q(state="requested"), name="commerce_return_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="commerce_return_key_unique"),
            models.CheckConstraint(
                condition=Q(money_fen__gte=0, points_returned__gte=0), name="commerce_return_amounts"
            ),
        ]


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    restock = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "order_line"], name="commerce_return_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="commerce_return_line_quantity"),
        ]


class Review(models.Model):
    """A member's review of one bought line (once per line)."""

    order_line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="review")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.CharField(_("review"), max_length=500, blank=True)
    photos = models.JSONField(default=list, blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.VISIBLE)
    merchant_reply = models.CharField(_("reply"), max_length=500, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        indexes = [models.Index("product", "status", F("created_at").desc(), name="commerce_review_product")]
        constraints = [models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="commerce_review_rating")]
