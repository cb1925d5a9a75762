"""The settlement screens' own writers: the XLSX detail rows are byte for byte what openpyxl writes, and commission
rates in basis points read as percentages."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

EDGE_VALUES = [
    "2026-11",
    7,
    "",
    "  ",
    " leading",
    "trailing ",
    "\u3000全角空格",
    "R&D <b>“引号”</b> 'x' \"y\"",
    "两行\n文字",
    "'=SUM(A1:A2)",  # neutralised by spreadsheet_cell
    None,
    0,
    -3,
    Decimal(-1) / 100,
    Decimal(12345678912) / 100,
    Decimal(76982) / 100,
]


def openpyxl_rows(rows: list[list], money_at: int) -> str:
    """The sheetData of `rows` as openpyxl's write-only sheet serialises them (money_at: a "#,##0.00" column)."""
    import re
    import zipfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    for values in rows:
        row = list(values)
        if row[money_at] is not None:
            row[money_at] = WriteOnlyCell(ws, value=row[money_at])
            row[money_at].number_format = "#,##0.00"
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    found = re.search(r"<sheetData>(.*)</sheetData>", xml, re.S)
    assert found is not None
    return found.group(1)


def test_the_detail_rows_are_written_exactly_as_openpyxl_writes_them():
    """The export writes the detail sheet's rows itself (openpyxl's writer took a minute for a month): byte for
    byte what openpyxl would have written, for every kind of cell an export holds."""
    from galleria.interfaces.settlement_ui import _row_xml

    rows = [EDGE_VALUES[i : i + 9] for i in range(0, len(EDGE_VALUES) - 8)]
    rows = [row for row in rows if row[8] is None or isinstance(row[8], Decimal | int)]
    assert len(rows) >= 3
    expected = openpyxl_rows(rows, money_at=8)
    assert "".join(_row_xml(n, row, {8: 1}) for n, row in enumerate(rows, start=1)) == expected


def test_a_control_character_in_a_memo_does_not_break_the_export():
    from galleria.interfaces.settlement_ui import _row_xml

    assert _row_xml(2, ["a\x01b\x1f"], {}) == '<row r="2"><c r="A2" t="inlineStr"><is><t>ab</t></is></c></row>'


@pytest.mark.parametrize(
    ("bp", "text"),
    [(800, "8.00%"), (0, "0.00%"), (5, "0.05%"), (1250, "12.50%"), (10000, "100.00%"), (-250, "−2.50%"), (None, "")],
)
def test_basis_points_read_as_a_percentage(bp, text):
    from galleria.interfaces.templatetags.galleria_rates import percent_bp

    assert percent_bp(bp) == text
