"""Coupon holds: a pending online checkout reserves the coupons it will redeem (docs/design/online-mall.md §5.1).

A hold is two columns of the coupon row — `hold_key` (the checkout's number) and `hold_until` (past the checkout's
expiry, so a late payment still finds it) — and moves nothing: the coupon stays `available` and belongs to its member.
While held, every other use of it is `coupon.held` (`selectors.coupon_problem`), the quote shows it so, and the
expiry job leaves it alone; the checkout's own payment passes its number and redeems it (the redemption's UPDATE
clears the hold). Releasing (the checkout cancelled or expired) is one UPDATE by key: a second release finds
nothing. Locks: the member's coupons in primary-key order (lock order step 8), after the member's accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from galleria.core.locking import lock_rows

from .. import exceptions, rules, selectors
from ..exceptions import error_for
from ..models import Coupon

ONLINE = "online"


def coupons_hold_in_tx(
    *,
    coupons: Mapping[int, int | None],
    member_id: int,
    mall_group_id: int,
    key: str,
    until: dt.datetime,
    at: dt.datetime,
    token: str | None = None,
) -> int:
    """Hold the member's coupons for the checkout `key` until `until`. `coupons` maps each coupon id to the merchant
    id whose sub-order uses it (None: the cross-shop coupon, valid in every shop). Locks the coupons in primary-key
    order and re-validates them at `at` (the placement time) for the `online` channel: holder, status, validity,
    day and hour, scope; a coupon held by another checkout is `coupon.held`. Holding again under the same key is a
    no-op (idempotent). Returns how many coupons are held. Raises the coupon's error (nothing written then)."""
    ids = sorted(coupons)
    if not ids:
        return 0
    if not key or len(key) > 40:
        raise ValueError("a coupon hold key has 1-40 characters")
    locked = lock_rows(Coupon.objects.filter(pk__in=ids, mall_group_id=mall_group_id))
    if len(locked) != len(ids):
        raise exceptions.CouponNotFoundError(extra={"coupon_ids": sorted(set(ids) - {c.pk for c in locked})})
    templates = selectors.templates_by_id(mall_group_id=mall_group_id, ids=[c.template_id for c in locked], token=token)
    merchants = selectors.merchants_by_id(mall_group_id=mall_group_id, ids={m for m in coupons.values() if m})
    for c in locked:
        template = templates[c.template_id]
        merchant_id = coupons[c.pk]
        merchant = merchants[merchant_id] if merchant_id is not None else None
        tz_name = merchant.mall.timezone if merchant is not None else selectors.template_tz(template, token=token)
        reason = selectors.coupon_problem(
            coupon=c,
            template=template,
            merchant=merchant,
            at=at,
            tz_name=tz_name,
            channel=ONLINE,
            member_id=member_id,
            hold_key=key,
        )
        if not reason and template.kind in rules.STANDALONE_KINDS:
            reason = rules.STANDALONE
        if reason:
            raise error_for(reason, coupon_id=c.pk)
    Coupon.objects.filter(pk__in=ids).update(hold_key=key, hold_until=until)
    return len(ids)


def coupons_release_hold_in_tx(*, key: str) -> int:
    """Release every coupon the checkout `key` holds (one UPDATE; a used coupon's hold was cleared when it was
    redeemed). Returns how many were released: 0 the second time."""
    if not key:
        return 0
    return Coupon.objects.filter(hold_key=key).update(hold_key="", hold_until=None)
