"""Console: parking reports (docs/parking.md, "Console (operators)") — utilisation by hour of day and by day, revenue
by day (points value, wallet, money taken by the car park), and parking income against the benefits granted, by
kind and by funder. Charts (ECharts, served locally) with the same numbers as tables and CSV; the aggregation is in
galleria/parking/selectors_console.py (grouped in the database)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.money import fen_to_yuan_str
from galleria.parking import selectors_console

from ..helpers import console_tz, console_view
from ..loyalty import group_context
from ..parking_forms import ReportForm
from .parking_common import BENEFIT_LABELS, FUNDER_LABELS, csv_response, park_choices

DEFAULT_DAYS = 7
EXPORTS = ("hours", "days", "revenue", "benefits")


def _pct(value: Any) -> str:
    return "" if value is None else f"{value}%"


def _charts(util: Any, revenue: list[Any], income: Any) -> dict[str, Any]:
    def line(labels: list[str], values: list[Any]) -> dict[str, Any]:
        return {"labels": labels, "values": values if any(str(v) not in ("0", "0.0", "0.00") for v in values) else []}

    items = [
        {"name": f"{BENEFIT_LABELS.get(kind, kind)}", "value": fen_to_yuan_str(fen)}
        for kind, fen in income.by_kind().items()
        if fen
    ]
    return {
        "hours": line([f"{h.hour:02d}:00" for h in util.hours], [str(h.avg_parked) for h in util.hours]),
        "days": line([d.day.strftime("%m-%d") for d in util.days], [d.entries for d in util.days]),
        "revenue": line([r.day.strftime("%m-%d") for r in revenue], [fen_to_yuan_str(r.total_fen) for r in revenue]),
        "benefits": {"items": items},
    }


def _export(kind: str, util: Any, revenue: list[Any], income: Any, suffix: str) -> HttpResponse:
    if kind == "hours":
        return csv_response(
            f"parking-hours-{suffix}.csv",
            [_("Hour"), _("Average parked"), _("Peak parked"), _("Average occupancy"), _("Average entries")],
            (
                [f"{h.hour:02d}:00", h.avg_parked, h.peak_parked, _pct(h.occupancy_pct), h.avg_entries]
                for h in util.hours
            ),
        )
    if kind == "days":
        return csv_response(
            f"parking-days-{suffix}.csv",
            [_("Day"), _("Entries"), _("Exits"), _("Peak parked"), _("Average parked"), _("Average occupancy")],
            (
                [d.day.isoformat(), d.entries, d.exits, d.peak_parked, d.avg_parked, _pct(d.occupancy_pct)]
                for d in util.days
            ),
        )
    if kind == "revenue":
        return csv_response(
            f"parking-revenue-{suffix}.csv",
            [
                _("Day"),
                pgettext("parking count", "Payments"),
                _("Points used"),
                _("Points value (¥)"),
                _("Wallet (¥)"),
                _("Paid at the car park (¥)"),
                _("Total (¥)"),
            ],
            (
                [
                    r.day.isoformat(),
                    r.payments,
                    r.points,
                    fen_to_yuan_str(r.points_fen),
                    fen_to_yuan_str(r.wallet_fen),
                    fen_to_yuan_str(r.other_fen),
                    fen_to_yuan_str(r.total_fen),
                ]
                for r in revenue
            ),
        )
    rows: list[list[Any]] = [[_("Gross fees"), "", "", "", fen_to_yuan_str(income.gross_fen)]]
    for row in income.rows:
        rows.append(
            [
                str(BENEFIT_LABELS.get(row.kind, row.kind)),
                row.merchant_name or str(FUNDER_LABELS.get(row.funder, row.funder)),
                row.lines,
                row.minutes,
                "-" + fen_to_yuan_str(row.fen),
            ]
        )
    if income.other_fen:
        rows.append([_("Other reductions"), "", "", "", "-" + fen_to_yuan_str(income.other_fen)])
    rows.append([_("Fees after benefits"), "", "", "", fen_to_yuan_str(income.fee_fen)])
    rows.append([_("Paid"), "", "", "", fen_to_yuan_str(income.paid_fen)])
    return csv_response(
        f"parking-benefits-{suffix}.csv",
        [pgettext("parking report", "Line"), _("Funded by"), _("Stays"), _("Minutes"), _("Amount (¥)")],
        rows,
    )


@console_view(perms.PARKING_VIEW)
def reports(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    parks = selectors_console.car_parks(mall_group_id=g.id)
    tz_name = console_tz(request)
    today = timeutil.local_date(timeutil.now(), tz_name)
    data: Any = request.GET
    if "first" not in request.GET and "last" not in request.GET:
        data = {**request.GET.dict(), "first": today - dt.timedelta(days=DEFAULT_DAYS - 1), "last": today}
    form = ReportForm(data, car_parks=park_choices(parks))
    context: dict[str, Any] = {"nav": "parking_reports", "g": g, "form": form, "has_parks": bool(parks)}
    if form.is_valid():
        wanted = form.cleaned_data.get("car_park")
        chosen = [p for p in parks if wanted is None or p.pk == wanted]
        scope = selectors_console.report_scope(
            car_parks=chosen,
            first=form.cleaned_data["first"],
            last=form.cleaned_data["last"],
            tz_name=chosen[0].mall.timezone if wanted is not None and chosen else tz_name,
        )
        util = selectors_console.utilisation(scope)
        revenue = selectors_console.revenue_by_day(scope)
        income = selectors_console.income_vs_benefits(scope)
        export = request.GET.get("export") or ""
        if export in EXPORTS:
            return _export(export, util, revenue, income, f"{scope.first:%Y%m%d}-{scope.last:%Y%m%d}")
        query = {k: str(v) for k, v in form.cleaned_data.items() if v not in (None, "")}
        if g.options:
            query["group"] = str(g.id)
        context.update(
            {
                "scope": scope,
                "util": util,
                "revenue": revenue,
                "revenue_total": {
                    "payments": sum(r.payments for r in revenue),
                    "points": sum(r.points for r in revenue),
                    "points_fen": sum(r.points_fen for r in revenue),
                    "wallet_fen": sum(r.wallet_fen for r in revenue),
                    "other_fen": sum(r.other_fen for r in revenue),
                    "total_fen": sum(r.total_fen for r in revenue),
                },
                "income": income,
                "benefit_rows": [
                    (
                        r,
                        BENEFIT_LABELS.get(r.kind, r.kind),
                        r.merchant_name or FUNDER_LABELS.get(r.funder, r.funder),
                    )
                    for r in income.rows
                ],
                "charts": _charts(util, revenue, income),
                "export_query": urlencode(query),
                "capacity": scope.capacity,
            }
        )
    return render(request, "console/parking/reports.html", context, status=200 if form.is_valid() else 422)
