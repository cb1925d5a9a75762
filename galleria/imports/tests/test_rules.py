"""Pure rules: mapping proposals from Chinese and English headers, cells, formulas."""

from __future__ import annotations

import datetime as dt

import pytest

from galleria.imports import rules


def test_propose_mapping_chinese_and_english():
    headers = ["手机号", "姓名", "出生日期", "积分", "会员等级", "车牌号", "Email", "卡号", "入会商场", "备注"]
    mapping = rules.propose_mapping(rules.MEMBERS, headers)
    assert mapping == {
        "phone": 0,
        "name": 1,
        "birthday": 2,
        "points": 3,
        "tier": 4,
        "plate": 5,
        "email": 6,
        "card_no": 7,
        "join_mall": 8,
    }
    english = rules.propose_mapping(rules.MEMBERS, ["Mobile", "Name", "Birthday", "Points", "Tier", "Plate"])
    assert english["phone"] == 0 and english["tier"] == 4 and english["plate"] == 5
    sales = rules.propose_mapping(rules.SALES, ["电话", "商户", "消费日期", "金额"])
    assert sales == {"phone": 0, "merchant": 1, "sold_on": 2, "amount": 3}


def test_mapping_problems():
    assert rules.mapping_problems(rules.MEMBERS, {"name": 0}, 2) == ["missing:phone"]
    assert "column_twice" in rules.mapping_problems(rules.MEMBERS, {"phone": 0, "name": 0}, 2)
    assert "out_of_range" in rules.mapping_problems(rules.MEMBERS, {"phone": 5}, 2)
    assert rules.mapping_problems(rules.MEMBERS, {"phone": 1}, 2) == []


@pytest.mark.parametrize(
    ("text", "formula"),
    [("=1+1", True), ("@SUM(A1)", True), ("+SUM(A1)", True), ("-2+3", True), ("+8613800138000", False),
     ("-5", False), ("13800138000", False), ("", False), ("张三", False)],
)  # fmt: skip
def test_formula_detection(text, formula):
    assert rules.is_formula_text(text) is formula


@pytest.mark.parametrize(
    "text", ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "2024-03-05 10:00:00"]
)
def test_dates(text):
    assert rules.parse_date(text) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("text", ["2024-02-30", "05/03/2024", "yesterday", "2024"])
def test_bad_dates(text):
    with pytest.raises(rules.CellError):
        rules.parse_date(text)


def test_points_and_amounts():
    assert rules.parse_points("1,234") == 1234
    assert rules.parse_points("12.0") == 12
    for bad, code in (("12.5", "points_invalid"), ("-3", "points_negative"), ("abc", "points_invalid")):
        with pytest.raises(rules.CellError) as info:
            rules.parse_points(bad)
        assert info.value.code == code
    assert rules.parse_amount_fen("¥1,234.50") == 123450
    assert rules.parse_amount_fen("199.5") == 19950
    for bad in ("1.234", "0", "-5", "NaN", "Infinity"):
        with pytest.raises(rules.CellError):
            rules.parse_amount_fen(bad)


def test_gender():
    assert rules.parse_gender("男") == "male"
    assert rules.parse_gender("F") == "female"
    assert rules.parse_gender("") == "unknown"
    with pytest.raises(rules.CellError):
        rules.parse_gender("?")
