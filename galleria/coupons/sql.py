"""The coupons app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL on every POS quote for a member: the coupons the member holds; on a member's sale that earns a spend-reward
coupon (消费返券): the holding row's lock, the per-member counts and the coupon itself. Only the coupons app imports
this module (an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field

from galleria.core import sql

from .models import Coupon, CouponHolding


@cache
def _held_sql() -> str:
    return (
        f"SELECT {sql.select_list(Coupon)} FROM {sql.table(Coupon)}"  # noqa: S608
        " WHERE member_id = %s AND status = %s AND valid_from <= %s AND valid_until > %s"
        " ORDER BY valid_until, id LIMIT 200"
    )


def held(*, member_id: int, status: str, at: dt.datetime) -> list[Coupon]:
    """The member's coupons of `status` valid at `at`, soonest to expire first (at most 200)."""
    return sql.instances(Coupon, _held_sql(), [member_id, status, sql.when(at), sql.when(at)])


# Fixed SQL of a spend-triggered coupon (消费返券), issued inside a member's sale: the (template, member) holding row
# locked (created first if new) in one statement, and what the per-member limits need in one more.
@cache
def _holding_lock_sql() -> str:
    return (
        f"INSERT INTO {sql.table(CouponHolding)} (template_id, member_id) VALUES (%s, %s)"  # noqa: S608
        " ON CONFLICT (template_id, member_id) DO UPDATE SET member_id = EXCLUDED.member_id"
    )


def holding_lock(*, template_id: int, member_id: int) -> None:
    """Lock the (template, member) row, creating it if new, in one statement: `ON CONFLICT … DO UPDATE` waits for
    a concurrent inserter, then takes the existing row's lock (an update's), as `SELECT … FOR UPDATE` would.
    Inside a transaction only."""
    sql.execute(_holding_lock_sql(), [template_id, member_id])


@cache
def _issue_facts_sql() -> str:
    table = sql.table(Coupon)
    return (
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE template_id = %s AND source_key = %s),"  # noqa: S608
        " COUNT(*), COUNT(CASE WHEN issued_at >= %s AND issued_at < %s THEN 1 END)"
        f" FROM {table} WHERE template_id = %s AND member_id = %s"
    )


def issue_facts(
    *, template_id: int, member_id: int, source_key: str, day: tuple[dt.datetime, dt.datetime]
) -> tuple[bool, int, int]:
    """(a coupon of the template was issued for `source_key`, to any member; the member's coupons of the template
    all time; of them, issued within `day`) in one statement."""
    start, end = sql.when(day[0]), sql.when(day[1])
    row = sql.one(_issue_facts_sql(), [template_id, source_key, start, end, template_id, member_id])
    assert row is not None
    return bool(row[0]), int(row[1] or 0), int(row[2] or 0)


@cache
def _coupon_columns() -> tuple[Field[Any, Any], ...]:
    return tuple(f for f in Coupon._meta.concrete_fields if not f.primary_key)


@cache
def _coupon_insert_sql() -> str:
    fields = _coupon_columns()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return (
        f"INSERT INTO {sql.table(Coupon)} ({columns})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id"
    )


def insert_coupon(coupon: Coupon) -> Coupon:
    """`coupon.save()` of a new coupon (every column as the ORM would write it) in a fixed statement; the coupon,
    saved. A duplicate code or source key raises IntegrityError, as the ORM's insert does."""
    values = [f.get_db_prep_save(getattr(coupon, f.attname), connection) for f in _coupon_columns()]
    row = sql.one(_coupon_insert_sql(), values)
    assert row is not None
    coupon.pk = int(row[0])
    coupon._state.adding, coupon._state.db = False, connection.alias
    return coupon


def members_with_coupons(template_ids: list[int], *, state: str, now: dt.datetime) -> sql.Fragment:
    """Members holding a coupon of these templates that is usable now (`state="holding"`), that they used
    (`"used"`), or that expired unused (`"expired_unused"`) — a segment condition (core.sql.Fragment)."""
    where = {
        "holding": "status = 'available' AND valid_until > %s",
        "used": "status = 'used'",
        "expired_unused": "(status = 'expired' OR (status = 'available' AND valid_until <= %s))",
    }[state]
    params: list[Any] = [*template_ids]
    if "%s" in where:
        params.append(sql.when(now))
    text = (
        f"SELECT member_id FROM {sql.table(Coupon)} WHERE template_id IN ({sql.placeholders(len(template_ids))})"  # noqa: S608
        f" AND {where}"
    )
    return sql.Fragment(text, tuple(params))
