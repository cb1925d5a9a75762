"""Helpers shared by the coupon services: stock, issuing, reason codes → errors, validity."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection
from django.db.models import F

from galleria.core import timeutil
from galleria.core.locking import lock_rows
from galleria.core.money import allocate

from .. import exceptions, rules
from .. import sql as coupons_sql
from ..models import Coupon, CouponStockShard, CouponTemplate
from ..types import IssuedCoupon

STOCK_SHARDS = 8


def shard_sizes(total: int, shards: int = STOCK_SHARDS) -> list[int]:
    n = max(1, min(shards, total))
    return allocate(total, [1] * n)


def stock_create(template: CouponTemplate) -> None:
    """Create the template's stock shards (first activation)."""
    if template.total_quantity is None or CouponStockShard.objects.filter(template=template).exists():
        return
    CouponStockShard.objects.bulk_create(
        [
            CouponStockShard(template=template, shard_no=i, remaining=size)
            for i, size in enumerate(shard_sizes(template.total_quantity))
        ]
    )


def stock_add(template: CouponTemplate, quantity: int) -> None:
    """More inventory: a new shard (no existing row is touched, so claims in flight are not blocked)."""
    if quantity <= 0:
        return
    last = CouponStockShard.objects.filter(template=template).order_by("-shard_no").values_list("shard_no", flat=True)
    CouponStockShard.objects.create(template=template, shard_no=(last.first() or 0) + 1, remaining=quantity)


def stock_take(template: CouponTemplate, wanted: int) -> int:
    """Take up to `wanted` units of the template's inventory; returns how many were taken (0 = sold out).

    First a shard no other transaction holds (FOR UPDATE SKIP LOCKED, random among those with stock), so
    concurrent claims spread over the shards instead of queueing on one row; when every shard with stock is
    held by someone else, wait for the lowest one (primary-key order) and look again. The CHECK
    (remaining >= 0) backs the arithmetic. Unlimited templates always give what is asked.
    """
    if template.total_quantity is None:
        return wanted
    taken = 0
    base = CouponStockShard.objects.filter(template_id=template.pk, remaining__gt=0)
    while taken < wanted:
        shard = base.select_for_update(skip_locked=True).order_by("?").first()
        if shard is None:
            candidate = base.order_by("pk").values_list("pk", flat=True).first()
            if candidate is None:
                break
            rows = lock_rows(CouponStockShard.objects.filter(pk=candidate))
            if not rows or rows[0].remaining <= 0:
                continue
            shard = rows[0]
        take = min(shard.remaining, wanted - taken)
        CouponStockShard.objects.filter(pk=shard.pk).update(remaining=F("remaining") - take)
        taken += take
    return taken


def holding_lock(*, template_id: int, member_id: int) -> None:
    """Lock the (template, member) row that serialises one member's claims of one template (created if new), in
    one statement (coupons/sql.py: INSERT … ON CONFLICT DO UPDATE waits for a concurrent inserter, then takes the
    row's lock). Inside a transaction only."""
    if not connection.in_atomic_block:
        raise RuntimeError("holding_lock() must run inside transaction.atomic()")
    coupons_sql.holding_lock(template_id=template_id, member_id=member_id)


def validity(template: CouponTemplate, *, at: dt.datetime, tz_name: str | None) -> tuple[dt.datetime, dt.datetime]:
    """(valid_from, valid_until) of a coupon issued at `at`. Relative validity ends at mall-local midnight after
    the last day (the issue day counts as day 1), and never after the template's own end when it has one."""
    if template.validity_kind == "fixed":
        assert template.valid_from is not None and template.valid_until is not None
        return template.valid_from, template.valid_until
    last = rules.relative_last_day(claimed_on=timeutil.local_date(at, tz_name), days=template.valid_days)
    until = timeutil.local_day_bounds(last, tz_name)[1]
    if template.valid_until is not None:
        until = min(until, template.valid_until)
    start = at if template.valid_from is None else max(at, template.valid_from)
    return start, until


def issue(
    *,
    template: CouponTemplate,
    member_id: int,
    source: str,
    source_key: str,
    at: dt.datetime,
    tz_name: str | None,
    paid_points: int = 0,
    paid_fen: int = 0,
) -> Coupon:
    """Create one coupon (stock already taken). A code collision (31^16 codes) is not retried: it would abort
    the use case, which the caller may repeat."""
    start, until = validity(template, at=at, tz_name=tz_name)
    if until <= start:
        raise exceptions.CouponNotClaimableError()
    coupon = Coupon(
        mall_group_id=template.mall_group_id,
        template=template,
        member_id=member_id,
        code=rules.new_code(),
        valid_from=start,
        valid_until=until,
        source=source,
        source_key=source_key[:120],
        issued_at=at,
        paid_points=paid_points,
        paid_fen=paid_fen,
    )
    try:  # fixed SQL (coupons/sql.py): a spend-reward coupon is issued inside the sale
        return coupons_sql.insert_coupon(coupon)
    except IntegrityError as exc:  # pragma: no cover - the caller checked the source key under its lock
        raise exceptions.CouponIdempotencyConflictError() from exc


def issued(coupon: Coupon, *, created: bool = True) -> IssuedCoupon:
    return IssuedCoupon(
        coupon_id=coupon.pk,
        template_id=coupon.template_id,
        code=coupon.code,
        member_id=coupon.member_id,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        created=created,
    )
