"""Reads for marketing journeys (docs/marketing.md, "Journeys"): carts left without an order."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from .models import CartItem, Checkout


def carts_left_between(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(member, last change of the cart) for members of the group whose cart still holds items, was last changed in
    [since, until), and who have not started a checkout since that change."""
    rows = list(
        CartItem.objects.filter(member__mall_group_id=mall_group_id)
        .values("member_id")
        .annotate(last=Max("updated_at"))
        .filter(last__gte=since, last__lt=until)
        .order_by("member_id")
        .values_list("member_id", "last")
    )
    if not rows:
        return []
    started: dict[int, dt.datetime] = dict(
        Checkout.objects.filter(member_id__in=[m for m, _ in rows], created_at__gte=min(t for _, t in rows))
        .values("member_id")
        .annotate(at=Max("created_at"))
        .values_list("member_id", "at")
    )
    return [(m, last) for m, last in rows if m not in started or started[m] < last]
