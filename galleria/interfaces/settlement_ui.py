"""Settlement statements as finance and merchants read them — shared by the console (finance) and the merchant
portal: the figure rows with their sign and their ledger accounts, a figure's drill-down page, and the exports
(XLSX with a summary sheet — one row per merchant per period, every figure — and a detail sheet with every leg;
CSV of either). Reads through `settlement.selectors` only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from galleria.core.money import fen_to_yuan_str
from galleria.settlement import selectors
from galleria.settlement.types import Figure, Leg, StatementStatus

from .common import spreadsheet_cell

LEGS_PER_PAGE = 50
EXPORT_MAX_LEGS = 200_000  # rows of a detail sheet or CSV; beyond that, export fewer statements

STATUS_BADGES = {
    StatementStatus.DRAFT: "badge-warn",
    StatementStatus.CONFIRMED: "badge-primary",
    StatementStatus.DISPUTED: "badge-danger",
    StatementStatus.APPROVED: "badge-primary",
    StatementStatus.PAID: "badge-ok",
}
KIND_LABELS: dict[str, Promise] = {
    "wallet_pay": pgettext_lazy("ledger transaction", "Wallet payment"),
    "refund": pgettext_lazy("ledger transaction", "Refund"),
    "commission": pgettext_lazy("ledger transaction", "Commission"),
    "payout": pgettext_lazy("ledger transaction", "Payment"),
    "reversal": pgettext_lazy("ledger transaction", "Reversal"),
    "sale": pgettext_lazy("ledger transaction", "Sale"),
}
ACCOUNT_NOTES: dict[str, Promise] = {
    Figure.COLLECTED: gettext_lazy("merchant_collected ↔ gateway_clearing"),
    Figure.WALLET: gettext_lazy("wallet_spent ↔ member wallets"),
    Figure.POINTS_VALUE: gettext_lazy("points_value_redeemed ↔ points_value_fund"),
    Figure.COUPON_MALL: gettext_lazy("coupon_mall_funded ↔ coupon_fund"),
    Figure.MERCHANT_POINTS: gettext_lazy("merchant_points_cost ↔ points_cost_receivable"),
    Figure.COUPON_MERCHANT: gettext_lazy("coupon_merchant_funded ↔ coupon_merchant_memo (memorandum)"),
    Figure.COMMISSION: gettext_lazy("commission ↔ commission_income, posted on approval"),
    Figure.PAYOUT: gettext_lazy("merchant_payout ↔ settlement_bank, posted with the payment"),
}


@dataclass(frozen=True)
class FigureRow:
    figure: str
    number: str  # "1" … "7" as docs/settlement.md numbers them
    label: str
    help: str
    amount_fen: int  # as the statement states it
    effect: int  # +1 the mall owes it, -1 the merchant owes it, 0 information only
    accounts: str
    drill: bool  # has a list of legs (or sales) behind it


def figure_rows(s: Any, *, merchant_view: bool = False) -> list[FigureRow]:
    """The statement's figures in the order of docs/settlement.md, each with what it means, who owes it and its
    ledger accounts; worded for the merchant reading its own statement (`merchant_view`) or for finance."""
    you = merchant_view
    rate, base = bp_text(s.commission_bp), yuan_text(s.commission_base_fen)
    rows = [
        (
            Figure.COLLECTED,
            "1",
            _("Money collected for you (pay at store)")
            if you
            else _("Money collected for the merchant (pay at store)"),
            _("WeChat Pay and Alipay payments the mall took for the shop's sales in the member app, net of refunds."),
            s.collected_fen,
            1,
        ),
        (
            Figure.WALLET,
            "2",
            _("Wallet payments taken"),
            _("Members paid with their prepaid wallet: the mall holds that money and owes it to the merchant."),
            s.wallet_fen,
            1,
        ),
        (
            Figure.POINTS_VALUE,
            "3",
            _("Points redeemed as payment"),
            _("Points members paid with, at the value each sale gave them."),
            s.points_value_fen,
            1,
        ),
        (
            Figure.COUPON_MALL,
            "4",
            _("Mall-funded coupons and promotions"),
            _("Discounts the mall pays for: the member paid the merchant less and the mall makes it up."),
            s.coupon_mall_fen,
            1,
        ),
        (
            Figure.MERCHANT_POINTS,
            "5",
            _("Points you fund") if you else _("Points the merchant funds"),
            _("Points members earned at the shop under a rule the merchant funds, at their redemption value."),
            s.merchant_points_fen,
            -1,
        ),
        (
            Figure.COUPON_MERCHANT,
            "5′",
            _("Your own coupons and promotions (information)")
            if you
            else _("The merchant's own coupons and promotions (information)"),
            _("Discounts the merchant funds: the member simply paid it less, so no money moves for them."),
            s.coupon_merchant_fen,
            0,
        ),
        (
            Figure.COMMISSION,
            "6",
            _("Commission at %(rate)s") % {"rate": rate},
            _("On the sales recorded in the period, net of refunds and of the discounts the merchant funds: %(base)s.")
            % {"base": base},
            s.commission_fen,
            -1,
        ),
    ]
    return [
        FigureRow(
            figure=figure,
            number=number,
            label=label,
            help=help_text,
            amount_fen=amount,
            effect=effect,
            accounts=str(ACCOUNT_NOTES[figure]),
            drill=figure != Figure.COMMISSION or bool(s.commission_transaction_id),  # posted on approval
        )
        for figure, number, label, help_text, amount, effect in rows
    ]


def kind_label(leg: Leg) -> str:
    """What wrote a leg: a sale's or a refund's settlement legs are told apart by their source."""
    if leg.kind == "settlement":
        return str(KIND_LABELS["refund" if leg.source.startswith("refund:") else "sale"])
    return str(KIND_LABELS.get(leg.kind, leg.kind))


def bp_text(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}%"


def yuan_text(fen: int) -> str:
    sign = "−" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{part:02d}"


def figure_label(figure: str) -> str:
    return str(Figure(figure).label) if figure in Figure.values else figure


# ---------------------------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class LegRow:
    occurred_at: dt.datetime
    amount_fen: int
    kind: str
    source: str
    memo: str
    transaction_id: int | None


def legs_page(request: HttpRequest, s: Any, figure: str) -> tuple[Page[Any] | None, str, int]:
    """The requested page of the legs (or sales / refunds) behind one figure, the query string without `page`, and
    what all of them add up to (as the ledger signs them; refunds negative)."""
    params = request.GET.copy()
    params.pop("page", None)
    if figure in (Figure.SALES, Figure.REFUNDS):
        rows: Any = selectors.base_rows(statement=s, figure=figure)
        field = "amount_fen" if figure == Figure.REFUNDS else "total_fen"
        total = int(rows.aggregate(t=Sum(field))["t"] or 0) * (-1 if figure == Figure.REFUNDS else 1)
    else:
        rows = selectors.figure_legs(statement=s, figure=figure)
        if rows is None:
            return None, params.urlencode(), 0
        total = int(rows.aggregate(t=Sum("amount"))["t"] or 0)
    page = Paginator(rows, LEGS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [_row(figure, item) for item in page.object_list]
    return page, params.urlencode(), total


def _row(figure: str, item: Any) -> LegRow:
    if isinstance(item, dict):
        leg = selectors.leg_of(item)
        return LegRow(
            leg.occurred_at,
            leg.amount_fen,
            kind_label(leg),
            leg.source,
            leg.memo,
            leg.transaction_id,
        )
    if figure == Figure.REFUNDS:
        return LegRow(
            item.occurred_at,
            -item.amount_fen,
            str(KIND_LABELS["refund"]),
            f"refund:{item.pk}",
            f"{item.sale.pos_sale_id} · {item.pos_refund_id}",
            None,
        )
    return LegRow(item.occurred_at, item.total_fen, str(KIND_LABELS["sale"]), f"sale:{item.pk}", item.pos_sale_id, None)


# ---------------------------------------------------------------------------------------------- exports


def _summary_header() -> list[str]:
    return [
        _("Period"),
        _("No."),
        _("Merchant"),
        _("Mall"),
        _("Contract number"),
        _("Unified social credit code"),
        _("Status"),
        _("Sales"),
        _("Sales recorded (¥)"),
        _("Refunds (¥)"),
        _("Merchant-funded discounts (¥)"),
        _("Commission base (¥)"),
        _("Commission rate"),
        _("Commission (¥)"),
        _("Collected for the merchant (¥)"),
        _("Wallet payments (¥)"),
        _("Points redeemed (¥)"),
        _("Mall-funded discounts (¥)"),
        _("Points funded by the merchant (¥)"),
        _("Net: the mall pays (¥)"),
        _("Confirmed at"),
        _("Approved at"),
        _("Paid at"),
        _("Payment reference"),
    ]


MONEY_COLUMNS = {8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19}  # 0-based positions of the ¥ columns


def _when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _summary_row(s: Any, money: Any) -> list[Any]:
    return [
        f"{s.period_start:%Y-%m}",
        s.sequence,
        spreadsheet_cell(s.merchant.name),
        spreadsheet_cell(s.merchant.mall.name),
        spreadsheet_cell(s.merchant.contract_no),
        spreadsheet_cell(s.merchant.credit_code),
        str(StatementStatus(s.status).label),
        s.sales_count,
        money(s.sales_fen),
        money(s.refunds_fen),
        money(s.coupon_merchant_fen),
        money(s.commission_base_fen),
        bp_text(s.commission_bp),
        money(s.commission_fen),
        money(s.collected_fen),
        money(s.wallet_fen),
        money(s.points_value_fen),
        money(s.coupon_mall_fen),
        money(s.merchant_points_fen),
        money(s.net_fen),
        _when(s.confirmed_at),
        _when(s.approved_at),
        _when(s.paid_at),
        spreadsheet_cell(s.payment_reference),
    ]


def _detail_header() -> list[str]:
    return [
        _("Period"),
        _("No."),
        _("Merchant"),
        _("Figure"),
        _("Time"),
        _("Transaction"),
        _("Source"),
        _("Memo"),
        _("Ledger leg (¥, + owed to the merchant)"),
    ]


def _detail_row(s: Any, figure: str, leg: Leg, money: Any, labels: dict[str, str] | None = None) -> list[Any]:
    """One leg of the detail sheet; `labels` caches the figure and transaction labels over a long export."""
    labels = labels if labels is not None else {}
    figure_text = labels.get(figure) or labels.setdefault(figure, figure_label(figure))
    kind_key = f"{leg.kind}|{leg.source.split(':', 1)[0]}"
    kind_text = labels.get(kind_key) or labels.setdefault(kind_key, kind_label(leg))
    return [
        f"{s.period_start:%Y-%m}",
        s.sequence,
        spreadsheet_cell(s.merchant.name),
        figure_text,
        _when(leg.occurred_at),
        kind_text,
        leg.source,
        spreadsheet_cell(leg.memo),
        money(leg.amount_fen),
    ]


def _yuan(fen: int) -> Decimal:
    return Decimal(int(fen)) / 100


def _totals(statements: Sequence[Any], money: Any) -> list[Any]:
    def total(name: str) -> Any:
        return money(sum(getattr(s, name) for s in statements))

    return [
        _("Total"),
        "",
        "",
        "",
        "",
        "",
        "",
        sum(s.sales_count for s in statements),
        total("sales_fen"),
        total("refunds_fen"),
        total("coupon_merchant_fen"),
        total("commission_base_fen"),
        "",
        total("commission_fen"),
        total("collected_fen"),
        total("wallet_fen"),
        total("points_value_fen"),
        total("coupon_mall_fen"),
        total("merchant_points_fen"),
        total("net_fen"),
        "",
        "",
        "",
        "",
    ]


def export_xlsx(statements: Sequence[Any], *, title: str, filename: str) -> HttpResponse:
    """A workbook: "Statements" (one row per merchant per period, every figure, a total row) and "Detail" (every
    ledger leg behind the figures). Money cells are numbers in yuan with two decimals. Written in openpyxl's
    write-only mode: rows stream out, so a month of 100,000 sales exports in seconds."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(str(_("Statements")))
    detail = wb.create_sheet(str(_("Detail")))
    bold = Font(bold=True)

    def cells(ws: Any, values: Sequence[Any], *, money: Iterable[int] = (), font: Font | None = None) -> list[Any]:
        out = []
        money_at = set(money)
        for i, value in enumerate(values):
            cell = WriteOnlyCell(ws, value=value)
            if i in money_at:
                cell.number_format = "#,##0.00"
            if font is not None:
                cell.font = font
            out.append(cell)
        return out

    header = _summary_header()
    for i, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, min(28, len(str(name)) + 4))
    sheet.freeze_panes = "D4"
    sheet.append(cells(sheet, [spreadsheet_cell(title)], font=Font(bold=True, size=13)))
    sheet.append(
        [_("Exported at %(when)s. Positive net: the mall pays the merchant.") % {"when": _when(timezone.now())}]
    )
    sheet.append(cells(sheet, header, font=bold))
    for s in statements:
        sheet.append(cells(sheet, _summary_row(s, _yuan), money=MONEY_COLUMNS))
    sheet.append(cells(sheet, _totals(statements, _yuan), money=MONEY_COLUMNS, font=bold))
    for i, width in enumerate((10, 6, 24, 26, 18, 16, 16, 30, 16), start=1):
        detail.column_dimensions[get_column_letter(i)].width = width
    detail.freeze_panes = "A2"
    detail.append(cells(detail, _detail_header(), font=bold))
    labels: dict[str, str] = {}
    for n, (s, figure, leg) in enumerate(selectors.export_legs(statements=statements)):
        if n >= EXPORT_MAX_LEGS:
            detail.append([_("More legs than an export holds: export fewer statements, or the CSV of the legs.")])
            break
        row = _detail_row(s, figure, leg, _yuan, labels)
        row[8] = WriteOnlyCell(detail, value=row[8])
        row[8].number_format = "#,##0.00"
        detail.append(row)
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def export_csv(statements: Sequence[Any], *, detail: bool, filename: str) -> HttpResponse:
    """The summary sheet (or the detail sheet) as CSV, UTF-8 with a BOM for Excel; money in yuan, two decimals."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if detail:
        writer.writerow(_detail_header())
        rows: Iterable[list[Any]] = (
            _detail_row(s, figure, leg, fen_to_yuan_str)
            for s, figure, leg in selectors.export_legs(statements=statements)
        )
        for n, row in enumerate(rows):
            if n >= EXPORT_MAX_LEGS:
                break
            writer.writerow(row)
    else:
        writer.writerow(_summary_header())
        for s in statements:
            writer.writerow(_summary_row(s, fen_to_yuan_str))
        writer.writerow(_totals(statements, fen_to_yuan_str))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}{"-detail" if detail else ""}.csv"'
    return response


def export_response(request: HttpRequest, statements: Sequence[Any], *, title: str, filename: str) -> HttpResponse:
    """`?format=xlsx` (default), `csv` (summary) or `?format=csv&sheet=detail`."""
    if request.GET.get("format") == "csv":
        return export_csv(statements, detail=request.GET.get("sheet") == "detail", filename=filename)
    return export_xlsx(statements, title=title, filename=filename)


def statement_title(s: Any) -> str:
    title = _("%(merchant)s · statement %(period)s") % {
        "merchant": s.merchant.name,
        "period": f"{s.period_start:%Y-%m}",
    }
    if s.sequence > 1:
        title += " " + _("(supplementary no. %(n)s)") % {"n": s.sequence}
    return title


def statement_filename(s: Any) -> str:
    return f"statement-{s.period_start:%Y-%m}-{s.merchant_id}-{s.sequence}"
