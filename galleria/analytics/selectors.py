"""What the dashboards read: the daily rollups only, never the sales (docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q, QuerySet, Sum

from .models import MembersDay, PointsDay, RollupMark, SalesDay
from .rules import compare_of
from .types import Period, PointsTotals, SalesOverview, Totals

_SUMS = ("sales", "gross_fen", "refunded_fen", "refunds", "discount_fen", "points_value_fen", "paid_fen",
         "points_earned", "points_used")  # fmt: skip


def _slices(*, mall_group_id: int, period: Period, mall_id: int | None, merchant_id: int | None) -> QuerySet[SalesDay]:
    qs = SalesDay.objects.filter(mall_group_id=mall_group_id, day__gte=period.start, day__lte=period.end)
    if mall_id is not None:
        qs = qs.filter(mall_id=mall_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return qs


def sales_totals(
    *, mall_group_id: int, period: Period, mall_id: int | None = None, merchant_id: int | None = None
) -> Totals:
    qs = _slices(mall_group_id=mall_group_id, period=period, mall_id=mall_id, merchant_id=merchant_id)
    agg = qs.aggregate(
        **{f"t_{k}": Sum(k) for k in _SUMS},
        t_member_sales=Sum("sales", filter=Q(member=True)),
        t_member_gross_fen=Sum("gross_fen", filter=Q(member=True)),
        t_member_refunded_fen=Sum("refunded_fen", filter=Q(member=True)),
    )
    return Totals(**{k.removeprefix("t_"): int(v or 0) for k, v in agg.items()})


def sales_overview(
    *,
    mall_group_id: int,
    period: Period,
    compare: str = "previous",
    mall_id: int | None = None,
    merchant_id: int | None = None,
    top: int = 10,
) -> SalesOverview:
    """Totals of the period (and of the period compared with), net sales by channel, member / non-member net sales
    per day (every day of the period, zeros included) and the top merchants by net sales."""
    other = compare_of(period, compare)
    qs = _slices(mall_group_id=mall_group_id, period=period, mall_id=mall_id, merchant_id=merchant_id)
    by_channel = [
        (str(c), int(n or 0), int((g or 0) - (r or 0)))
        for c, n, g, r in qs.values_list("channel")
        .annotate(n=Sum("sales"), g=Sum("gross_fen"), r=Sum("refunded_fen"))
        .values_list("channel", "n", "g", "r")
    ]
    by_channel.sort(key=lambda row: (-row[2], row[0]))
    per_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    per_day_rows = qs.values("day", "member").annotate(g=Sum("gross_fen"), r=Sum("refunded_fen"))
    for day, member, g, r in per_day_rows.values_list("day", "member", "g", "r"):
        per_day[day][0 if member else 1] += int((g or 0) - (r or 0))
    daily = []
    for i in range(period.days):
        day = period.start + dt.timedelta(days=i)
        member_fen, guest_fen = per_day.get(day, (0, 0))
        daily.append((day, member_fen, guest_fen))
    merchants = [
        (int(m), int(n or 0), int((g or 0) - (r or 0)))
        for m, n, g, r in qs.values("merchant_id")
        .annotate(n=Sum("sales"), g=Sum("gross_fen"), r=Sum("refunded_fen"))
        .values_list("merchant_id", "n", "g", "r")
    ]
    merchants.sort(key=lambda row: (-row[2], row[0]))
    return SalesOverview(
        period=period,
        compare=other,
        totals=sales_totals(mall_group_id=mall_group_id, period=period, mall_id=mall_id, merchant_id=merchant_id),
        compare_totals=(
            sales_totals(mall_group_id=mall_group_id, period=other, mall_id=mall_id, merchant_id=merchant_id)
            if other
            else None
        ),
        by_channel=by_channel,
        daily=daily,
        top_merchants=merchants[:top],
    )


def rollup_state() -> tuple[int, int, dt.datetime | None]:
    """(last sale id, last refund id, when) the minute job has read up to."""
    mark = RollupMark.objects.filter(name="sales").first()
    return (0, 0, None) if mark is None else (mark.last_sale_id, mark.last_refund_id, mark.updated_at)


def points_totals(*, mall_group_id: int, period: Period) -> PointsTotals:
    agg = PointsDay.objects.filter(mall_group_id=mall_group_id, day__gte=period.start, day__lte=period.end).aggregate(
        t_issued=Sum("issued"), t_adjusted=Sum("adjusted"), t_redeemed=Sum("redeemed"), t_expired=Sum("expired")
    )
    return PointsTotals(**{k.removeprefix("t_"): int(v or 0) for k, v in agg.items()})


def points_daily(*, mall_group_id: int, period: Period) -> list[tuple[dt.date, int, int, int]]:
    """(day, issued + adjusted, redeemed, expired) for every day of the period, zeros included."""
    found = {
        day: (issued + adjusted, redeemed, expired)
        for day, issued, adjusted, redeemed, expired in PointsDay.objects.filter(
            mall_group_id=mall_group_id, day__gte=period.start, day__lte=period.end
        ).values_list("day", "issued", "adjusted", "redeemed", "expired")
    }
    out = []
    for i in range(period.days):
        day = period.start + dt.timedelta(days=i)
        out.append((day, *found.get(day, (0, 0, 0))))
    return out


def joins(*, mall_group_id: int, period: Period, mall_id: int | None = None) -> tuple[int, list[tuple[str, int]]]:
    """(members who joined in the period, [(join channel, members)] most first)."""
    qs = MembersDay.objects.filter(mall_group_id=mall_group_id, day__gte=period.start, day__lte=period.end)
    if mall_id is not None:
        qs = qs.filter(mall_id=mall_id)
    rows = [
        (str(c), int(n or 0)) for c, n in qs.values("channel").annotate(n=Sum("joined")).values_list("channel", "n")
    ]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return sum(n for _c, n in rows), rows


def joins_daily(*, mall_group_id: int, period: Period, mall_id: int | None = None) -> list[tuple[dt.date, int]]:
    qs = MembersDay.objects.filter(mall_group_id=mall_group_id, day__gte=period.start, day__lte=period.end)
    if mall_id is not None:
        qs = qs.filter(mall_id=mall_id)
    found = {day: int(n or 0) for day, n in qs.values("day").annotate(n=Sum("joined")).values_list("day", "n")}
    return [
        (period.start + dt.timedelta(days=i), found.get(period.start + dt.timedelta(days=i), 0))
        for i in range(period.days)
    ]
