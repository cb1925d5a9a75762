"""Pure catalogue rules (no database): normalisation, search text and grams, option keys and the SKU matrix, the
editors' checks. Hypothesis: the gram index never loses a hit (every text containing the query has all the query's
grams), and normalising twice changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.commerce import rules_catalog as r
from galleria.commerce.types import OnlineProductIn, OptionIn, SkuIn

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
TEXT = st.text(alphabet=st.one_of(HAN, st.sampled_from("abcXYZ０１２ＡＢ ｶﾞ-")), max_size=40)


def test_normalise_folds_width_and_case_and_spaces():
    assert r.normalise("  ＩＰＨＯＮＥ　１５   手机壳 ") == "iphone 15 手机壳"
    assert r.normalise("ｶﾞﾗｽ") == "ガラス"  # half-width katakana, voiced mark joined
    assert r.search_query("奶茶" * 40) == "奶茶" * 15  # at most 30 characters
    assert r.search_query("   ") == ""


@given(TEXT)
def test_normalising_twice_changes_nothing(text):
    assert r.normalise(r.normalise(text)) == r.normalise(text)


def test_search_text_joins_each_part_once_title_first():
    text = r.search_text(
        title="芝士奶茶", subtitle="Heytea 芝士", categories=["奶茶", "饮品"], merchant="喜茶", values=["大杯", "大杯"]
    )
    assert text == "芝士奶茶 heytea 芝士 奶茶 饮品 喜茶 大杯"
    assert len(r.search_text(title="茶" * 60, subtitle="奶" * 80, values=["x" * 20] * 30)) <= r.SEARCH_TEXT_MAX
    assert r.search_text(title="茶" * 60, values=["x" * 20] * 30).startswith("茶" * 60)


def test_query_grams_are_the_query_up_to_two_characters_else_its_bigrams():
    assert r.query_grams("奶") == {"奶"}
    assert r.query_grams("奶茶") == {"奶茶"}
    assert r.query_grams("芝士奶茶") == {"芝士", "士奶", "奶茶"}
    assert r.grams("奶茶") == {"奶", "茶", "奶茶"}


@given(text=TEXT, start=st.integers(0, 40), length=st.integers(1, 10))
def test_the_index_never_loses_a_hit(text, start, length):
    """Any substring of a product's text is found by the grams: the query's grams ⊆ the text's grams."""
    text = r.normalise(text)
    query = text[start : start + length]
    if query:
        assert r.query_grams(query) <= r.grams(text)


def test_option_keys_are_normalised_and_ordered_by_the_product():
    names = ["颜色", "尺码"]
    assert r.option_key({"尺码": "Ｍ", "颜色": " 红 "}, names) == "颜色=红|尺码=M"
    assert r.sku_label({"尺码": "M", "颜色": "红"}, names) == "红 / M"
    assert r.option_key({}, []) == ""


def test_the_matrix_is_every_combination():
    options = [OptionIn("颜色", ("红", "蓝")), OptionIn("尺码", ("S", "M", "L"))]
    combos = r.matrix(options)
    assert len(combos) == 6 and combos[0] == {"颜色": "红", "尺码": "S"} and combos[-1] == {"颜色": "蓝", "尺码": "L"}
    assert r.matrix([]) == [{}]  # a product without options sells one SKU


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ([OptionIn(f"o{i}", ("a",)) for i in range(4)], "options"),
        ([OptionIn("", ("a",))], "options.0"),
        ([OptionIn("a=b", ("a",))], "options.0"),
        ([OptionIn("颜色", ("红",)), OptionIn("颜色", ("蓝",))], "options.1"),
        ([OptionIn("颜色", ())], "options.0"),
        ([OptionIn("颜色", tuple(str(i) for i in range(21)))], "options.0"),
        ([OptionIn("颜色", ("红", " 红"))], "options.0"),
        ([OptionIn("颜色", ("a|b",))], "options.0"),
    ],
)
def test_options_refused(options, field):
    assert field in r.options_problems(options)


def test_skus_checked_against_the_options():
    options = [OptionIn("颜色", ("红", "蓝"))]
    ok = [SkuIn({"颜色": "红"}, 2800, 3200, "690123"), SkuIn({"颜色": "蓝"}, 2800)]
    assert r.skus_problems(options, ok) == {}
    assert r.skus_problems(options, ok[:1]) == {}  # not every combination must be sold
    assert "skus" in r.skus_problems(options, [])
    assert "skus.0" in r.skus_problems(options, [SkuIn({"颜色": "绿"}, 100)])
    assert "skus.0" in r.skus_problems(options, [SkuIn({}, 100)])
    assert "skus.1" in r.skus_problems(options, [ok[0], SkuIn({"颜色": " 红"}, 100)])  # the same combination
    assert "skus.0" in r.skus_problems(options, [SkuIn({"颜色": "红"}, 0)])
    assert "skus.0" in r.skus_problems(options, [SkuIn({"颜色": "红"}, 2800, 2700)])  # list price below price
    assert "skus.1" in r.skus_problems(options, [ok[0], SkuIn({"颜色": "蓝"}, 100, None, "690123")])
    assert r.skus_problems([], [SkuIn({}, 100)]) == {}


def test_price_range_and_editor_checks():
    assert r.price_range([2800, 1900, 3200]) == (1900, 3200) and r.price_range([]) == (0, 0)
    assert r.product_problems(OnlineProductIn(title="芝士奶茶")) == {}
    assert set(r.product_problems(OnlineProductIn(title=" ", allow_pickup=False))) == {"title", "allow_pickup"}
    assert r.settings_problems(
        {
            "pay_minutes": 4,
            "auto_receive_days": 10,
            "return_days": 6,
            "pickup_days": 7,
            "after_sale_response_hours": 48,
            "review_window_days": 30,
        }
    ).keys() == {"pay_minutes", "return_days"}
    assert r.shop_problems(return_address="", service_phone="0755-8888 8888") == {}
    assert "service_phone" in r.shop_problems(return_address="", service_phone="call me")
    assert r.stock_count_problem(0) == "" and r.stock_count_problem(-1) and r.stock_count_problem(r.MAX_STOCK + 1)


def test_publish_problems_say_what_is_missing():
    ok = {
        "is_blocked": False,
        "active_prices": [100],
        "has_category": True,
        "allow_delivery": False,
        "ships": False,
        "picks": True,
    }
    assert r.publish_problems(**ok) == []
    assert len(r.publish_problems(**(ok | {"is_blocked": True, "active_prices": [], "has_category": False}))) == 3
    assert len(r.publish_problems(**(ok | {"allow_delivery": True}))) == 1  # delivery without a ship-from store
    assert len(r.publish_problems(**(ok | {"picks": False}))) == 1
