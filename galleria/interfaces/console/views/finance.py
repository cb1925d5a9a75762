"""Finance: the group's liabilities (points outstanding by funder, redeemed per merchant, breakage; prepaid wallet)
and the per-merchant table as CSV. Read-only; platform admins pick the mall group."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.core.money import fen_to_yuan_str, format_cny
from galleria.interfaces.common import spreadsheet_cell

from ..finance import liabilities
from ..helpers import console_view
from ..loyalty import group_context


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100 // 10}%"


@console_view(perms.FINANCE_VIEW)
def liabilities_view(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    data = liabilities(mall_group_id=g.id)
    wallet = data.wallet
    points = data.points

    def cny(points_count: int) -> str:
        return format_cny(data.value_fen(points_count))

    context = {
        "nav": "liabilities",
        "g": g,
        "points": points,
        "points_cny": {
            "outstanding": cny(points.outstanding),
            "issued": cny(points.issued),
            "adjusted": cny(points.adjusted),
            "redeemed": cny(points.redeemed),
            "expired": cny(points.expired),
            "shortfall": cny(points.shortfall),
        },
        "rate": _("%(n)s points = ¥1.00") % {"n": data.points_per_yuan},
        "total": format_cny(data.total_fen),
        "funders": [(row, _percent(row.share_bp), cny(row.outstanding)) for row in data.funders],
        "merchants": data.merchants,
        "totals": data.merchant_totals,
        "totals_redeemed": cny(data.merchant_totals.points_redeemed),
        "wallet": wallet,
        "cny": {
            "principal": format_cny(wallet.principal_fen),
            "bonus": format_cny(wallet.bonus_fen),
            "total": format_cny(wallet.total_fen),
            "cash_in": format_cny(-wallet.float_fen),
            "bonus_granted": format_cny(-wallet.bonus_fund_fen),
            "spent": format_cny(wallet.spent_fen),
            "system_total": format_cny(wallet.system_total_fen),
        },
        "wallet_rows": [(row, format_cny(row.wallet_spent_fen), cny(row.points_redeemed)) for row in data.merchants],
        "wallet_total": format_cny(data.merchant_totals.wallet_spent_fen),
        "chart": data.chart(),
        "as_of": timezone.localtime(),
    }
    return render(request, "console/finance/liabilities.html", context)


@console_view(perms.FINANCE_VIEW)
def liabilities_export(request: HttpRequest) -> HttpResponse:
    """The per-merchant table as CSV (UTF-8 with BOM for Excel); money in yuan with two decimals, points whole, the
    points redeemed also valued in yuan at the points policy's payment rate."""
    g = group_context(request)
    data = liabilities(mall_group_id=g.id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Merchant"),
            _("Mall"),
            _("Points funded by the merchant"),
            _("Points redeemed at the merchant"),
            _("Wallet money spent at the merchant (¥)"),
            _("Value of the points redeemed (¥)"),
        ]
    )
    for row in data.merchants:
        writer.writerow(
            [
                spreadsheet_cell(row.merchant.name) if row.merchant else _("No merchant"),
                spreadsheet_cell(row.merchant.mall.name) if row.merchant else "",
                row.points_funded,
                row.points_redeemed,
                fen_to_yuan_str(row.wallet_spent_fen),
                fen_to_yuan_str(data.value_fen(row.points_redeemed)),
            ]
        )
    totals = data.merchant_totals
    writer.writerow(
        [
            _("Total"),
            "",
            totals.points_funded,
            totals.points_redeemed,
            fen_to_yuan_str(totals.wallet_spent_fen),
            fen_to_yuan_str(data.value_fen(totals.points_redeemed)),
        ]
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="liabilities-{g.group.code}-{stamp}.csv"'
    return response
