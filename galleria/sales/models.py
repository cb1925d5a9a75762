from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant, PosTerminal, Store

from .types import Channel


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    UNIONPAY = "unionpay", _("UnionPay QR")
    WALLET = "wallet", _("Member wallet")
    OTHER = "other", _("Other")


class SaleStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class Sale(models.Model):
    """One till receipt. `total_fen` = sum of line amounts = money paid + value of points used."""

    # no single-column index where a composite below leads with the column (one index fewer to write per sale)
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="sales", db_index=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    terminal = models.ForeignKey(PosTerminal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="sales", db_index=False
    )
    pos_sale_id = models.CharField(_("POS receipt number"), max_length=64)
    occurred_at = models.DateTimeField(_("sold at"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_offline = models.BooleanField(_("uploaded after the fact"), default=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.POS)
    status = models.CharField(_("status"), max_length=20, choices=SaleStatus.choices, default=SaleStatus.COMPLETED)
    total_fen = models.BigIntegerField(_("total"))
    paid_fen = models.BigIntegerField(_("paid with money"))
    points_used = models.BigIntegerField(_("points used"), default=0)
    points_value_fen = models.BigIntegerField(_("points value"), default=0)
    points_earned = models.BigIntegerField(_("points earned"), default=0)
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    discount_fen = models.BigIntegerField(_("coupons and promotions"), default=0)
    # the ledger transactions of a sale carry source "sale:<id>" (earn, spend, wallet payment)
    earn_explanation = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "pos_sale_id"], name="sale_pos_id_unique_per_merchant"),
            models.CheckConstraint(condition=Q(total_fen__gte=0, paid_fen__gte=0), name="sale_amounts_non_negative"),
            models.CheckConstraint(
                condition=Q(total_fen=models.F("paid_fen") + models.F("points_value_fen") + models.F("discount_fen")),
                name="sale_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(refunded_fen__lte=models.F("total_fen")), name="sale_refund_max"),
        ]
        indexes = [
            models.Index(fields=["member", "-occurred_at"]),
            models.Index(fields=["merchant", "-occurred_at"]),
            models.Index(fields=["mall_group", "-occurred_at"]),
        ]


class SaleLine(models.Model):
    sale = models.ForeignKey(
        Sale, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # unique (sale, line_no)
    line_no = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=40, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price_fen = models.BigIntegerField()
    amount_fen = models.BigIntegerField()
    paid_fen = models.BigIntegerField()  # money share of the line (largest remainder over the sale's money)
    points_spent = models.BigIntegerField(default=0)  # points share of the line
    points_earned = models.BigIntegerField(default=0)
    refunded_qty = models.PositiveIntegerField(default=0)
    # the line's value refunded so far (fen): kept by every refund; a single-unit line refunded by amount is
    # completed (refunded_qty = 1) when this reaches amount_fen
    refunded_amount_fen = models.BigIntegerField(default=0, db_default=0)
    discount_fen = models.BigIntegerField(default=0)  # coupons and promotions on this line (largest remainder)
    # a partial refund that broke a coupon's threshold charged this much more to the kept units of this line;
    # refunding those units later gives it back (in proportion to the units still held)
    coupon_clawed_fen = models.BigIntegerField(default=0)
    coupon_clawed_returned_fen = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sale", "line_no"], name="sale_line_no_unique"),
            models.CheckConstraint(condition=Q(refunded_qty__lte=models.F("quantity")), name="line_refund_max_qty"),
            models.CheckConstraint(
                condition=Q(refunded_amount_fen__gte=0, refunded_amount_fen__lte=models.F("amount_fen")),
                name="line_refund_max_amount",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gte=0, paid_fen__gte=0), name="line_amounts_non_negative"),
            models.CheckConstraint(
                condition=Q(discount_fen__gte=0, discount_fen__lte=models.F("amount_fen")),
                name="line_discount_in_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    coupon_clawed_returned_fen__gte=0, coupon_clawed_returned_fen__lte=models.F("coupon_clawed_fen")
                ),
                name="line_clawback_returned_max",
            ),
        ]


class SalePayment(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    amount_fen = models.BigIntegerField()
    refunded_fen = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_positive"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=models.F("amount_fen")), name="payment_refund_max"),
        ]


class Refund(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="refunds")
    pos_refund_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    amount_fen = models.BigIntegerField()  # line value refunded (money + points value)
    money_fen = models.BigIntegerField()  # money returned to the shopper, by method in `payments`
    payments = models.JSONField(default=dict)
    points_clawed_back = models.BigIntegerField(default=0)
    points_shortfall = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)
    coupon_deduct_fen = models.BigIntegerField(default=0)  # discount lost by the kept goods, kept from the money
    lines = models.JSONField(default=list)  # [{"line_no", "quantity", "amount_fen"}]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sale", "pos_refund_id"], name="refund_pos_id_unique")]
