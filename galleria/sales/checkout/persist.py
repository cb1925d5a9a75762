"""Persist: the sale's own rows — the sale, its lines, its payments — in fixed SQL written on every sale.

One data-modifying statement on PostgreSQL (the sale, lines and payments in one CTE), three plain INSERTs
elsewhere (the portable twin; test_sql_parity.py proves both store the same rows); see galleria/sales/sql.py and
docs/performance.md. A duplicate receipt number (merchant, pos_sale_id) is a ConflictError `sale.duplicate`; the
use case then rolls back as a whole (no savepoint)."""

from __future__ import annotations

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from galleria.core import sql
from galleria.core.errors import ConflictError

from .. import sql as sales_sql
from ..models import SaleStatus
from .types import CheckoutContext, Priced


def _is_duplicate_receipt(exc: IntegrityError) -> bool:
    """The receipt number's unique constraint (PostgreSQL names it; SQLite names its columns)."""
    text = str(exc)
    return "sale_pos_id_unique_per_merchant" in text or "sales_sale.merchant_id, sales_sale.pos_sale_id" in text


def _head(ctx: CheckoutContext, member_id: int | None, priced: Priced) -> list[object]:
    data = ctx.data
    mall = ctx.merchant.mall
    return [
        mall.group_id,
        mall.pk,
        ctx.merchant.pk,
        ctx.store.pk,
        data.terminal_id,
        member_id,
        data.pos_sale_id,
        sql.when(data.occurred_at),
        sql.when(ctx.now),
        data.is_offline,
        SaleStatus.COMPLETED,
        priced.total_fen,
        priced.paid_fen,
        priced.points_used,
        priced.points_value_fen,
        priced.points_earned,
        0,
        sql.json_value(priced.explanation),
        priced.discount_fen,
        str(data.channel),
    ]


def persist_sale(ctx: CheckoutContext, *, member_id: int | None, priced: Priced) -> int:
    """Write the sale, its lines and payments; the sale's id."""
    line_rows = [
        (
            i + 1,
            ln.sku[:64],
            ln.name[:120],
            ln.category[:40],
            ln.quantity,
            ln.unit_price_fen,
            ln.amount_fen,
            priced.line_paid_fen[i],
            priced.line_points_spent[i],
            priced.line_points_earned[i],
            0,
            priced.line_discount_fen[i],
            0,
            0,
        )
        for i, ln in enumerate(ctx.data.lines)
    ]
    payment_rows = [(p.method, p.amount_fen, 0) for p in ctx.data.payments]
    try:
        return sales_sql.insert_sale(_head(ctx, member_id, priced), line_rows, payment_rows)
    except IntegrityError as exc:
        if not _is_duplicate_receipt(exc):
            raise
        raise ConflictError(_("This receipt was already recorded."), code="sale.duplicate") from exc
