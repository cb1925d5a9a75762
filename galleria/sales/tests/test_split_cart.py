"""`sales.rules.split_cart` (docs/design/online-mall.md §5.4): points over a cart's sub-orders by largest remainder of
their dues in whole redeem units, each part within its own sale's max share (water-filling), the rest per sub-order;
the §5.5 worked example exactly, and hypothesis for the invariants. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from galleria.core.errors import ValidationError
from galleria.core.money import allocate
from galleria.points import rules as points_rules
from galleria.points.types import RedeemConfig
from galleria.sales.rules import _redeem_unit, _unit_caps, split_cart

DEFAULT = RedeemConfig(points_per_yuan=100, min_points=100, multiple=100, max_share_bp=5000)


def test_the_worked_example():
    split = split_cart(dues=[6940, 13231, 4049], points=5000, redeem=DEFAULT, available=9000, rest_fen=19220)
    assert split.points == (1400, 2700, 900)
    assert split.points_value_fen == (1400, 2700, 900)
    assert split.rest_fen == (5540, 10531, 3149)


def test_no_points_leaves_every_due_to_money():
    split = split_cart(dues=[100, 0, 250], points=0, redeem=DEFAULT, available=0)
    assert split.points == (0, 0, 0)
    assert split.rest_fen == (100, 0, 250)


def test_a_capped_part_gives_its_excess_to_the_others():
    # dues 1,000 and 99,000: by due the small one would take 0 of 20 units anyway; make it the other way round
    split = split_cart(dues=[10000, 400], points=5200, redeem=DEFAULT, available=10000)
    assert split.points == (5000, 200)  # caps 5,000 and 200
    assert sum(split.points) == 5200


@pytest.mark.parametrize(
    ("points", "available", "rest", "code"),
    [
        (50, 1000, None, "points.below_minimum"),
        (150, 1000, None, "points.not_multiple"),
        (900, 800, None, "points.insufficient"),
        (5200, 10000, None, "points.over_max_share"),
        (1000, 1000, 1, "sale.payments_mismatch"),
    ],
)
def test_refusals(points, available, rest, code):
    with pytest.raises(ValidationError) as err:
        split_cart(dues=[6000, 4200], points=points, redeem=DEFAULT, available=available, rest_fen=rest)
    assert err.value.code == code


def test_the_total_share_fits_but_the_parts_do_not():
    # 50 % of 10,200 is 5,100 points in total, but each part rounds its own cap down to the multiple: 3,000 + 2,000
    with pytest.raises(ValidationError) as err:
        split_cart(dues=[6099, 4101], points=5100, redeem=DEFAULT, available=10000)
    assert err.value.code == "points.over_max_share"
    assert err.value.extra["max_points"] == 5000


configs = st.builds(
    RedeemConfig,
    points_per_yuan=st.sampled_from([1, 10, 50, 100, 200, 300, 1000]),
    min_points=st.sampled_from([0, 1, 100]),
    multiple=st.sampled_from([1, 10, 100]),
    max_share_bp=st.sampled_from([1000, 5000, 9999, 10000]),
)


@settings(max_examples=400, deadline=None)
@given(
    dues=st.lists(st.integers(min_value=0, max_value=500_000), min_size=1, max_size=6),
    config=configs,
    fraction=st.floats(min_value=0, max_value=1),
)
def test_parts_add_up_within_caps_in_whole_units(dues, config, fraction):
    unit = _redeem_unit(config)
    caps = _unit_caps(dues, config, unit)
    total_units = sum(caps)
    units = int(total_units * fraction)
    points = units * unit
    assume(points == 0 or (points >= config.min_points))
    total_max = points_rules.max_points(sale_total_fen=sum(dues), config=config)
    assume(points <= max(total_max, 0) or points == 0)
    split = split_cart(dues=dues, points=points, redeem=config, available=points)
    assert sum(split.points) == points
    for due, part, value, rest, cap in zip(
        dues, split.points, split.points_value_fen, split.rest_fen, caps, strict=True
    ):
        assert part % unit == 0 and part % config.multiple == 0
        assert part <= cap * unit
        assert value == points_rules.redeem_value_fen(points=part, config=config)
        assert value * config.points_per_yuan == part * 100  # whole fen: no rounding anywhere
        assert rest == due - value and rest >= 0
        if part:  # each sale accepts its part (its own max share; the minimum is the cart's)
            from dataclasses import replace

            points_rules.check_redemption(
                points=part, sale_total_fen=due, balance=part, config=replace(config, min_points=0)
            )
    assert sum(split.rest_fen) == sum(dues) - sum(split.points_value_fen)


@settings(max_examples=200, deadline=None)
@given(dues=st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=5), units=st.integers(0, 50))
def test_without_a_binding_cap_it_is_the_largest_remainder_by_due(dues, units):
    config = RedeemConfig(points_per_yuan=100, min_points=0, multiple=100, max_share_bp=10_000)
    caps = _unit_caps(dues, config, 100)
    plain = allocate(units, dues)
    assume(all(p <= c for p, c in zip(plain, caps, strict=True)))
    split = split_cart(dues=dues, points=units * 100, redeem=config, available=units * 100)
    assert list(split.points) == [p * 100 for p in plain]
