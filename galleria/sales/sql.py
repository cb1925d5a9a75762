"""The sales app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL written on every sale (docs/performance.md): the sale with its lines and payments, one data-modifying
statement on PostgreSQL and three plain INSERTs elsewhere (galleria/sales/tests/test_sql_parity.py proves both store
the same rows). Only the sales app imports this module (an import-linter contract)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from galleria.core import sql

from .models import Sale, SaleLine, SalePayment

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


def insert_sale(head: list[object], lines: Sequence[tuple[object, ...]], payments: Sequence[tuple[object, ...]]) -> int:
    """Write a sale (`head`: the columns of `_sale_insert_sql` in order, backend values), its lines and payments
    (rows without the sale id); the sale's id. One statement on PostgreSQL, three elsewhere."""
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


@cache
def _bought_before_sql() -> str:
    return f"SELECT 1 FROM {sql.table(Sale)} WHERE member_id = %s AND merchant_id = %s AND id <> %s LIMIT 1"  # noqa: S608


def member_bought_at_merchant(*, member_id: int, merchant_id: int, other_than: int) -> bool:
    """Whether the member has a sale at the merchant other than `other_than` (any status): the first-purchase
    award's check, on every member's sale when the group has that rule."""
    return sql.one(_bought_before_sql(), [member_id, merchant_id, other_than]) is not None
