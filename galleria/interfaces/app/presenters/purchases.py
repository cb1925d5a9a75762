"""Purchases: the member's sales with merchant, amounts, points earned and used, status, and what refunds took back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Sum

from galleria.core.money import format_cny
from galleria.members.models import Member
from galleria.sales.models import Refund, Sale, SaleStatus
from galleria.sales.selectors import sale_list

from .common import PAGE_SIZE, Paging, local_naive, paging_of


@dataclass(frozen=True)
class PurchaseRow:
    id: int
    merchant: str
    store: str
    occurred_at: dt.datetime
    local_at: dt.datetime
    receipt: str
    total_fen: int
    paid_fen: int
    points_earned: int
    points_used: int
    points_value_fen: int
    refunded_fen: int
    status: str
    status_label: str
    discount_fen: int = 0
    points_reversed: int = 0  # earned points the refunds took back from the balance
    points_returned: int = 0  # points paid with that the refunds gave back
    refunded_money_fen: int = 0  # money the refunds paid back (refunded_fen is the goods' value: money + points)

    @property
    def net_points(self) -> int:
        """What the purchase earned once its refunds are taken into account."""
        return self.points_earned - self.points_reversed

    @property
    def discount_text(self) -> str:
        return format_cny(self.discount_fen)

    @property
    def total_text(self) -> str:
        return format_cny(self.total_fen)

    @property
    def paid_text(self) -> str:
        return format_cny(self.paid_fen)

    @property
    def points_value_text(self) -> str:
        return format_cny(self.points_value_fen)

    @property
    def refunded_text(self) -> str:
        return format_cny(self.refunded_fen)

    @property
    def refunded_money_text(self) -> str:
        return format_cny(self.refunded_money_fen)


@dataclass(frozen=True)
class RefundTotals:
    """What all the refunds of one sale did for the member."""

    points_back: int = 0  # earned points taken back
    points_returned: int = 0  # points paid with, given back
    money_fen: int = 0  # money paid back

    @classmethod
    def of(cls, refunds: Iterable[Refund]) -> RefundTotals:
        items = list(refunds)
        return cls(
            points_back=sum(r.points_clawed_back for r in items),
            points_returned=sum(r.points_returned for r in items),
            money_fen=sum(r.money_fen for r in items),
        )


NO_REFUND = RefundTotals()


def refund_totals(sale_ids: Iterable[int]) -> dict[int, RefundTotals]:
    """sale id → what its refunds took back and paid back, for many sales in one query."""
    ids = list(sale_ids)
    if not ids:
        return {}
    rows = (
        Refund.objects.filter(sale_id__in=ids)
        .values("sale_id")
        .annotate(back=Sum("points_clawed_back"), returned=Sum("points_returned"), money=Sum("money_fen"))
        .order_by()
    )
    return {
        r["sale_id"]: RefundTotals(int(r["back"] or 0), int(r["returned"] or 0), int(r["money"] or 0)) for r in rows
    }


def _rows(sales: Iterable[Sale], tz_name: str) -> list[PurchaseRow]:
    sales = list(sales)
    refunds = refund_totals(s.pk for s in sales if s.refunded_fen)  # a query only when a sale was refunded
    return [_purchase_row(s, tz_name, refund=refunds.get(s.pk, NO_REFUND)) for s in sales]


def _purchase_row(sale: Sale, tz_name: str, *, refund: RefundTotals = NO_REFUND) -> PurchaseRow:
    return PurchaseRow(
        id=sale.pk,
        merchant=sale.merchant.name,
        store=sale.store.name,
        occurred_at=sale.occurred_at,
        local_at=local_naive(sale.occurred_at, tz_name),
        receipt=sale.pos_sale_id,
        total_fen=sale.total_fen,
        paid_fen=sale.paid_fen,
        points_earned=sale.points_earned,
        points_used=sale.points_used,
        points_value_fen=sale.points_value_fen,
        refunded_fen=sale.refunded_fen,
        status=sale.status,
        status_label=str(SaleStatus(sale.status).label) if sale.status in SaleStatus.values else sale.status,
        discount_fen=sale.discount_fen,
        points_reversed=refund.points_back,
        points_returned=refund.points_returned,
        refunded_money_fen=refund.money_fen,
    )


def purchases(
    *, member: Member, tz_name: str, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[PurchaseRow], Paging]:
    qs = sale_list(member_id=member.pk, mall_group_id=member.mall_group_id).select_related("store")
    page_obj = Paginator(qs, page_size).get_page(page)
    return _rows(page_obj.object_list, tz_name), paging_of(page_obj)


def recent_purchases(*, member: Member, tz_name: str, limit: int = 3) -> list[PurchaseRow]:
    qs = sale_list(member_id=member.pk, mall_group_id=member.mall_group_id).select_related("store")[:limit]
    return _rows(qs, tz_name)
