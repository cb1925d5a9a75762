"""Plate normalisation: what cameras, members and clerks type becomes one canonical plate, or a coded error."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from galleria.core.plates import NEW_ENERGY_LETTERS, PROVINCES, SERIAL_CHARS
from galleria.parking.rules import (
    PlateError,
    PlateKind,
    format_plate,
    mask_plate,
    normalize_plate,
    plate_kind,
)

K = PlateKind


@pytest.mark.parametrize(
    ("text", "canonical", "kind"),
    [
        # ordinary blue/yellow plates and the ways people write them
        ("粤B12345", "粤B12345", K.ORDINARY),
        ("粤B·12345", "粤B12345", K.ORDINARY),
        ("粤B 12345", "粤B12345", K.ORDINARY),
        ("  粤b-12345 ", "粤B12345", K.ORDINARY),
        ("粤B.12345", "粤B12345", K.ORDINARY),
        ("粤B・12345", "粤B12345", K.ORDINARY),
        ("粤Ｂ１２３４５", "粤B12345", K.ORDINARY),  # full-width letters and digits
        ("粤Ｂ－１２３４５", "粤B12345", K.ORDINARY),  # full-width hyphen
        ("粤\u3000B12345", "粤B12345", K.ORDINARY),  # ideographic space
        ("粵B12345", "粤B12345", K.ORDINARY),  # traditional province character
        ("滬A·B1234", "沪AB1234", K.ORDINARY),
        ("浙a·ab123", "浙AAB123", K.ORDINARY),
        ("京N88888", "京N88888", K.ORDINARY),
        ("粤BD1234", "粤BD1234", K.ORDINARY),  # 7 characters: a petrol car whose serial starts with D
        ("辽O12345", "辽O12345", K.ORDINARY),  # O is a legacy authority letter, only serials exclude it
        # new energy, 8 characters: small cars letter first, large vehicles letter last
        ("粤B·D12345", "粤BD12345", K.NEW_ENERGY),
        ("粤BF12345", "粤BF12345", K.NEW_ENERGY),
        ("粤BDF1234", "粤BDF1234", K.NEW_ENERGY),  # second serial position may be a letter
        ("沪AA12345", "沪AA12345", K.NEW_ENERGY),  # the extended letters A–K
        ("京AK12345", "京AK12345", K.NEW_ENERGY),
        ("粤B12345D", "粤B12345D", K.NEW_ENERGY),
        ("苏E·12345F", "苏E12345F", K.NEW_ENERGY),
        ("川A12345H", "川A12345H", K.NEW_ENERGY),
        # special suffixes
        ("京A1234学", "京A1234学", K.COACH),
        ("粤A·1234警", "粤A1234警", K.POLICE),
        ("粤Z·1234港", "粤Z1234港", K.HONG_KONG),
        ("粤Z1A34澳", "粤Z1A34澳", K.MACAO),
        ("粵Ｚ１２３４港", "粤Z1234港", K.HONG_KONG),
        ("沪A·0012领", "沪A0012领", K.CONSULATE),
        ("沪A0012領", "沪A0012领", K.CONSULATE),
        ("京A1234挂", "京A1234挂", K.TRAILER),
        ("鲁B1234掛", "鲁B1234挂", K.TRAILER),
        ("京A1234试", "京A1234试", K.TEST),
        ("京A1234超", "京A1234超", K.OVERSIZE),
        # embassy: 使 and six digits; the older trailing 使 is folded to the front
        ("使224001", "使224001", K.EMBASSY),
        ("使·014·578", "使014578", K.EMBASSY),
        ("224 001 使", "使224001", K.EMBASSY),
        # military (two letters, five digits) and armed police (WJ, province, five characters)
        ("KA·12345", "KA12345", K.MILITARY),
        ("va12345", "VA12345", K.MILITARY),
        ("WJ粤12345", "WJ粤12345", K.ARMED_POLICE),
        ("wj 京 1234X", "WJ京1234X", K.ARMED_POLICE),
    ],
)
def test_accepted_plates_normalise_to_one_canonical_form(text, canonical, kind):
    assert normalize_plate(text) == canonical
    assert normalize_plate(canonical) == canonical
    assert plate_kind(text) is kind


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_every_one_of_the_31_provinces_is_accepted(province):
    assert len(PROVINCES) == 31
    assert normalize_plate(f"{province}a·12345") == f"{province}A12345"
    assert plate_kind(f"{province}A12345D") is K.NEW_ENERGY


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "plate.empty"),
        (" ·-. ", "plate.empty"),
        ("粤B1234", "plate.length"),
        ("粤B123456789", "plate.length"),
        ("粤B" + "1" * 40, "plate.length"),
        ("台A12345", "plate.province"),
        ("无牌车", "plate.province"),
        ("12345", "plate.province"),
        ("学A12345", "plate.province"),
        ("粤I12345", "plate.authority"),
        ("粤112345", "plate.authority"),
        ("粤粤12345", "plate.authority"),
        ("粤B12$45", "plate.character"),
        ("粤B12_45", "plate.character"),
        ("粤BΑ2345", "plate.character"),  # Greek capital alpha, not a Latin A
        ("粤BI2345", "plate.letter_io"),
        ("粤B1O345", "plate.letter_io"),
        ("粤B123456", "plate.new_energy"),  # 8 characters without a new-energy letter
        ("粤BL12345", "plate.new_energy"),  # L is not a new-energy letter
        ("粤B12345L", "plate.new_energy"),
        ("粤BD1234A", "plate.new_energy"),
        ("粤BDD12A4", "plate.new_energy"),
        ("京A1234港", "plate.suffix"),  # 港/澳 are 粤Z only
        ("粤B1234澳", "plate.suffix"),
        ("沪A12A4领", "plate.format"),
        ("粤B1234使", "plate.format"),
        ("使12345", "plate.format"),
        ("使22400A", "plate.format"),
        ("K12345", "plate.format"),
        ("KA1234X", "plate.format"),
        ("KO12345", "plate.format"),
        ("WJ12345", "plate.format"),
        ("WJ粤1234", "plate.format"),
    ],
)
def test_rejected_texts_say_why_with_a_stable_code(text, code):
    with pytest.raises(PlateError) as info:
        normalize_plate(text)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_non_string_input_is_a_plate_error_not_a_crash():
    with pytest.raises(PlateError) as info:
        normalize_plate(None)
    assert info.value.code == "plate.empty"


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("粤BO1234", "粤B01234"), ("粤B1I345", "粤B11345"), ("粤BDO1234", "粤BD01234")],
)
def test_i_and_o_in_a_serial_come_with_the_plate_that_was_probably_meant(text, suggestion):
    with pytest.raises(PlateError) as info:
        normalize_plate(text)
    assert info.value.code == "plate.letter_io"
    assert info.value.params["suggestion"] == suggestion


def test_no_suggestion_when_swapping_i_and_o_does_not_make_a_plate():
    with pytest.raises(PlateError) as info:
        normalize_plate("粤BOOOOOO")
    assert info.value.code == "plate.letter_io"
    assert "suggestion" not in info.value.params


@pytest.mark.parametrize(
    ("plate", "masked", "formatted"),
    [
        ("粤B12345", "粤B·****5", "粤B·12345"),
        ("粤b·d12348", "粤B·*****8", "粤B·D12348"),
        ("粤Z1234港", "粤Z·***4港", "粤Z·1234港"),
        ("使224001", "使·*****1", "使·224001"),
        ("KA12345", "KA·****5", "KA·12345"),
        ("WJ粤12345", "WJ粤·****5", "WJ粤·12345"),
    ],
)
def test_mask_keeps_the_issuer_and_the_last_serial_character(plate, masked, formatted):
    assert mask_plate(plate) == masked
    assert format_plate(plate) == formatted


@pytest.mark.parametrize(("text", "masked"), [("无牌车", "无*车"), ("未识别 ABC", "未****C"), ("AB", "**"), ("", "")])
def test_mask_of_something_that_is_not_a_plate_still_hides_the_middle(text, masked):
    assert mask_plate(text) == masked


def test_format_rejects_what_normalise_rejects():
    with pytest.raises(PlateError):
        format_plate("粤B1234")


# --- properties: any decoration of a valid plate normalises back to it ------------------------------------------------

SERIAL = sorted(SERIAL_CHARS)
DIGIT = list("0123456789")
AUTHORITY = sorted(set("ABCDEFGHJKLMNOPQRSTUVWXYZ"))


@st.composite
def plates(draw):
    province = draw(st.sampled_from(sorted(PROVINCES)))
    authority = draw(st.sampled_from(AUTHORITY))
    shape = draw(st.sampled_from(["ordinary", "small_ne", "large_ne", "suffix"]))
    if shape == "ordinary":
        serial = "".join(draw(st.lists(st.sampled_from(SERIAL), min_size=5, max_size=5)))
        return province + authority + serial, K.ORDINARY
    if shape == "small_ne":
        serial = (
            draw(st.sampled_from(sorted(NEW_ENERGY_LETTERS)))
            + draw(st.sampled_from(SERIAL))
            + "".join(draw(st.lists(st.sampled_from(DIGIT), min_size=4, max_size=4)))
        )
        return province + authority + serial, K.NEW_ENERGY
    if shape == "large_ne":
        serial = "".join(draw(st.lists(st.sampled_from(DIGIT), min_size=5, max_size=5)))
        return province + authority + serial + draw(st.sampled_from(sorted(NEW_ENERGY_LETTERS))), K.NEW_ENERGY
    suffix, kind = draw(st.sampled_from([("挂", K.TRAILER), ("学", K.COACH), ("警", K.POLICE), ("试", K.TEST)]))
    serial = "".join(draw(st.lists(st.sampled_from(SERIAL), min_size=4, max_size=4)))
    return province + authority + serial + suffix, kind


FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@st.composite
def decorated(draw, plate):
    out = []
    for ch in plate:
        if ch.isascii() and draw(st.booleans()):
            ch = FULL_WIDTH[ch]
        if ch.isascii() and draw(st.booleans()):
            ch = ch.lower()
        out.append(ch)
        out.append(draw(st.sampled_from(["", "", " ", "·", "-", ".", "・", "\u3000"])))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), generated=plates())
def test_any_decoration_of_a_valid_plate_normalises_back_to_it(data, generated):
    plate, kind = generated
    text = data.draw(decorated(plate))
    assert normalize_plate(text) == plate
    assert plate_kind(text) is kind
    masked = mask_plate(text)
    assert masked.startswith(plate[:2] + "·")
    assert sum(ch not in "*·" for ch in masked) <= 4  # issuer (2), the last serial character, a suffix


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_arbitrary_text_is_either_a_canonical_plate_or_a_plate_error(text):
    try:
        plate = normalize_plate(text)
    except PlateError as exc:
        assert exc.code.startswith("plate.")
    else:
        assert normalize_plate(plate) == plate
        assert plate == plate.strip().upper()
