"""Pure parts of the checkout pipeline: pricing and the refund arithmetic (no database)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from galleria.core.errors import ValidationError
from galleria.points.types import EarnConfig, Rate, RedeemConfig
from galleria.sales import rules
from galleria.sales.checkout.pricing import price
from galleria.sales.checkout.types import Discounts
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn

REDEEM = RedeemConfig(points_per_yuan=100, min_points=100, multiple=100, max_share_bp=5000)
EARN = EarnConfig(
    rate=Rate(points=1, unit_fen=100, source="policy", scope="group", funder="mall", merchant_share_bp=0),
    tier_code="",
    tier_multiplier_bp=10000,
    campaign=None,
    min_spend_fen=0,
    per_sale_cap=None,
    daily_cap=None,
    excluded_categories=frozenset({"tobacco"}),
    excluded_skus=frozenset(),
)


def line(amount, sku="A", category=""):
    return LineIn(sku=sku, name=sku, quantity=1, unit_price_fen=amount, amount_fen=amount, category=category)


def test_price_splits_money_and_points_after_the_discount_and_earns_on_money():
    lines = [line(15000), line(6000, sku="T", category="tobacco")]
    priced = price(
        lines=lines,
        total_fen=21000,
        discounts=Discounts(total_fen=3000, line_fen=(2143, 857)),
        points_to_use=1000,
        balance=5000,
        redeem=REDEEM,
        payments=[PaymentIn("wechat", 17000)],
        earn=EARN,
        earned_today=0,
    )
    assert (priced.due_fen, priced.points_value_fen, priced.paid_fen) == (18000, 1000, 17000)
    assert sum(priced.line_paid_fen) == 17000 and sum(priced.line_points_spent) == 1000
    assert priced.line_points_earned[1] == 0  # an excluded category earns nothing
    assert priced.points_earned == sum(priced.line_points_earned) == priced.line_paid_fen[0] // 100


def test_price_refuses_payments_that_do_not_cover_the_amount_due_and_points_over_the_limit():
    common = {"lines": [line(10000)], "total_fen": 10000, "discounts": Discounts(0, (0,)), "redeem": REDEEM}
    with pytest.raises(ValidationError) as exc:
        price(**common, points_to_use=0, balance=0, payments=[PaymentIn("cash", 9999)], earn=None, earned_today=0)
    assert exc.value.code == "sale.payments_mismatch"
    with pytest.raises(ValidationError):  # more than half the sale
        price(**common, points_to_use=6000, balance=9000, payments=None, earn=None, earned_today=0)


def test_refund_wanted_and_unknown_lines():
    held = {1: (3, 1), 2: (1, 1), 3: (1, 0)}
    assert rules.refund_wanted(held=held, lines=None).units == {1: 2, 3: 1}
    assert rules.refund_wanted(held=held, lines=[RefundLineIn(1, 1), RefundLineIn(1, 1)]).units == {1: 2}
    by_amount = rules.refund_wanted(held=held, lines=[RefundLineIn(3, amount_fen=500), RefundLineIn(3, amount_fen=1)])
    assert (by_amount.units, by_amount.amounts) == ({}, {3: 501})
    for bad in ([RefundLineIn(3, 1, 500)], [RefundLineIn(3, 1), RefundLineIn(3, amount_fen=5)], [RefundLineIn(1, -1)]):
        with pytest.raises(ValidationError) as exc:
            rules.refund_wanted(held=held, lines=bad)
        assert exc.value.code == "refund.line_invalid"
    with pytest.raises(ValidationError) as exc:
        rules.refund_wanted(held=held, lines=[RefundLineIn(9, 1)])
    assert exc.value.code == "refund.line_unknown"
    with pytest.raises(ValidationError) as exc:
        rules.refund_wanted(held={1: (1, 1)}, lines=None)
    assert exc.value.code == "refund.empty"


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10**7),
    paid_part=st.integers(min_value=0, max_value=10**4),
    points=st.integers(min_value=0, max_value=10**5),
    spent=st.integers(min_value=0, max_value=10**5),
    parts=st.lists(st.integers(min_value=1, max_value=10**6), max_size=6),
    finish_by_unit=st.booleans(),
)
def test_amount_refunds_of_a_single_unit_line_add_up_to_the_whole_line(
    amount, paid_part, points, spent, parts, finish_by_unit
):
    """A bill paid at the store refunded by amount, in any steps, then the rest (by amount or as the unit): the
    money, points earned and points spent given back add up exactly to the line's, never more at any step."""
    paid = amount * paid_part // 10**4
    refunded = money = earned = returned = 0
    line = dict(line_no=1, quantity=1, amount_fen=amount, paid_fen=paid, points_earned=points, points_spent=spent)
    for part in parts:
        part = min(part, amount - refunded - 1)
        if part <= 0:
            break
        share = rules.refund_line_share(
            **line,
            refunded_qty=0,
            qty=0,
            clawed_fen=0,
            clawed_returned_fen=0,
            refunded_amount_fen=refunded,
            part_fen=part,
        )
        assert share.amount_fen == part and share.units == 0
        refunded, money, earned, returned = (
            refunded + part,
            money + share.money_fen,
            earned + share.points_clawback,
            returned + share.points_give_back,
        )
        assert money <= paid and earned <= points and returned <= spent
    last = rules.refund_line_share(
        **line,
        refunded_qty=0,
        clawed_fen=0,
        clawed_returned_fen=0,
        refunded_amount_fen=refunded,
        qty=1 if finish_by_unit else 0,
        part_fen=0 if finish_by_unit else amount - refunded,
    )
    assert last.units == 1
    assert (refunded + last.amount_fen, money + last.money_fen) == (amount, paid)
    assert (earned + last.points_clawback, returned + last.points_give_back) == (points, spent)
    with pytest.raises(ValidationError) as exc:  # nothing is left to refund by amount
        rules.refund_line_share(
            **line,
            refunded_qty=0,
            qty=0,
            clawed_fen=0,
            clawed_returned_fen=0,
            refunded_amount_fen=amount - 1,
            part_fen=2,
        )
    assert exc.value.code == "refund.over_amount"


def test_only_single_unit_lines_refund_by_amount():
    with pytest.raises(ValidationError) as exc:
        rules.refund_line_share(
            line_no=2,
            quantity=3,
            refunded_qty=0,
            qty=0,
            amount_fen=3000,
            paid_fen=3000,
            points_earned=0,
            points_spent=0,
            clawed_fen=0,
            clawed_returned_fen=0,
            part_fen=100,
        )
    assert exc.value.code == "refund.amount_needs_single_unit"


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.integers(min_value=1, max_value=7),
    amount=st.integers(min_value=0, max_value=10**7),
    points=st.integers(min_value=0, max_value=10**5),
    steps=st.lists(st.integers(min_value=1, max_value=3), max_size=8),
)
def test_partial_refund_shares_add_up_to_the_whole_line(quantity, amount, points, steps):
    done = money = earned = 0
    for step in [*steps, quantity]:
        qty = min(step, quantity - done)
        if qty <= 0:
            break
        share = rules.refund_line_share(
            line_no=1,
            quantity=quantity,
            refunded_qty=done,
            qty=qty,
            amount_fen=amount,
            paid_fen=amount,
            points_earned=points,
            points_spent=0,
            clawed_fen=0,
            clawed_returned_fen=0,
        )
        done, money, earned = done + qty, money + share.money_fen, earned + share.points_clawback
    assert (done, money, earned) == (quantity, amount, points)
    with pytest.raises(ValidationError):
        rules.refund_line_share(
            line_no=1,
            quantity=quantity,
            refunded_qty=quantity,
            qty=1,
            amount_fen=amount,
            paid_fen=amount,
            points_earned=points,
            points_spent=0,
            clawed_fen=0,
            clawed_returned_fen=0,
        )


def test_refund_payments_in_proportion_to_what_each_method_still_holds():
    assert rules.refund_payments(1000, [3000, 1000]) == [750, 250]
    assert rules.refund_payments(0, [3000, 1000]) == [0, 0]
    assert rules.refund_payments(500, [0, 0]) == [0, 0]
