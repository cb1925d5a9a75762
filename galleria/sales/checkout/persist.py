"""Persist: the sale's own rows — the sale, its lines, its payments — in fixed SQL written on every sale.

One data-modifying statement on PostgreSQL (the sale, lines and payments in one CTE), three plain INSERTs
elsewhere (the portable twin; test_sql_parity.py proves both store the same rows); see galleria/core/sql.py and
docs/performance.md. A duplicate receipt number (merchant, pos_sale_id) is a ConflictError `sale.duplicate`; the
use case then rolls back as a whole (no savepoint)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from galleria.core import sql
from galleria.core.errors import ConflictError

from ..models import Sale, SaleLine, SalePayment, SaleStatus
from .types import CheckoutContext, Priced

_LINE_COLUMNS = (
    "line_no, sku, name, category, quantity, unit_price_fen, amount_fen, paid_fen, points_spent, points_earned,"
    " refunded_qty, discount_fen, coupon_clawed_fen, coupon_clawed_returned_fen"
)


@cache
def _sale_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(Sale)} (mall_group_id, mall_id, merchant_id, store_id, terminal_id, member_id,"  # noqa: S608
        " pos_sale_id, occurred_at, created_at, is_offline, status, total_fen, paid_fen, points_used,"
        " points_value_fen, points_earned, refunded_fen, earn_explanation, discount_fen, channel)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        f" {sql.json_placeholder()}, %s, %s) RETURNING id"
    )


@cache
def _lines_insert_sql(n: int) -> str:
    values = ", ".join(["(" + ", ".join(["%s"] * 15) + ")"] * n)
    return f"INSERT INTO {sql.table(SaleLine)} (sale_id, {_LINE_COLUMNS}) VALUES {values}"  # noqa: S608


@cache
def _payments_insert_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s)"] * n)
    return f"INSERT INTO {sql.table(SalePayment)} (sale_id, method, amount_fen, refunded_fen) VALUES {values}"  # noqa: S608


@cache
def _sale_pg_sql(n_lines: int, n_payments: int) -> str:
    line = "(%s::int, %s::text, %s::text, %s::text, %s::int, %s::bigint, %s::bigint, %s::bigint, %s::bigint,"
    line += " %s::bigint, %s::int, %s::bigint, %s::bigint, %s::bigint)"
    parts = [f"WITH s AS ({_sale_insert_sql()})"]
    if n_lines:
        parts.append(
            f", l AS (INSERT INTO {sql.table(SaleLine)} (sale_id, {_LINE_COLUMNS})"  # noqa: S608
            f" SELECT s.id, v.* FROM s, (VALUES {', '.join([line] * n_lines)}) AS v)"
        )
    if n_payments:
        payment = "(%s::text, %s::bigint, %s::bigint)"
        parts.append(
            f", p AS (INSERT INTO {sql.table(SalePayment)} (sale_id, method, amount_fen, refunded_fen)"  # noqa: S608
            f" SELECT s.id, v.* FROM s, (VALUES {', '.join([payment] * n_payments)}) AS v)"
        )
    parts.append(" SELECT id FROM s")
    return "".join(parts)


def _is_duplicate_receipt(exc: IntegrityError) -> bool:
    """The receipt number's unique constraint (PostgreSQL names it; SQLite names its columns)."""
    text = str(exc)
    return "sale_pos_id_unique_per_merchant" in text or "sales_sale.merchant_id, sales_sale.pos_sale_id" in text


def _write(head: list[object], lines: Sequence[tuple[object, ...]], payments: Sequence[tuple[object, ...]]) -> int:
    if sql.one_statement_writes():
        params = [*head, *(v for row in lines for v in row), *(v for row in payments for v in row)]
        inserted = sql.one(_sale_pg_sql(len(lines), len(payments)), params)
        assert inserted is not None
        return int(inserted[0])
    inserted = sql.one(_sale_insert_sql(), head)
    assert inserted is not None
    sale_id = int(inserted[0])
    if lines:
        sql.execute(_lines_insert_sql(len(lines)), [v for row in lines for v in (sale_id, *row)])
    if payments:  # a sale paid wholly with points has none
        sql.execute(_payments_insert_sql(len(payments)), [v for row in payments for v in (sale_id, *row)])
    return sale_id


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
        return _write(_head(ctx, member_id, priced), line_rows, payment_rows)
    except IntegrityError as exc:
        if not _is_duplicate_receipt(exc):
            raise
        raise ConflictError(_("This receipt was already recorded."), code="sale.duplicate") from exc
