"""Reads for marketing journeys (docs/marketing.md, "Journeys"): whose points expire soon."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum

from .models import PointsLot


def points_expiring_between(*, mall_group_id: int, first: dt.date, last: dt.date) -> list[tuple[int, dt.date, int]]:
    """(member, expiry date, points) for every member and date with unspent points expiring in [first, last]."""
    rows = (
        PointsLot.objects.filter(
            mall_group_id=mall_group_id, remaining__gt=0, expires_on__gte=first, expires_on__lte=last
        )
        .values("member_id", "expires_on")
        .annotate(points=Sum("remaining"))
        .order_by("member_id", "expires_on")
    )
    return [(r["member_id"], r["expires_on"], int(r["points"])) for r in rows]
