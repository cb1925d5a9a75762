"""The commerce app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM). Only the
commerce app imports this module (an import-linter contract). Two sections, appended to and never reordered
(docs/design/online-mall.md §13): "stock" (the checkout's allocation and its releases, §4: build step O1) and
"search" (the online mall's product search, §8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection

from galleria.core import sql

from .models import Product, SkuStock

# ================================================================================================= stock
# (§4: allocation in one statement, rows locked in primary-key order; hand-over, release and restock per row)

_STOCK_PG = """
WITH want(id, q) AS (SELECT * FROM unnest(%s::bigint[], %s::int[])),
     locked AS MATERIALIZED (SELECT s.id FROM {table} s JOIN want USING (id) ORDER BY s.id FOR UPDATE OF s)
UPDATE {table} s SET allocated = s.allocated {sign} want.q, updated_at = %s
  FROM want, locked
 WHERE s.id = want.id AND s.id = locked.id AND {condition}
RETURNING s.id"""
_STOCK_ROW = "UPDATE {table} SET allocated = allocated {sign} %s, updated_at = %s WHERE id = %s AND {condition}"
_ALLOCATE = ("+", "s.on_hand - s.allocated >= want.q", "on_hand - allocated >= %s")
_RELEASE = ("-", "s.allocated >= want.q", "allocated >= %s")


@cache
def _stock_sql(vendor: str, kind: tuple[str, str, str]) -> str:
    sign, pg_condition, row_condition = kind
    if vendor == "postgresql":
        return _STOCK_PG.format(table=sql.table(SkuStock), sign=sign, condition=pg_condition)
    return _STOCK_ROW.format(table=sql.table(SkuStock), sign=sign, condition=row_condition)


def _stock_change(kind: tuple[str, str, str], wanted: dict[int, int], at: dt.datetime) -> set[int]:
    """Apply one allocation change to every (stock row id: quantity) of `wanted`; the ids changed come back (a
    row left out had not enough). PostgreSQL: one statement, the rows locked in primary-key order first (so two
    carts over the same rows wait for each other instead of deadlocking); elsewhere one UPDATE per row, in id
    order (SQLite serialises writers anyway; `core.sql.portable_writes_for_tests` forces this form for the parity
    test)."""
    ids = sorted(wanted)
    if not ids:
        return set()
    one_statement = sql.one_statement_writes()  # the portable form on PostgreSQL too in the parity test
    text = _stock_sql("postgresql" if one_statement else "portable", kind)
    with connection.cursor() as cursor:
        if one_statement:
            cursor.execute(text, [ids, [wanted[i] for i in ids], at])
            return {int(row[0]) for row in cursor.fetchall()}
        done: set[int] = set()
        for stock_id in ids:
            cursor.execute(text, [wanted[stock_id], at, stock_id, wanted[stock_id]])
            if cursor.rowcount == 1:
                done.add(stock_id)
        return done


def stock_allocate(*, wanted: dict[int, int], at: dt.datetime) -> set[int]:
    """`allocated += q` on each stock row where `on_hand - allocated >= q` (docs/design/online-mall.md §4). Returns
    the ids allocated; fewer than asked means some were short and the caller rolls the whole placement back."""
    return _stock_change(_ALLOCATE, wanted, at)


def stock_release(*, wanted: dict[int, int], at: dt.datetime) -> set[int]:
    """`allocated -= q` on each stock row where `allocated >= q` (a cancelled or expired order's allocation).
    Returns the ids released; a row left out means the books disagree and the caller rolls back."""
    return _stock_change(_RELEASE, wanted, at)


# ================================================================================================= search

_CARD = "p.id, p.title, p.subtitle, p.merchant_id, p.image_sha, p.min_price_fen, p.max_price_fen, p.sales_30d"


@cache
def _search_sql(vendor: str, n_merchants: int, n_categories: int, price_range: bool) -> str:
    """The search statement. PostgreSQL: the gram GIN (its partial predicate repeated literally, so the planner
    can use it) and the exact `strpos` recheck. SQLite (the demo): `instr` over the group's listed products. The
    open shops come as a list of merchant ids (a handful; as a join the planner could drive the scan from the
    shops and walk each merchant's products instead of asking the gram index)."""
    if vendor == "postgresql":
        match = "galleria_product_grams(p.search_text) @> galleria_product_query(%s) AND strpos(p.search_text, %s) > 0"
        in_title = "strpos(lower(p.title), %s) > 0"
        merchants = "p.merchant_id = ANY(%s)"
    else:
        match = "instr(p.search_text, %s) > 0 AND %s IS NOT NULL"
        in_title = "instr(lower(p.title), %s) > 0"
        merchants = f"p.merchant_id IN ({', '.join(['%s'] * n_merchants)})"
    where = [
        "p.shop = 'online' AND p.status = 'on_sale' AND NOT p.is_blocked",
        "p.mall_group_id = %s",
        match,
        "(p.on_sale_from IS NULL OR p.on_sale_from <= %s) AND (p.on_sale_until IS NULL OR p.on_sale_until > %s)",
        merchants,
    ]
    if n_categories:
        where.append(f"p.category_id IN ({', '.join(['%s'] * n_categories)})")
    if price_range:
        where.append("p.min_price_fen <= %s AND p.max_price_fen >= %s")
    return (
        f"SELECT {_CARD} FROM {sql.table(Product)} p WHERE {' AND '.join(where)}"  # noqa: S608
        f" ORDER BY ({in_title}) DESC, p.sales_30d DESC, p.id DESC LIMIT %s OFFSET %s"
    )


def _merchant_params(merchant_ids: Sequence[int]) -> list[Any]:
    return [list(merchant_ids)] if connection.vendor == "postgresql" else list(merchant_ids)


def product_search(
    *,
    mall_group_id: int,
    query: str,
    at: dt.datetime,
    merchant_ids: Sequence[int],
    category_ids: Sequence[int] = (),
    price_fen: tuple[int, int] | None = None,
    limit: int,
    offset: int,
) -> list[tuple[int, str, str, int, str, int, int, int]]:
    """Card columns of the listed online products whose search text contains `query` (already normalised, not
    empty): products whose title contains it first, then by 30-day sales, then newest. `price_fen` (low, high)
    keeps products with a SKU price in the range; `merchant_ids` are the open shops' (not empty)."""
    params: list[Any] = [mall_group_id, query, query, at, at, *_merchant_params(merchant_ids), *category_ids]
    if price_fen is not None:
        params += [price_fen[1], price_fen[0]]
    params += [query, limit, offset]
    with connection.cursor() as cursor:
        sql_text = _search_sql(connection.vendor, len(merchant_ids), len(category_ids), price_fen is not None)
        cursor.execute(sql_text, params)
        return list(cursor.fetchall())


def search_plan(
    *, mall_group_id: int, query: str, at: dt.datetime, merchant_ids: Sequence[int], analyze: bool = False
) -> str:
    """EXPLAIN (ANALYZE) of a search (PostgreSQL; the bench and a test check that the gram index is used)."""
    params: list[Any] = [mall_group_id, query, query, at, at, *_merchant_params(merchant_ids), query, 21, 0]
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + _search_sql(connection.vendor, len(merchant_ids), 0, False), params)
        return "\n".join(row[0] for row in cursor.fetchall())
