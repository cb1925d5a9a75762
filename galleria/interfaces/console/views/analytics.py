"""Console → Sales overview: net sales, member share, channels, baskets and top merchants of a period, compared with
the previous period or the same days a year earlier — read from the daily rollups only (docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.analytics import rules
from galleria.analytics.rules import PeriodError
from galleria.analytics.selectors import (
    joins,
    joins_daily,
    points_daily,
    points_totals,
    rollup_state,
    sales_overview,
)
from galleria.analytics.types import PointsTotals, Totals
from galleria.core import timeutil
from galleria.core.money import fen_to_yuan_str
from galleria.ledger.selectors_analytics import points_outstanding
from galleria.malls.selectors import mall_list
from galleria.members.types import JoinChannel
from galleria.merchants.selectors import merchant_options
from galleria.points.selectors import policy_get
from galleria.sales.types import Channel

from ..finance import points_value_fen
from ..helpers import console_view
from ..loyalty import group_context


def _preset_labels() -> list[tuple[str, str]]:
    labels = {
        "today": _("Today"),
        "7d": _("Last 7 days"),
        "30d": _("Last 30 days"),
        "90d": _("Last 90 days"),
        "month": _("This month"),
        "year": _("This year"),
        "custom": _("Custom period"),
    }
    return [(k, labels[k]) for k in rules.PRESETS]


def _compare_labels() -> list[tuple[str, str]]:
    return [
        ("previous", _("Previous period")),
        ("last_year", _("Same days last year")),
        ("none", _("No comparison")),
    ]


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _error_text(code: str) -> str:
    return {
        "analytics.period_incomplete": _("Choose the first and the last day of the period."),
        "analytics.period_reversed": _("The last day is before the first day."),
        "analytics.period_too_long": _("A period can be at most two years long."),
    }.get(code, _("Choose a period from the list."))


def _kpis(now: Totals, before: Totals | None) -> list[dict[str, Any]]:
    def item(key: str, label: str, value: int | None, old: int | None, money: bool, share: bool = False) -> dict:
        return {
            "key": key,
            "label": label,
            "value": value,
            "money": money,
            "share": share,
            "change_bp": None if share else rules.change_bp(value, old),
            "delta_bp": (value - old) if share and value is not None and old is not None else None,
        }

    b = before
    return [
        item("net", _("Net sales"), now.net_fen, b.net_fen if b else None, True),
        item("sales", _("Sales"), now.sales, b.sales if b else None, False),
        item(
            "member_share",
            _("Member share of sales"),
            now.member_share_bp,
            b.member_share_bp if b else None,
            False,
            share=True,
        ),
        item("basket", _("Average basket"), now.basket_fen, b.basket_fen if b else None, True),
        item("member_basket", _("Member basket"), now.member_basket_fen, b.member_basket_fen if b else None, True),
        item("guest_basket", _("Non-member basket"), now.guest_basket_fen, b.guest_basket_fen if b else None, True),
        item("refunded", _("Refunded"), now.refunded_fen, b.refunded_fen if b else None, True),
        item("points_value", _("Paid with points"), now.points_value_fen, b.points_value_fen if b else None, True),
    ]


def _points_kpis(now: PointsTotals, before: PointsTotals | None) -> list[dict[str, Any]]:
    def item(key: str, label: str, value: int, old: int | None) -> dict[str, Any]:
        return {"key": key, "label": label, "value": value, "change_bp": rules.change_bp(value, old)}

    b = before
    return [
        item("p_issued", _("Points issued"), now.issued + now.adjusted, b.issued + b.adjusted if b else None),
        item("p_redeemed", _("Points redeemed"), now.redeemed, b.redeemed if b else None),
        item("p_expired", _("Points expired"), now.expired, b.expired if b else None),
    ]


@console_view(perms.ANALYTICS_VIEW)
def sales(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    malls = list(mall_list(mall_group_id=g.id))
    tz_name = malls[0].timezone if malls else None
    today = timeutil.local_date(timeutil.now(), tz_name)
    preset = request.GET.get("period") or "30d"
    compare = request.GET.get("compare") or "previous"
    if compare not in rules.COMPARISONS:
        compare = "previous"
    mall_id = next((m.pk for m in malls if str(m.pk) == request.GET.get("mall")), None)
    merchants = list(merchant_options(mall_group_id=g.id).filter(**({"mall_id": mall_id} if mall_id else {})))
    merchant_id = next((m.pk for m in merchants if str(m.pk) == request.GET.get("merchant")), None)
    error = ""
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    try:
        period = rules.period_of(preset, today=today, start=start, end=end)
    except PeriodError as exc:
        error = _error_text(str(exc))
        preset = "30d" if preset not in rules.PRESETS else preset
        period = rules.period_of("30d", today=today)
    overview = sales_overview(
        mall_group_id=g.id, period=period, compare=compare, mall_id=mall_id, merchant_id=merchant_id
    )
    names = {m.pk: m.name for m in merchant_options(mall_group_id=g.id)}
    channel_labels = dict(Channel.choices)
    charts = {
        "daily": {
            "labels": [formats.date_format(day, "m-d") for day, _m, _g in overview.daily],
            "series": [
                {"name": _("Members"), "values": [fen_to_yuan_str(m) for _d, m, _g in overview.daily]},
                {"name": _("Non-members"), "values": [fen_to_yuan_str(x) for _d, _m, x in overview.daily]},
            ],
            "values": [m + x for _d, m, x in overview.daily],
        },
        "channels": {
            "items": [
                {"name": str(channel_labels.get(c, c)), "value": fen_to_yuan_str(max(net, 0))}
                for c, _n, net in overview.by_channel
            ]
        },
    }
    updated = rollup_state()[2]
    points_now = points_totals(mall_group_id=g.id, period=period)
    points_before = points_totals(mall_group_id=g.id, period=overview.compare) if overview.compare else None
    outstanding, holders = points_outstanding(mall_group_id=g.id)
    per_yuan = policy_get(mall_group_id=g.id).redeem_points_per_yuan
    points_kpis = _points_kpis(points_now, points_before)
    joined, join_channels = joins(mall_group_id=g.id, period=period, mall_id=mall_id)
    joined_before = joins(mall_group_id=g.id, period=overview.compare, mall_id=mall_id)[0] if overview.compare else None
    join_labels = dict(JoinChannel.choices)
    daily_joins = joins_daily(mall_group_id=g.id, period=period, mall_id=mall_id)
    charts["joins"] = {
        "labels": [formats.date_format(day, "m-d") for day, _n in daily_joins],
        "values": [n for _day, n in daily_joins],
    }
    charts["join_channels"] = {"items": [{"name": str(join_labels.get(c, c)), "value": n} for c, n in join_channels]}
    daily_points = points_daily(mall_group_id=g.id, period=period)
    charts["points"] = {
        "labels": [formats.date_format(day, "m-d") for day, *_rest in daily_points],
        "grouped": True,
        "series": [
            {"name": _("Issued"), "values": [i for _d, i, _r, _e in daily_points]},
            {"name": _("Redeemed"), "values": [r for _d, _i, r, _e in daily_points]},
            {"name": _("Expired"), "values": [e for _d, _i, _r, e in daily_points]},
        ],
        "values": [abs(i) + r + e for _d, i, r, e in daily_points],
    }
    return render(
        request,
        "console/analytics/sales.html",
        {
            "nav": "analytics_sales",
            "g": g,
            "overview": overview,
            "kpis": _kpis(overview.totals, overview.compare_totals),
            "points_kpis": points_kpis,
            "joined": joined,
            "joined_change_bp": rules.change_bp(joined, joined_before),
            "breakage_bp": points_now.breakage_bp,
            "liability_points": outstanding,
            "liability_fen": points_value_fen(outstanding, points_per_yuan=per_yuan),
            "holders": holders,
            "charts": charts,
            "channels": [(channel_labels.get(c, c), n, net) for c, n, net in overview.by_channel],
            "merchants_top": [(names.get(m, f"#{m}"), n, net) for m, n, net in overview.top_merchants],
            "presets": _preset_labels(),
            "comparisons": _compare_labels(),
            "preset": preset,
            "compare": compare,
            "malls": malls,
            "mall_id": mall_id,
            "merchant_choices": merchants,
            "merchant_id": merchant_id,
            "start": start or period.start,
            "end": end or period.end,
            "error": error,
            "updated": updated,
            "tz_display": str(timeutil.zone(tz_name)),
        },
    )
