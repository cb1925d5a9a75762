"""The member code's Code 128 barcode: the encoding checked against the symbology's published table, and the SVG."""

from __future__ import annotations

import re

import pytest

from galleria.interfaces.app.barcode import QUIET_ZONE, code128_modules, code128_svg

# Bar/space widths of Code 128 symbols, from the symbology's table (ISO/IEC 15417), by symbol value.
WIDTHS = {
    0: "212222",
    1: "222122",
    2: "222221",
    3: "121223",
    4: "121322",
    5: "131222",
    6: "122213",
    7: "122312",
    8: "132212",
    9: "221213",
    10: "221312",
    105: "211232",  # Start C
}
STOP = "2331112"


def modules(widths: str) -> str:
    """ "211232" → "11010011100": bar, space, bar, … each as wide as its digit."""
    return "".join(("1" if i % 2 == 0 else "0") * int(w) for i, w in enumerate(widths))


def test_the_table_reads_as_published():
    assert modules(WIDTHS[105]) == "11010011100"  # Start C
    assert modules(STOP) == "1100011101011"
    assert modules(WIDTHS[0]) == "11011001100"


def test_an_18_digit_code_is_start_c_nine_pairs_check_and_stop():
    # pairs 10 09 08 07 06 05 00 00 08; check = (105 + 1·10 + 2·9 + 3·8 + 4·7 + 5·6 + 6·5 + 7·0 + 8·0 + 9·8) % 103 = 8
    expected = "".join(modules(WIDTHS[v]) for v in (105, 10, 9, 8, 7, 6, 5, 0, 0, 8, 8)) + modules(STOP)
    assert code128_modules("100908070605000008") == expected
    assert len(expected) == 134


def test_a_short_code_and_its_check_symbol():
    # pairs 00 01; check = (105 + 1·0 + 2·1) % 103 = 4
    expected = "".join(modules(WIDTHS[v]) for v in (105, 0, 1, 4)) + modules(STOP)
    assert code128_modules("0001") == expected


@pytest.mark.parametrize("bad", ["", "会员", "12\n34"])
def test_text_code_128_cannot_carry_is_refused(bad):
    with pytest.raises(ValueError):
        code128_modules(bad)


def test_the_svg_draws_every_bar_with_its_quiet_zone():
    code = "661234567890123456"
    svg = code128_svg(code, title="Member <barcode>")
    bars = code128_modules(code)
    width = len(bars) + 2 * QUIET_ZONE
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert f'viewBox="0 0 {width} 1"' in svg and 'class="barcode"' in svg
    assert "Member &lt;barcode&gt;" in svg and "<barcode>" not in svg  # the title is escaped
    drawn = ["0"] * width
    for x, w in re.findall(r"M(\d+) 0h(\d+)v1h-\2z", svg):
        for i in range(int(x), int(x) + int(w)):
            drawn[i] = "1"
    assert "".join(drawn) == "0" * QUIET_ZONE + bars + "0" * QUIET_ZONE
