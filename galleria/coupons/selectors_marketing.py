"""Reads for marketing journeys (docs/marketing.md, "Journeys"): unused coupons about to expire."""

from __future__ import annotations

import datetime as dt

from .models import Coupon, CouponStatus


def coupons_expiring_between(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> list[tuple[int, int]]:
    """(member, coupon) for every unused coupon of the group whose validity ends in [since, until)."""
    return list(
        Coupon.objects.filter(
            mall_group_id=mall_group_id, status=CouponStatus.AVAILABLE, valid_until__gte=since, valid_until__lt=until
        )
        .order_by("member_id", "pk")
        .values_list("member_id", "pk")
    )
