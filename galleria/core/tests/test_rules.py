from decimal import ROUND_FLOOR

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.core import money
from galleria.core.errors import ValidationError
from galleria.core.ids import luhn_check_digit, luhn_valid, new_card_number


@given(total=st.integers(-(10**12), 10**12), weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
def test_allocate_parts_always_sum_to_the_whole(total, weights):
    parts = money.allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    if sum(weights) and total >= 0:
        # each part is within one fen of its exact share
        for part, w in zip(parts, weights, strict=True):
            assert abs(part * sum(weights) - total * w) < sum(weights)


def test_allocate_is_deterministic_on_ties():
    assert money.allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert money.allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert money.allocate(5, [0, 0]) == [3, 2]


@pytest.mark.parametrize(
    ("text", "fen"), [("12.30", 1230), ("0.01", 1), ("199.5", 19950), ("1,000", 100000), (" 7 ", 700)]
)
def test_yuan_to_fen_is_exact(text, fen):
    assert money.yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.005", "abc", "NaN", "Infinity", "1e20"])
def test_yuan_to_fen_rejects_what_it_cannot_represent(text):
    with pytest.raises(ValidationError):
        money.yuan_to_fen(text)


def test_formatting_and_rounding():
    assert money.format_cny(12345678) == "¥123,456.78"
    assert money.fen_to_yuan_str(-5) == "-0.05"
    assert money.ratio_round(199, 15, 100) == 30  # 29.85 → 30 half up
    assert money.ratio_round(199, 15, 100, mode=ROUND_FLOOR) == 29
    assert money.floor_div(19950, 1, 100) == 199


def test_card_numbers_carry_a_luhn_check_digit():
    for _ in range(200):
        card = new_card_number()
        assert len(card) == 12 and card.startswith("8")
        assert luhn_valid(card)
        wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
        assert not luhn_valid(wrong)
    assert luhn_check_digit("7992739871") == "3"
