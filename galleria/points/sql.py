"""The points app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL on the checkout path of a member's sale (docs/performance.md): what already counts toward the daily cap
of points earned (one aggregate over the member's points legs; the legs are the ledger's, so points.selectors hands
over the ledger's models as it reads them through its ORM query), and a behaviour award claimed once per (member,
event, occasion) by its unique constraint in one statement, then linked to its posting; and points paid with drawn
from the member's lots: the open lots read in one statement, then the lots' new remaining points with the movements
that record them in one more on PostgreSQL (a data-modifying CTE), or an UPDATE per lot and one INSERT elsewhere
(the portable twin: galleria/points/tests/test_sql.py runs both on PostgreSQL and compares the rows). Only the points
app imports this module (an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import models

from galleria.core import sql

from .models import BehaviourAward, LotMovement, PointsLot

Window = tuple[dt.datetime, dt.datetime]


@cache
def _earned_sql(entry: type[models.Model], account: type[models.Model], transaction: type[models.Model]) -> str:
    return (
        "SELECT SUM(CASE WHEN e.occurred_at >= %s AND e.occurred_at < %s THEN e.amount END),"  # noqa: S608
        " SUM(CASE WHEN t.created_at >= %s AND t.created_at < %s THEN e.amount END)"
        f" FROM {sql.table(entry)} e JOIN {sql.table(account)} a ON a.id = e.account_id"
        f" JOIN {sql.table(transaction)} t ON t.id = e.transaction_id"
        " WHERE a.member_id = %s AND a.kind = %s AND t.kind = %s AND e.occurred_at >= %s"
        " AND ((e.occurred_at >= %s AND e.occurred_at < %s) OR (t.created_at >= %s AND t.created_at < %s))"
    )


def earned_by_day(
    *,
    ledger_models: tuple[type[models.Model], type[models.Model], type[models.Model]],
    member_id: int,
    account_kind: str,
    transaction_kind: str,
    since: dt.datetime,
    sale_day: Window,
    credit_day: Window,
) -> tuple[int, int]:
    """The member's legs on their `account_kind` account in transactions of `transaction_kind` dated from `since`:
    (the sum of those dated within `sale_day`, the sum of those whose transaction was created within `credit_day`).
    `ledger_models` are the ledger's (Entry, Account, Transaction)."""
    sale = [sql.when(sale_day[0]), sql.when(sale_day[1])]
    credit = [sql.when(credit_day[0]), sql.when(credit_day[1])]
    row = sql.one(
        _earned_sql(*ledger_models),
        [*sale, *credit, member_id, account_kind, transaction_kind, sql.when(since), *sale, *credit],
    )
    if row is None:
        return 0, 0
    return int(row[0] or 0), int(row[1] or 0)


@cache
def _award_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(BehaviourAward)} (member_id, event, occasion, points, local_date, created_at)"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
    )


def award_claim(
    *, member_id: int, event: str, occasion: str, points: int, local_date: dt.date, at: dt.datetime
) -> int | None:
    """Write the award row; its id, or None when (member, event, occasion) was already awarded (after the
    transaction that awarded it, if in flight, commits: the unique constraint decides)."""
    row = sql.one(_award_insert_sql(), [member_id, event, occasion, points, sql.day(local_date), sql.when(at)])
    return None if row is None else int(row[0])


@cache
def _award_link_sql() -> str:
    return f"UPDATE {sql.table(BehaviourAward)} SET transaction_id = %s WHERE id = %s"  # noqa: S608


def award_link(award_id: int, transaction_id: int | None) -> None:
    """Link the award to the ledger transaction that credited it."""
    sql.execute(_award_link_sql(), [transaction_id, award_id])


@cache
def _open_lots_sql() -> str:
    return (
        f"SELECT {sql.select_list(PointsLot)} FROM {sql.table(PointsLot)}"  # noqa: S608
        " WHERE member_id = %s AND remaining > 0 ORDER BY expires_on, id"
    )


def open_lots(member_id: int) -> list[PointsLot]:
    """`PointsLot.objects.filter(member_id=…, remaining__gt=0).order_by("expires_on", "id")` as fixed SQL (every
    sale paid with points reads them; the member's points account is locked, which guards them)."""
    return sql.instances(PointsLot, _open_lots_sql(), [member_id])


@cache
def _consume_pg_sql(n: int) -> str:
    takes = ", ".join(["(%s::bigint, %s::bigint)"] * n)
    movements = ", ".join(["(%s, %s, %s)"] * n)
    return (
        f"WITH u AS (UPDATE {sql.table(PointsLot)} l SET remaining = l.remaining - v.take"  # noqa: S608
        f" FROM (VALUES {takes}) AS v (id, take) WHERE l.id = v.id)"
        f" INSERT INTO {sql.table(LotMovement)} (lot_id, transaction_id, points) VALUES {movements}"
    )


@cache
def _take_sql() -> str:
    return f"UPDATE {sql.table(PointsLot)} SET remaining = remaining - %s WHERE id = %s"  # noqa: S608


@cache
def _movements_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s)"] * n)
    return f"INSERT INTO {sql.table(LotMovement)} (lot_id, transaction_id, points) VALUES {values}"  # noqa: S608


def lots_consume(transaction_id: int, plan: list[tuple[int, int]]) -> None:
    """Take (lot id, points) from each lot and record the movements (−points) of `transaction_id`, in plan order:
    one statement on PostgreSQL, an UPDATE per lot and one INSERT elsewhere."""
    if not plan:
        return
    movements: list[object] = []
    for lot_id, take in plan:
        movements += [lot_id, transaction_id, -take]
    if sql.one_statement_writes():
        takes: list[object] = [x for pair in plan for x in pair]
        sql.execute(_consume_pg_sql(len(plan)), [*takes, *movements])
        return
    for lot_id, take in plan:
        sql.execute(_take_sql(), [take, lot_id])
    sql.execute(_movements_sql(len(plan)), movements)
