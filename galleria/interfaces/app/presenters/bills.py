"""Bills (账单): one sale of the member in full — lines, payments, coupons and promotions, points, refunds.

A pay-at-store sale and a WeChat Pay 商圈 (payment-linked) sale have a single line that *is* the bill: the amount
the member paid at the shop. Its quantity means nothing to the member — 1 for pay at store, the amount in fen for a
商圈 payment (so that any refund is whole units, docs/payments.md) — so such a line shows its name and amount only,
and a refund of it as the amount refunded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from galleria.core.money import format_cny
from galleria.coupons.models import CouponRedemption, CouponTemplate, Promotion, RedemptionStatus
from galleria.members.models import Member
from galleria.sales.models import PaymentMethod, Sale
from galleria.sales.types import Channel

from .common import local_naive
from .purchases import PurchaseRow, RefundTotals, _purchase_row

# channels whose one line stands for the whole bill (see the module docstring)
BILL_LINE_CHANNELS = frozenset({Channel.PAY_AT_STORE, Channel.PAYMENT_LINK})
# how the 商圈 channel names its line, counted in fen ("微信支付 ¥128.00 · 喜茶（按 ¥0.01 计）"): not for the member
PER_FEN_NOTE = "（按 ¥0.01 计）"


@dataclass(frozen=True)
class BillLine:
    name: str
    quantity: int
    amount_text: str
    discount_text: str
    refunded_qty: int
    is_bill: bool = False  # the line is the bill: no quantity shown
    refunded_text: str = ""  # of a bill line: the amount refunded so far


def _bill_line(line: Any, *, is_bill: bool) -> BillLine:
    name = line.name.removesuffix(PER_FEN_NOTE).rstrip() if is_bill else line.name
    return BillLine(
        name=name,
        quantity=line.quantity,
        amount_text=format_cny(line.amount_fen),
        discount_text=format_cny(line.discount_fen) if line.discount_fen else "",
        refunded_qty=line.refunded_qty,
        is_bill=is_bill,
        refunded_text=format_cny(line.refunded_amount_fen) if is_bill and line.refunded_amount_fen else "",
    )


@dataclass(frozen=True)
class BillPayment:
    method: str
    amount_text: str
    refunded_text: str
    refunded_fen: int


@dataclass(frozen=True)
class BillDiscount:
    name: str
    is_coupon: bool
    amount_text: str
    reversed: bool


@dataclass(frozen=True)
class BillRefund:
    local_at: dt.datetime
    amount_text: str
    money_text: str
    points_clawed_back: int
    points_returned: int


@dataclass(frozen=True)
class BillDetail:
    row: PurchaseRow
    mall: str
    floor_unit: str
    lines: list[BillLine]
    payments: list[BillPayment]
    discounts: list[BillDiscount]
    refunds: list[BillRefund]


def bill_detail(*, member: Member, sale_id: int, tz_name: str) -> BillDetail | None:
    """The member's own sale (someone else's or an unknown id: None)."""
    sale = (
        Sale.objects.select_related("merchant", "store", "mall")
        .filter(pk=sale_id, member_id=member.pk, mall_group_id=member.mall_group_id)
        .first()
    )
    if sale is None:
        return None
    methods = dict(PaymentMethod.choices)
    lines = [_bill_line(line, is_bill=sale.channel in BILL_LINE_CHANNELS) for line in sale.lines.order_by("line_no")]
    payments = [
        BillPayment(
            method=str(methods.get(p.method, p.method)),
            amount_text=format_cny(p.amount_fen),
            refunded_text=format_cny(p.refunded_fen),
            refunded_fen=p.refunded_fen,
        )
        for p in sale.payments.order_by("pk")
    ]
    redemptions = list(CouponRedemption.objects.filter(sale_id=sale.pk, member_id=member.pk).order_by("pk"))
    template_names = dict(
        CouponTemplate.objects.filter(pk__in={r.template_id for r in redemptions if r.template_id}).values_list(
            "pk", "name"
        )
    )
    promotion_names = dict(
        Promotion.objects.filter(pk__in={r.promotion_id for r in redemptions if r.promotion_id}).values_list(
            "pk", "name"
        )
    )
    discounts = [
        BillDiscount(
            name=template_names.get(r.template_id or 0) or promotion_names.get(r.promotion_id or 0) or "",
            is_coupon=r.coupon_id is not None,
            amount_text=format_cny(r.discount_fen),
            reversed=r.status == RedemptionStatus.REVERSED,
        )
        for r in redemptions
    ]
    sale_refunds = list(sale.refunds.order_by("occurred_at", "pk"))
    refunds = [
        BillRefund(
            local_at=local_naive(r.occurred_at, tz_name),
            amount_text=format_cny(r.amount_fen),
            money_text=format_cny(r.money_fen),
            points_clawed_back=r.points_clawed_back,
            points_returned=r.points_returned,
        )
        for r in sale_refunds
    ]
    return BillDetail(
        row=_purchase_row(sale, tz_name, refund=RefundTotals.of(sale_refunds)),
        mall=sale.mall.name,
        floor_unit=" ".join(x for x in (sale.store.floor, sale.store.unit_no) if x),
        lines=lines,
        payments=payments,
        discounts=discounts,
        refunds=refunds,
    )
