"""The tier engine's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL for the checkout path (docs/performance.md): the member's tier row is locked on every sale, created with
its `join` change on a member's first sale, and the spend row is written with the upgrade check's window sum in one
statement on PostgreSQL (separate portable statements elsewhere; galleria/sales/tests/test_sql_parity.py). Only the
tiers app imports this module (an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache

from django.db import connection

from galleria.core import sql

from .models import MemberTier, TierChange, TierSpend


@cache
def _lock_member_tier_sql() -> str:
    return (
        f"SELECT {sql.select_list(MemberTier)} FROM {sql.table(MemberTier)}"  # noqa: S608
        f" WHERE member_id = %s{sql.for_update()}"
    )


def lock_member_tier(member_id: int) -> MemberTier | None:
    """`lock_rows(MemberTier.objects.filter(member_id=…))` as fixed SQL: it runs on every sale of a member."""
    if not connection.in_atomic_block:
        raise RuntimeError("the member's tier row can only be locked inside transaction.atomic()")
    rows = sql.instances(MemberTier, _lock_member_tier_sql(), [member_id])
    return rows[0] if rows else None


@cache
def _member_tier_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(MemberTier)} (member_id, level_id, since)"  # noqa: S608
        f" VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING {sql.select_list(MemberTier)}"
    )


@cache
def _join_change_columns() -> str:
    return "member_id, from_level_id, to_level_id, reason, note, actor_label, at"


@cache
def _join_change_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(TierChange)} ({_join_change_columns()})"  # noqa: S608
        " VALUES (%s, NULL, %s, %s, '', %s, %s)"
    )


@cache
def _member_tier_open_pg_sql() -> str:
    """PostgreSQL: the row and its `join` change in one statement (no change when the row already existed)."""
    return (
        f"WITH r AS ({_member_tier_insert_sql()}),"  # noqa: S608
        f" c AS (INSERT INTO {sql.table(TierChange)} ({_join_change_columns()})"
        " SELECT r.member_id, NULL, r.level_id, %s, '', %s, %s FROM r)"
        f" SELECT {sql.select_list(MemberTier, 'r')} FROM r"
    )


def open_member_tier(
    *, member_id: int, level_id: int, reason: str, actor_label: str, at: dt.datetime
) -> MemberTier | None:
    """Create the member's tier row at `level_id` with its change (reason `join`); None when another transaction
    created it meanwhile (the caller then locks that one). The row this transaction inserts needs no lock."""
    when = sql.when(at)
    if sql.one_statement_writes():
        rows = sql.instances(
            MemberTier, _member_tier_open_pg_sql(), [member_id, level_id, when, reason, actor_label, when]
        )
        return rows[0] if rows else None
    rows = sql.instances(MemberTier, _member_tier_insert_sql(), [member_id, level_id, when])
    if not rows:
        return None
    sql.execute(_join_change_insert_sql(), [member_id, level_id, reason, actor_label, when])
    return rows[0]


@cache
def _member_level_sql() -> str:
    return f"SELECT level_id FROM {sql.table(MemberTier)} WHERE member_id = %s"  # noqa: S608


def member_level_id(member_id: int) -> int | None:
    """The member's level id (no lock): on every POS quote and lookup."""
    row = sql.one(_member_level_sql(), [member_id])
    return None if row is None else int(row[0])


@cache
def _spend_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(TierSpend)}"  # noqa: S608
        " (mall_group_id, member_id, amount_fen, points, occurred_at, source, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )


QUALIFYING_COLUMNS = frozenset({"amount_fen", "points"})


@cache
def _window_sum_sql(column: str) -> str:
    if column not in QUALIFYING_COLUMNS:
        raise ValueError(column)
    return (
        f"SELECT SUM({column}) FROM {sql.table(TierSpend)}"  # noqa: S608
        " WHERE member_id = %s AND occurred_at >= %s AND occurred_at < %s"
    )


@cache
def _spend_insert_sum_sql(column: str) -> str:
    """PostgreSQL: insert the spend row and read the member's window sum in one statement."""
    return f"WITH ins AS ({_spend_insert_sql()} RETURNING id) {_window_sum_sql(column)}"


def window_sum(*, member_id: int, column: str, start: dt.datetime, end: dt.datetime) -> int:
    """The member's sum of `column` (amount_fen or points) over [start, end)."""
    row = sql.one(_window_sum_sql(column), [member_id, sql.when(start), sql.when(end)])
    return int(row[0] or 0) if row else 0


def insert_spend(row: Sequence[object]) -> None:
    """A TierSpend row: group, member, amount_fen, points, occurred_at, source, created_at (backend values)."""
    sql.execute(_spend_insert_sql(), list(row))


def insert_spend_and_sum(
    row: Sequence[object], *, member_id: int, column: str, start: dt.datetime, end: dt.datetime
) -> int:
    """PostgreSQL: `insert_spend` and `window_sum` in one round trip. The sum cannot see the row the same statement
    inserts: the caller adds its own part when it falls in the window."""
    found = sql.one(_spend_insert_sum_sql(column), [*row, member_id, sql.when(start), sql.when(end)])
    return int(found[0] or 0) if found else 0


def members_in_levels(level_ids: Sequence[int]) -> sql.Fragment:
    """Members whose current tier is one of these levels (a segment condition, core.sql.Fragment)."""
    text = f"SELECT member_id FROM {sql.table(MemberTier)} WHERE level_id IN ({sql.placeholders(len(level_ids))})"  # noqa: S608
    return sql.Fragment(text, tuple(level_ids))


def level_mix(members: sql.Fragment) -> list[tuple[int, int]]:
    """(level id, members) among these members (a persona's tier mix)."""
    text = (
        f"SELECT level_id, COUNT(*) FROM {sql.table(MemberTier)} WHERE member_id IN ({members.text})"  # noqa: S608
        " GROUP BY level_id"
    )
    return [(int(level), int(n)) for level, n in sql.plain_rows(text, list(members.params))]
