"""Purchases: the member's sales with merchant, amounts, points earned and used, status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator

from galleria.core.money import format_cny
from galleria.members.models import Member
from galleria.sales.models import Sale, SaleStatus
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


def _purchase_row(sale: Sale, tz_name: str) -> PurchaseRow:
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
    )


def purchases(
    *, member: Member, tz_name: str, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[PurchaseRow], Paging]:
    qs = sale_list(member_id=member.pk, mall_group_id=member.mall_group_id).select_related("store")
    page_obj = Paginator(qs, page_size).get_page(page)
    return [_purchase_row(s, tz_name) for s in page_obj.object_list], paging_of(page_obj)


def recent_purchases(*, member: Member, tz_name: str, limit: int = 3) -> list[PurchaseRow]:
    qs = sale_list(member_id=member.pk, mall_group_id=member.mall_group_id).select_related("store")[:limit]
    return [_purchase_row(s, tz_name) for s in qs]
