"""The points mall's pure rules (no database): prices against the group's points rules, the sale window, limits, the
order state machine, pickup codes, addresses, the editor's checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.commerce import rules
from galleria.commerce.types import Fulfilment, OrderState, ProductIn
from galleria.points.types import RedeemConfig

DEFAULT = RedeemConfig(points_per_yuan=100, min_points=100, multiple=100, max_share_bp=5000)
T0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("points", "config", "ok"),
    [
        (1000, DEFAULT, True),
        (100, DEFAULT, True),
        (50, DEFAULT, False),  # below the minimum
        (1050, DEFAULT, False),  # not a whole multiple
        (0, DEFAULT, False),
        (1000, RedeemConfig(points_per_yuan=300, min_points=1, multiple=1, max_share_bp=5000), False),  # 333.3 fen
        (900, RedeemConfig(points_per_yuan=300, min_points=1, multiple=1, max_share_bp=5000), True),  # 300 fen
    ],
)
def test_a_points_price_must_be_one_the_checkout_takes(points, config, ok):
    assert (rules.price_problem(points, config=config) == "") is ok


@given(st.integers(1, 1000), st.integers(1, 10))
def test_a_quantity_of_an_acceptable_price_is_acceptable_and_worth_exactly_its_units(unit, quantity):
    price = unit * 100
    assert rules.price_problem(price, config=DEFAULT) == ""
    assert rules.price_problem(price * quantity, config=DEFAULT) == ""
    assert rules.points_value_fen(price * quantity, config=DEFAULT) == quantity * rules.points_value_fen(
        price, config=DEFAULT
    )


def test_totals():
    assert rules.totals(quantity=3, price_points=800, price_fen=990) == (2400, 2970)


@pytest.mark.parametrize(
    ("status", "since", "until", "ok"),
    [
        ("on_sale", None, None, True),
        ("draft", None, None, False),
        ("off_sale", None, None, False),
        ("on_sale", T0, None, True),  # from is inclusive
        ("on_sale", T0 + dt.timedelta(seconds=1), None, False),
        ("on_sale", None, T0, False),  # until is exclusive
        ("on_sale", None, T0 + dt.timedelta(seconds=1), True),
    ],
)
def test_the_sale_window(status, since, until, ok):
    assert rules.on_sale(status=status, on_sale_from=since, on_sale_until=until, at=T0) is ok


def test_tiers():
    assert rules.tier_ok(member_rank=0, min_rank=None)
    assert rules.tier_ok(member_rank=2, min_rank=2)
    assert not rules.tier_ok(member_rank=1, min_rank=2)


@pytest.mark.parametrize(
    ("quantity", "total", "today", "per_member", "per_day", "code"),
    [
        (1, 0, 0, None, None, ""),
        (2, 1, 1, 3, None, ""),
        (3, 1, 1, 3, None, "commerce.limit_reached"),
        (1, 1, 1, None, 1, "commerce.daily_limit_reached"),
        (1, 5, 0, None, 1, ""),  # yesterday's units do not count today
        (1, 3, 3, 3, 1, "commerce.limit_reached"),  # the member's limit is told first
    ],
)
def test_limits(quantity, total, today, per_member, per_day, code):
    assert (
        rules.limit_problem(
            quantity=quantity, bought_total=total, bought_today=today, per_member=per_member, per_day=per_day
        )
        == code
    )


@given(
    st.integers(0, 50),
    st.integers(0, 20),
    st.integers(0, 20),
    st.one_of(st.none(), st.integers(1, 20)),
    st.one_of(st.none(), st.integers(1, 20)),
)
def test_max_quantity_is_the_most_the_limits_and_the_stock_allow(stock, total, today, per_member, per_day):
    today = min(today, total)
    most = rules.max_quantity(
        stock=stock, bought_total=total, bought_today=today, per_member=per_member, per_day=per_day
    )
    assert 0 <= most <= min(stock, rules.MAX_QUANTITY)
    if most:
        assert (
            rules.limit_problem(
                quantity=most, bought_total=total, bought_today=today, per_member=per_member, per_day=per_day
            )
            == ""
        )
    assert (
        most == min(stock, rules.MAX_QUANTITY)
        or rules.limit_problem(
            quantity=most + 1, bought_total=total, bought_today=today, per_member=per_member, per_day=per_day
        )
        != ""
    )


def test_fulfilments():
    assert rules.fulfilments(kind="coupon", allow_pickup=True, allow_delivery=True) == ["coupon"]
    assert rules.fulfilments(kind="gift", allow_pickup=True, allow_delivery=True) == ["pickup", "delivery"]
    assert rules.fulfilments(kind="gift", allow_pickup=False, allow_delivery=True) == ["delivery"]


@pytest.mark.parametrize(
    ("state", "fulfilment", "by_member", "cancellable", "ok"),
    [
        (OrderState.PAID, Fulfilment.PICKUP, True, True, True),
        (OrderState.PAID, Fulfilment.PICKUP, True, False, False),  # the item says members may not
        (OrderState.PAID, Fulfilment.PICKUP, False, False, True),  # staff may
        (OrderState.COMPLETED, Fulfilment.PICKUP, False, True, False),  # picked up
        (OrderState.PAID, Fulfilment.DELIVERY, True, True, True),
        (OrderState.SHIPPED, Fulfilment.DELIVERY, False, True, False),  # shipped
        (OrderState.COMPLETED, Fulfilment.COUPON, True, True, True),  # while the coupon is unused (checked apart)
        (OrderState.CANCELLED, Fulfilment.COUPON, False, True, False),
    ],
)
def test_who_may_cancel_what(state, fulfilment, by_member, cancellable, ok):
    assert (
        rules.can_cancel(state=state, fulfilment=fulfilment, by_member=by_member, member_cancellable=cancellable) is ok
    )


def test_ship_and_hand_over_only_from_paid_and_the_right_fulfilment():
    assert rules.can_ship(state="paid", fulfilment="delivery")
    assert not rules.can_ship(state="paid", fulfilment="pickup")
    assert not rules.can_ship(state="shipped", fulfilment="delivery")
    assert rules.can_hand_over(state="paid", fulfilment="pickup")
    assert not rules.can_hand_over(state="completed", fulfilment="pickup")
    assert rules.initial_state("coupon") == "completed"
    assert rules.initial_state("pickup") == "paid"


def test_pickup_codes():
    code = rules.new_pickup_code()
    assert len(code) == 8 and code.isdigit()
    assert rules.normalise_code("1234 5678") == "12345678"
    assert rules.normalise_code("１２３４-５６７８") == "12345678"  # full-width, a dash
    assert rules.normalise_code("1234567") == ""
    assert rules.normalise_code("abcd5678") == ""
    assert rules.normalise_code("") == ""
    assert rules.spaced_code("12345678") == "1234 5678"


def test_order_numbers_are_sortable_by_day_and_not_guessable():
    number = rules.new_order_number(local_day=dt.date(2026, 5, 1))
    assert number.startswith("PM260501") and len(number) == 18 and number[2:].isdigit()


def test_addresses():
    address, errors = rules.clean_address(name=" 张三 ", phone="138 0013 8000", address="深圳市南山区星河路1号")
    assert errors == {} and address is not None and address.name == "张三"
    _none, errors = rules.clean_address(name="", phone="x", address="短")
    assert set(errors) == {"ship_name", "ship_phone", "ship_address"}


def _product(**values: Any) -> ProductIn:
    base: dict[str, Any] = {"title": "杯子", "kind": "gift", "price_points": 1000}
    return ProductIn(**(base | values))


def test_the_editor_checks():
    assert rules.product_problems(_product(), config=DEFAULT, creating=True) == {}
    problems = rules.product_problems(
        _product(
            title="",
            price_points=150,
            price_fen=-1,
            allow_pickup=False,
            per_member_limit=2,
            per_day_limit=3,
            on_sale_from=T0,
            on_sale_until=T0,
            initial_stock=-1,
        ),
        config=DEFAULT,
        creating=True,
    )
    assert set(problems) == {
        "title",
        "price_points",
        "price_fen",
        "allow_pickup",
        "per_day_limit",
        "on_sale_until",
        "initial_stock",
    }
    assert "coupon_template" in rules.product_problems(_product(kind="coupon"), config=DEFAULT, creating=False)


def test_stock_after():
    assert rules.stock_after(stock=3, delta=-3) == 0
    assert rules.stock_after(stock=3, delta=-4) is None
    assert rules.stock_after(stock=3, delta=5) == 8
