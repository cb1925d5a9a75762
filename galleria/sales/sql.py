"""The sales app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL written on every sale (docs/performance.md): the sale with its lines and payments, one data-modifying
statement on PostgreSQL and three plain INSERTs elsewhere (galleria/sales/tests/test_sql_parity.py proves both store
the same rows). Only the sales app imports this module (an import-linter contract)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from galleria.core import sql

from .models import Refund, Sale, SaleLine, SalePayment

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


# ------------------------------------------------------------------------------------- audience (segments, profiles)
# Fragments the audience app embeds (core.sql.Fragment): what members bought, read from the sales alone. Shopping
# means every channel but the mall's own services (parking fees, points-mall exchanges, event tickets), and a fully
# refunded sale is no purchase; spend is the sale's total less what was refunded (docs/marketing.md).
NOT_SHOPPING = ("parking", "points_mall", "event", "amenity")


def _shopping_where(alias: str) -> str:
    return (
        f"{alias}.mall_group_id = %s AND {alias}.member_id IS NOT NULL AND {alias}.status <> 'refunded'"
        f" AND {alias}.channel NOT IN ({sql.placeholders(len(NOT_SHOPPING))})"
    )


def _members_filter(alias: str, member_ids: Sequence[int] | None) -> tuple[str, list[object]]:
    if member_ids is None:
        return "", []
    return f" AND {alias}.member_id IN ({sql.placeholders(len(member_ids))})", list(member_ids)


def _merchant_table() -> str:
    return sql.table(Sale._meta.get_field("merchant").related_model)


def member_facts(
    *,
    mall_group_id: int,
    window_since: object,
    days90_since: object,
    tz_param: str,
    member_ids: Sequence[int] | None,
) -> sql.Fragment:
    """Per member who bought: member_id, first_at, last_at, sales, spend (lifetime); sales_w, spend_w, discounted_w,
    evening_w (18:00–22:59 local), weekend_w (Saturday, Sunday local) in the window; visit_days_90 (distinct local
    days with a purchase in the last 90 days)."""
    local = sql.local_time("s.occurred_at")
    hour, weekday, day = sql.hour_of(local), sql.weekday_of(local), sql.date_of(local)
    spend = "s.total_fen - s.refunded_fen"
    members, member_params = _members_filter("s", member_ids)
    text = (
        f"SELECT s.member_id AS member_id, MIN(s.occurred_at) AS first_at, MAX(s.occurred_at) AS last_at,"  # noqa: S608
        f" COUNT(*) AS sales, SUM({spend}) AS spend,"
        f" SUM(CASE WHEN s.occurred_at >= %s THEN 1 ELSE 0 END) AS sales_w,"
        f" SUM(CASE WHEN s.occurred_at >= %s THEN {spend} ELSE 0 END) AS spend_w,"
        f" SUM(CASE WHEN s.occurred_at >= %s AND s.discount_fen > 0 THEN 1 ELSE 0 END) AS discounted_w,"
        f" SUM(CASE WHEN s.occurred_at >= %s AND {hour} BETWEEN 18 AND 22 THEN 1 ELSE 0 END) AS evening_w,"
        f" SUM(CASE WHEN s.occurred_at >= %s AND {weekday} IN (0, 6) THEN 1 ELSE 0 END) AS weekend_w,"
        f" COUNT(DISTINCT CASE WHEN s.occurred_at >= %s THEN {day} END) AS visit_days_90"
        f" FROM {sql.table(Sale)} s WHERE {_shopping_where('s')}{members} GROUP BY s.member_id"
    )
    w = sql.when(window_since)
    params = [w, w, w, w, tz_param, w, tz_param, sql.when(days90_since), tz_param]
    params += [mall_group_id, *NOT_SHOPPING, *member_params]
    return sql.Fragment(text, tuple(params))


def member_previous_purchase(*, mall_group_id: int, member_ids: Sequence[int] | None) -> sql.Fragment:
    """Per member with two purchases or more: member_id, prev_at (the latest purchase before the last one)."""
    members, member_params = _members_filter("s", member_ids)
    inner_members, inner_params = _members_filter("l", member_ids)
    text = (
        f"SELECT s.member_id AS member_id, MAX(s.occurred_at) AS prev_at FROM {sql.table(Sale)} s"  # noqa: S608
        f" JOIN (SELECT l.member_id, MAX(l.occurred_at) AS last_at FROM {sql.table(Sale)} l"
        f" WHERE {_shopping_where('l')}{inner_members} GROUP BY l.member_id) t"
        f" ON t.member_id = s.member_id AND s.occurred_at < t.last_at"
        f" WHERE {_shopping_where('s')}{members} GROUP BY s.member_id"
    )
    params = [mall_group_id, *NOT_SHOPPING, *inner_params, mall_group_id, *NOT_SHOPPING, *member_params]
    return sql.Fragment(text, tuple(params))


def member_favourite(*, mall_group_id: int, since: object, by: str, member_ids: Sequence[int] | None) -> sql.Fragment:
    """Per member who bought since `since`: member_id, favourite — the merchant id (`by="merchant"`), the merchant
    category (`by="category"`) or the channel (`by="channel"`) of most purchases (ties: more spend, then the
    smaller value)."""
    column = {"merchant": "s.merchant_id", "category": "m.category", "channel": "s.channel"}[by]
    join = f" JOIN {_merchant_table()} m ON m.id = s.merchant_id" if by == "category" else ""
    members, member_params = _members_filter("s", member_ids)
    text = (
        f"SELECT member_id, favourite FROM (SELECT s.member_id AS member_id, {column} AS favourite,"  # noqa: S608
        f" ROW_NUMBER() OVER (PARTITION BY s.member_id"
        f" ORDER BY COUNT(*) DESC, SUM(s.total_fen - s.refunded_fen) DESC, {column}) AS rn"
        f" FROM {sql.table(Sale)} s{join} WHERE {_shopping_where('s')} AND s.occurred_at >= %s{members}"
        f" GROUP BY s.member_id, {column}) ranked WHERE rn = 1"
    )
    params = [mall_group_id, *NOT_SHOPPING, sql.when(since), *member_params]
    return sql.Fragment(text, tuple(params))


def members_by_window(
    *,
    mall_group_id: int,
    since: object,
    measure: str,
    merchant_ids: Sequence[int] = (),
    categories: Sequence[str] = (),
    low: int | None,
    high: int | None,
) -> sql.Fragment:
    """Members whose spend (fen, `measure="spend"`) or number of purchases (`"visits"`) since `since` — at these
    merchants / in these categories when given — is within [low, high] (either bound may be open). Members with
    nothing in the window are not in it (their value is 0: the caller asks for "above" and negates)."""
    value = "SUM(s.total_fen - s.refunded_fen)" if measure == "spend" else "COUNT(*)"
    where = [_shopping_where("s"), "s.occurred_at >= %s"]
    params: list[object] = [mall_group_id, *NOT_SHOPPING, sql.when(since)]
    join = ""
    if merchant_ids:
        where.append(f"s.merchant_id IN ({sql.placeholders(len(merchant_ids))})")
        params += list(merchant_ids)
    if categories:
        join = f" JOIN {_merchant_table()} m ON m.id = s.merchant_id"
        where.append(f"m.category IN ({sql.placeholders(len(categories))})")
        params += list(categories)
    having = []
    if low is not None:
        having.append(f"{value} >= %s")
        params.append(low)
    if high is not None:
        having.append(f"{value} <= %s")
        params.append(high)
    text = (
        f"SELECT s.member_id AS member_id FROM {sql.table(Sale)} s{join} WHERE {' AND '.join(where)}"  # noqa: S608
        f" GROUP BY s.member_id" + (f" HAVING {' AND '.join(having)}" if having else "")
    )
    return sql.Fragment(text, tuple(params))


def sales_by_hour(*, mall_group_id: int, since: object, tz_param: str, members: sql.Fragment) -> list[tuple[int, int]]:
    """(local hour, purchases) of these members since `since` (a persona's active hours)."""
    return _sales_by_local(sql.hour_of, mall_group_id=mall_group_id, since=since, tz_param=tz_param, members=members)


def sales_by_weekday(
    *, mall_group_id: int, since: object, tz_param: str, members: sql.Fragment
) -> list[tuple[int, int]]:
    """(local weekday 0 = Sunday, purchases) of these members since `since`."""
    return _sales_by_local(sql.weekday_of, mall_group_id=mall_group_id, since=since, tz_param=tz_param, members=members)


def _sales_by_local(
    part: Callable[[str], str], *, mall_group_id: int, since: object, tz_param: str, members: sql.Fragment
) -> list[tuple[int, int]]:
    key = part(sql.local_time("s.occurred_at"))
    text = (
        f"SELECT {key} AS k, COUNT(*) FROM {sql.table(Sale)} s WHERE {_shopping_where('s')}"  # noqa: S608
        f" AND s.occurred_at >= %s AND s.member_id IN ({members.text}) GROUP BY 1 ORDER BY 1"
    )
    params = [tz_param, mall_group_id, *NOT_SHOPPING, sql.when(since), *members.params]
    return [(int(k), int(n)) for k, n in sql.plain_rows(text, params)]


def spend_by(
    *, mall_group_id: int, since: object, by: str, members: sql.Fragment, limit: int
) -> list[tuple[str, int, int]]:
    """(merchant id or category, purchases, spend fen) of these members since `since`, most spend first."""
    column = "CAST(s.merchant_id AS TEXT)" if by == "merchant" else "m.category"
    join = f" JOIN {_merchant_table()} m ON m.id = s.merchant_id" if by == "category" else ""
    text = (
        f"SELECT {column}, COUNT(*), SUM(s.total_fen - s.refunded_fen) FROM {sql.table(Sale)} s{join}"  # noqa: S608
        f" WHERE {_shopping_where('s')} AND s.occurred_at >= %s AND s.member_id IN ({members.text})"
        f" GROUP BY 1 ORDER BY 3 DESC LIMIT %s"
    )
    params = [mall_group_id, *NOT_SHOPPING, sql.when(since), *members.params, limit]
    return [(str(k), int(n), int(fen or 0)) for k, n, fen in sql.plain_rows(text, params)]


def last_sale_id(*, after_id: int, created_before: object) -> int:
    """The largest sale id above `after_id` of a sale written before `created_before` (`after_id` when none): reads
    the new ids only (primary key range)."""
    text = f"SELECT MAX(id) FROM {sql.table(Sale)} WHERE id > %s AND created_at < %s"  # noqa: S608
    found = sql.plain_rows(text, [after_id, sql.when(created_before)])
    return int(found[0][0] or after_id) if found else after_id


def members_with_sales_after(*, after_id: int, up_to_id: int) -> list[int]:
    """The members of the sales with after_id < id ≤ up_to_id (any status: a refund changes the facts too)."""
    text = (
        f"SELECT DISTINCT member_id FROM {sql.table(Sale)} WHERE id > %s AND id <= %s"  # noqa: S608
        " AND member_id IS NOT NULL"
    )
    return [int(m) for (m,) in sql.plain_rows(text, [after_id, up_to_id])]


def spend_of_members(*, members: sql.Fragment, since: object, until: object) -> list[tuple[int, int, int]]:
    """(member id, purchases, spend fen) of these members' shopping in [since, until) — members without a purchase
    are not listed (a campaign's report: each arm's spend per member)."""
    text = (
        f"SELECT s.member_id, COUNT(*), SUM(s.total_fen - s.refunded_fen) FROM {sql.table(Sale)} s"  # noqa: S608
        f" WHERE s.member_id IN ({members.text}) AND s.occurred_at >= %s AND s.occurred_at < %s"
        f" AND s.status <> 'refunded' AND s.channel NOT IN ({sql.placeholders(len(NOT_SHOPPING))}) GROUP BY s.member_id"
    )
    params = [*members.params, sql.when(since), sql.when(until), *NOT_SHOPPING]
    return [(int(m), int(n), int(fen or 0)) for m, n, fen in sql.plain_rows(text, params)]


# ------------------------------------------------------------------------------------------ analytics (daily rollups)
# The analytics app keeps daily rollups of the sales; it reads them here. A sale counts on its own (mall-local) day
# with its full total whatever happened later; a refund counts on the refund's day (gross − refunds = net), so a
# refund never rewrites a past day's figures.


def last_refund_id(*, after_id: int, created_before: object) -> int:
    """The largest refund id above `after_id` of a refund written before `created_before` (`after_id` when none)."""
    text = f"SELECT MAX(id) FROM {sql.table(Refund)} WHERE id > %s AND created_at < %s"  # noqa: S608
    found = sql.plain_rows(text, [after_id, sql.when(created_before)])
    return int(found[0][0] or after_id) if found else after_id


def sales_touched(*, after_id: int, up_to_id: int) -> list[tuple[int, object]]:
    """(mall id, sold at) of the sales with after_id < id ≤ up_to_id."""
    text = f"SELECT mall_id, occurred_at FROM {sql.table(Sale)} WHERE id > %s AND id <= %s"  # noqa: S608
    return [(int(m), sql.read_when(at)) for m, at in sql.plain_rows(text, [after_id, up_to_id])]


def refunds_touched(*, after_id: int, up_to_id: int) -> list[tuple[int, object]]:
    """(mall id of the sale, refunded at) of the refunds with after_id < id ≤ up_to_id."""
    text = (
        f"SELECT s.mall_id, r.occurred_at FROM {sql.table(Refund)} r JOIN {sql.table(Sale)} s ON s.id = r.sale_id"  # noqa: S608
        " WHERE r.id > %s AND r.id <= %s"
    )
    return [(int(m), sql.read_when(at)) for m, at in sql.plain_rows(text, [after_id, up_to_id])]


def sales_rollup(*, mall_id: int, since: object, until: object) -> list[tuple[int, ...]]:
    """(merchant id, channel, is member, sales, gross, discount, points value, money, points earned, points used,
    distinct members) of one mall's sales sold in [since, until), whatever their status now."""
    text = (
        "SELECT merchant_id, channel, CASE WHEN member_id IS NULL THEN 0 ELSE 1 END AS m, COUNT(*), SUM(total_fen),"  # noqa: S608
        " SUM(discount_fen), SUM(points_value_fen), SUM(paid_fen), SUM(points_earned), SUM(points_used),"
        f" COUNT(DISTINCT member_id) FROM {sql.table(Sale)}"
        " WHERE mall_id = %s AND occurred_at >= %s AND occurred_at < %s GROUP BY merchant_id, channel, m"
    )
    return [tuple(row) for row in sql.plain_rows(text, [mall_id, sql.when(since), sql.when(until)])]


def refunds_rollup(*, mall_ids: Sequence[int], since: object, until: object) -> list[tuple[object, ...]]:
    """(mall id, refunded at, merchant id, channel, is member, amount) of the refunds made in [since, until) of
    these malls' sales."""
    text = (
        "SELECT s.mall_id, r.occurred_at, s.merchant_id, s.channel, CASE WHEN s.member_id IS NULL THEN 0 ELSE 1 END,"  # noqa: S608
        f" r.amount_fen FROM {sql.table(Refund)} r JOIN {sql.table(Sale)} s ON s.id = r.sale_id"
        f" WHERE s.mall_id IN ({sql.placeholders(len(mall_ids))}) AND r.occurred_at >= %s AND r.occurred_at < %s"
    )
    params = [*mall_ids, sql.when(since), sql.when(until)]
    return [(int(m), sql.read_when(at), *rest) for m, at, *rest in sql.plain_rows(text, params)]


def first_sale_at(*, mall_id: int) -> object | None:
    """When the mall's first sale was sold (None without sales)."""
    found = sql.plain_rows(f"SELECT MIN(occurred_at) FROM {sql.table(Sale)} WHERE mall_id = %s", [mall_id])  # noqa: S608
    return sql.read_when(found[0][0]) if found and found[0][0] is not None else None


# ------------------------------------------------------------------------------------ recommendations (training)
# The recommendations app trains on who bought where (docs/recommendations.md): shopping only, read in id order.


def purchases_for_training(
    *, mall_group_id: int, since: object, until: object, after_id: int, limit: int
) -> list[tuple[int, int, int, object, int]]:
    """(sale id, member id, merchant id, sold at, total fen) of the group's members' shopping sold in
    [since, until) with id > after_id, by id, at most `limit` rows (a keyset page)."""
    text = (
        f"SELECT s.id, s.member_id, s.merchant_id, s.occurred_at, s.total_fen FROM {sql.table(Sale)} s"  # noqa: S608
        f" WHERE {_shopping_where('s')} AND s.occurred_at >= %s AND s.occurred_at < %s AND s.id > %s"
        " ORDER BY s.id LIMIT %s"
    )
    params = [mall_group_id, *NOT_SHOPPING, sql.when(since), sql.when(until), after_id, limit]
    return [(int(i), int(m), int(mer), sql.read_when(at), int(t)) for i, m, mer, at, t in sql.plain_rows(text, params)]


def member_recent_merchants(*, member_id: int, since: object, limit: int) -> list[tuple[int, int, object]]:
    """(merchant id, purchases, last sold at) of one member's shopping since `since`, most purchases first."""
    text = (
        f"SELECT s.merchant_id, COUNT(*), MAX(s.occurred_at) FROM {sql.table(Sale)} s"  # noqa: S608
        " WHERE s.member_id = %s AND s.occurred_at >= %s AND s.status <> 'refunded'"
        f" AND s.channel NOT IN ({sql.placeholders(len(NOT_SHOPPING))})"
        " GROUP BY s.merchant_id ORDER BY COUNT(*) DESC, MAX(s.occurred_at) DESC LIMIT %s"
    )
    params = [member_id, sql.when(since), *NOT_SHOPPING, limit]
    return [(int(m), int(n), sql.read_when(at)) for m, n, at in sql.plain_rows(text, params)]
