"""Settlement statements as finance and merchants read them — shared by the console (finance) and the merchant
portal: the figure rows with their sign and their ledger accounts, a figure's drill-down page, and the exports
(XLSX with a summary sheet — one row per merchant per period, every figure — and a detail sheet with every leg;
CSV of either). Reads through `settlement.selectors` only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
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
    "parking_grant": pgettext_lazy("ledger transaction", "Parking grant"),
}
ACCOUNT_NOTES: dict[str, Promise] = {
    Figure.COLLECTED: gettext_lazy("merchant_collected ↔ gateway_clearing"),
    Figure.WALLET: gettext_lazy("wallet_spent ↔ member wallets"),
    Figure.POINTS_VALUE: gettext_lazy("points_value_redeemed ↔ points_value_fund"),
    Figure.COUPON_MALL: gettext_lazy("coupon_mall_funded ↔ coupon_fund"),
    Figure.MERCHANT_POINTS: gettext_lazy("merchant_points_cost ↔ points_cost_receivable"),
    Figure.COUPON_MERCHANT: gettext_lazy("coupon_merchant_funded ↔ coupon_merchant_memo (memorandum)"),
    Figure.PARKING_GRANTS: gettext_lazy("parking_grant_cost ↔ parking_grant_income"),
    Figure.COMMISSION: gettext_lazy("commission ↔ commission_income, posted on approval"),
    Figure.PAYOUT: gettext_lazy("merchant_payout ↔ settlement_bank, posted with the payment"),
}


@dataclass(frozen=True)
class FigureRow:
    figure: str
    number: str  # "1" … "8" as docs/settlement.md numbers them
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
            Figure.PARKING_GRANTS,
            "6",
            _("Parking you granted to customers") if you else _("Parking the merchant granted to customers"),
            _(
                "Parking hours granted from the merchant portal: the merchant pays the car park fee each grant "
                "covered, in the month it was granted."
            ),
            s.parking_grants_fen,
            -1,
        ),
        (
            Figure.COMMISSION,
            "7",
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
    plate: str = ""  # a parking grant's leg: the plate (masked) and the hours granted
    hours: int | None = None


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
            leg.plate,
            leg.hours,
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
        _("Parking granted to customers (¥)"),
        _("Net: the mall pays (¥)"),
        _("Confirmed at"),
        _("Approved at"),
        _("Paid at"),
        _("Payment reference"),
    ]


MONEY_COLUMNS = {8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20}  # 0-based positions of the ¥ columns


def _when(moment: dt.datetime | None, tz: dt.tzinfo | None = None) -> str:
    """The moment in the current time zone (or `tz`, looked up once by a long export), to the minute."""
    return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M") if moment else ""


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
        money(s.parking_grants_fen),
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


def _detail_row(
    s: Any, figure: str, leg: Leg, money: Any, labels: dict[str, str] | None = None, tz: dt.tzinfo | None = None
) -> list[Any]:
    """One leg of the detail sheet; `labels` caches the figure and transaction labels over a long export, `tz` the
    current time zone."""
    labels = labels if labels is not None else {}
    figure_text = labels.get(figure) or labels.setdefault(figure, figure_label(figure))
    kind_key = f"{leg.kind}|{leg.source.split(':', 1)[0]}"
    kind_text = labels.get(kind_key) or labels.setdefault(kind_key, kind_label(leg))
    return [
        f"{s.period_start:%Y-%m}",
        s.sequence,
        spreadsheet_cell(s.merchant.name),
        figure_text,
        _when(leg.occurred_at, tz),
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
        total("parking_grants_fen"),
        total("net_fen"),
        "",
        "",
        "",
        "",
    ]


def export_xlsx(statements: Sequence[Any], *, title: str, filename: str) -> HttpResponse:
    """A workbook: "Statements" (one row per merchant per period, every figure, a total row) and "Detail" (every
    ledger leg behind the figures). Money cells are numbers in yuan with two decimals.

    openpyxl (write-only mode) writes the workbook — styles, the summary sheet, the detail sheet's widths, frozen
    header and header row — but not the detail sheet's rows: a month's export has ~80,000 legs (~750,000 cells), and
    openpyxl's pure-Python writer (a cell object and an XML element per cell) spent 11–16 s on them (62 s on a
    loaded machine); `_detail_rows_xml` writes the same XML as text in about a second, streamed into the saved
    package (`_splice_rows`). The file is the one openpyxl would write, byte for byte (docs/performance.md;
    settlement/tests/test_interfaces.py compares the rows with openpyxl's)."""
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
                cell.number_format = MONEY_FORMAT
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
    money_style = cells(detail, [0], money=[0])[0].style_id  # the summary's money cells registered it already
    out = io.BytesIO()
    wb.save(out)
    content = _splice_rows(
        out.getvalue(), part=DETAIL_PART, rows=_detail_rows_xml(statements, money_style=money_style, first_row=2)
    )
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


MONEY_FORMAT = "#,##0.00"
DETAIL_PART = "xl/worksheets/sheet2.xml"  # openpyxl names the sheets' parts by their order: "Detail" is the second
_COLUMNS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")  # control characters XML 1.0 cannot hold
_MAX_CELL_TEXT = 32767  # Excel's limit on a cell's text (openpyxl truncates there too)


def _detail_rows_xml(statements: Sequence[Any], *, money_style: int, first_row: int) -> Iterator[str]:
    """The detail sheet's rows (every leg of `selectors.export_legs`, at most EXPORT_MAX_LEGS) as SpreadsheetML."""
    labels: dict[str, str] = {}
    tz = timezone.get_current_timezone()
    money_at = {8: money_style}
    for n, (s, figure, leg) in enumerate(selectors.export_legs(statements=statements)):
        if n >= EXPORT_MAX_LEGS:
            note = _("More legs than an export holds: export fewer statements, or the CSV of the legs.")
            yield _row_xml(first_row + n, [note], {})
            break
        yield _row_xml(first_row + n, _detail_row(s, figure, leg, _yuan, labels, tz), money_at)


def _row_xml(row: int, values: Sequence[Any], styles: dict[int, int]) -> str:
    """One `<row>` exactly as openpyxl's write-only sheet writes it (without lxml): text as inline strings, numbers
    (int, Decimal) as "%.16g", a style index where given, no cell for None. Text is always text: the cells of an
    export are neutralised against formulas (`spreadsheet_cell`) and never meant as Excel error values."""
    parts = [f'<row r="{row}">']
    for i, value in enumerate(values):
        if value is None:
            continue
        ref = f"{_COLUMNS[i]}{row}"
        style = f' s="{styles[i]}"' if i in styles else ""
        if isinstance(value, str):
            text = _ILLEGAL_XML.sub("", value[:_MAX_CELL_TEXT])
            if not text:
                parts.append(f'<c r="{ref}"{style} t="inlineStr" />')
                continue
            stripped = text.strip()
            space = ' xml:space="preserve"' if stripped and stripped != text else ""
            parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_xml_escape(text)}</t></is></c>')
        elif isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise TypeError(f"an export cell is text or a number, not {type(value).__name__}")
        else:
            parts.append(f'<c r="{ref}"{style} t="n"><v>{float(value):.16g}</v></c>')  # openpyxl's "%.16g"
    parts.append("</row>")
    return "".join(parts)


def _xml_escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _splice_rows(package: bytes, *, part: str, rows: Iterable[str], batch: int = 2000) -> bytes:
    """The XLSX `package` with `rows` written at the end of the sheet `part`'s sheetData; every other part copied
    as it is. The rows stream into the compressed part, `batch` at a time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        if part not in src.namelist():  # openpyxl named its parts otherwise: never drop the rows silently
            raise ValueError(f"the workbook has no {part}")
        for info in src.infolist():
            data = src.read(info)
            if info.filename != part:
                dst.writestr(info, data)
                continue
            head, end, tail = data.decode("utf-8").rpartition("</sheetData>")
            if not end:
                raise ValueError(f"{part} has no sheetData")
            target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            target.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(target, "w") as f:
                f.write(head.encode("utf-8"))
                chunk: list[str] = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) >= batch:
                        f.write("".join(chunk).encode("utf-8"))
                        chunk.clear()
                f.write("".join(chunk).encode("utf-8"))
                f.write((end + tail).encode("utf-8"))
    return out.getvalue()


def export_csv(statements: Sequence[Any], *, detail: bool, filename: str) -> HttpResponse:
    """The summary sheet (or the detail sheet) as CSV, UTF-8 with a BOM for Excel; money in yuan, two decimals."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if detail:
        writer.writerow(_detail_header())
        labels: dict[str, str] = {}
        tz = timezone.get_current_timezone()
        rows: Iterable[list[Any]] = (
            _detail_row(s, figure, leg, fen_to_yuan_str, labels, tz)
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
