"""The coupons app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL on every POS quote for a member: the coupons the member holds. Only the coupons app imports this module
(an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from galleria.core import sql

from .models import Coupon


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
