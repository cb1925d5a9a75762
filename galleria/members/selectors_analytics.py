"""What the analytics app reads from the members to keep its daily join rollups (docs/analytics.md): the members
written since a mark and one mall's joins of a period, per join channel. Joins are history: a member counts on the
day they joined whatever their status now (erased, merged)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max

from .models import Member


def last_member_id(*, after_id: int) -> int:
    """The largest member id above `after_id` (`after_id` when none)."""
    found = Member.objects.filter(pk__gt=after_id).aggregate(m=Max("pk"))["m"]
    return int(found or after_id)


def members_touched(*, after_id: int, up_to_id: int) -> list[tuple[int, dt.datetime]]:
    """(join mall id, joined at) of the members with after_id < id ≤ up_to_id."""
    qs = Member.objects.filter(pk__gt=after_id, pk__lte=up_to_id).order_by()
    return [(int(m), at) for m, at in qs.values_list("join_mall_id", "created_at")]


def joins_between(*, mall_id: int, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """{join channel: members} who joined at this mall in [since, until)."""
    rows = (
        Member.objects.filter(join_mall_id=mall_id, created_at__gte=since, created_at__lt=until)
        .values("join_channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {str(row["join_channel"]): int(row["n"]) for row in rows}


def first_join_at(*, mall_id: int) -> dt.datetime | None:
    found = Member.objects.filter(join_mall_id=mall_id).order_by("created_at").values_list("created_at", flat=True)
    return found.first()
