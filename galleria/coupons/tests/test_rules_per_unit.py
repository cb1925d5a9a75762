"""Per-unit kinds: ¥X off each item (每件减 / 单品直降) and a special price per item (特价). Each unit gets a whole
number of fen, so refunding units gives back exactly their discount."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from galleria.coupons import rules
from galleria.coupons.types import BasketLine, OfferSpec, RedemptionState


def line(no, unit, *, qty=1, amount=None, sku=None, category=""):
    return BasketLine(
        line_no=no,
        sku=sku or f"S{no}",
        quantity=qty,
        unit_price_fen=unit,
        amount_fen=unit * qty if amount is None else amount,
        category=category,
    )


def per_item(value, key="coupon:1", **kw):
    kw.setdefault("template_key", key)
    kw.setdefault("rank", (1, int(key.split(":")[1])))
    return OfferSpec(key=key, kind=rules.PER_ITEM, value_fen=value, **kw)


def special(price, key="coupon:1", **kw):
    kw.setdefault("template_key", key)
    kw.setdefault("rank", (1, int(key.split(":")[1])))
    return OfferSpec(key=key, kind=rules.UNIT_PRICE, unit_price_fen=price, **kw)


def by_line(result):
    return {d.line_no: d.discount_fen for d in result.line_discounts}


# ------------------------------------------------------------------------------------------------- amounts


def test_amount_off_each_item_counts_every_unit():
    result = rules.evaluate([line(1, 9900, qty=3), line(2, 5000)], [per_item(500)])
    assert result.total_discount_fen == 2000
    assert by_line(result) == {1: 1500, 2: 500}
    why = result.applied[0].explanation
    assert why["units"] == 4
    assert why["per_unit"] == [
        {"line_no": 1, "units": 3, "unit_discount_fen": 500},
        {"line_no": 2, "units": 1, "unit_discount_fen": 500},
    ]


def test_amount_off_never_exceeds_the_unit_or_the_line():
    # a ¥3 item with ¥5 off each is free, not negative; a line the POS already discounted counts what is left
    result = rules.evaluate([line(1, 300, qty=2), line(2, 3000, qty=3, amount=1000)], [per_item(500)])
    assert by_line(result) == {1: 600, 2: 999}  # line 2: 1000 // 3 = 333 a unit → 3 × 333 ≤ 1000
    assert result.total_discount_fen == 1599


def test_special_price_charges_the_price_and_cheaper_units_get_nothing():
    basket = [line(1, 12900, qty=2), line(2, 9900), line(3, 7900)]
    result = rules.evaluate(basket, [special(9900)])
    assert by_line(result) == {1: 6000, 2: 0, 3: 0}  # 2 × (129 − 99); ¥99 and ¥79 units are at or below
    assert [p.line_no for p in result.applied[0].lines] == [1, 2, 3]
    only_cheap = rules.evaluate([line(1, 9900), line(2, 5000)], [special(9900)])
    assert only_cheap.total_discount_fen == 0
    assert only_cheap.unmet == (("coupon:1", rules.NO_ELIGIBLE_LINES),)


def test_max_units_takes_the_largest_unit_discounts_first_then_line_order():
    basket = [line(1, 10000, qty=2), line(2, 20000, qty=2), line(3, 20000, qty=2)]
    result = rules.evaluate(basket, [special(8000, max_units=3)])
    # per unit: 2000, 12000, 12000 → line 2 (2 units) then one unit of line 3
    assert by_line(result) == {1: 0, 2: 24000, 3: 12000}
    assert result.applied[0].explanation["units"] == 3
    assert result.applied[0].explanation["max_units"] == 3
    same = rules.evaluate([line(1, 5000, qty=4), line(2, 5000, qty=4)], [per_item(500, max_units=5)])
    assert by_line(same) == {1: 2000, 2: 500}


def test_scope_and_exclusions_pick_the_units():
    basket = [
        line(1, 5000, qty=2, sku="TEE"),
        line(2, 5000, sku="CAP"),
        line(3, 5000, sku="GIFT", category="gift_card"),
    ]
    tees = per_item(500, scope_kind="skus", scope_skus=("TEE",))
    assert by_line(rules.evaluate(basket, [tees])) == {1: 1000, 2: 0, 3: 0}
    no_gift = per_item(500, excluded_line_categories=("gift_card",), excluded_skus=("CAP",))
    assert by_line(rules.evaluate(basket, [no_gift])) == {1: 1000, 2: 0, 3: 0}


def test_per_unit_items_come_first_and_later_steps_see_the_lower_price():
    basket = [line(1, 11000, qty=2)]  # ¥220
    tshirt = special(9900, "promotion:1", is_coupon=False, rank=(0, 1))  # → ¥198
    spend = OfferSpec(key="coupon:2", kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000, template_key="t2")
    result = rules.evaluate(basket, [spend, tshirt])
    assert [a.key for a in result.applied] == ["promotion:1"]  # 19800 does not meet 20000
    assert result.unmet == (("coupon:2", rules.THRESHOLD_NOT_MET),)
    rate = OfferSpec(key="promotion:3", kind=rules.PERCENT, percent_off_bp=1000, is_coupon=False, rank=(0, 3))
    result = rules.evaluate(basket, [rate, per_item(1000, "coupon:4")])
    # ¥10 off each first (22000 → 20000), then 10% off the rest
    assert [a.key for a in result.applied] == ["coupon:4", "promotion:3"]
    assert result.total_discount_fen == 2000 + 2000
    both = rules.evaluate(basket, [per_item(1000, "coupon:4"), tshirt])
    assert [a.key for a in both.applied] == ["promotion:1", "coupon:4"]  # special price, then ¥10 off it
    assert by_line(both) == {1: 2 * (11000 - 9900) + 2 * 1000}


def test_stacking_rules_are_those_of_every_other_item():
    basket = [line(1, 10000, qty=3)]
    exclusive = per_item(1000, "coupon:1", is_exclusive=True, template_key="t1")
    promo = OfferSpec(key="promotion:2", kind=rules.PERCENT, percent_off_bp=2000, is_coupon=False, rank=(0, 2))
    best = rules.best_combination(basket, [exclusive, promo])
    assert [a.key for a in best.applied] == ["promotion:2"]  # 6000 alone beats 3000 alone
    required = rules.best_combination(basket, [exclusive, promo], required_keys=["coupon:1"])
    assert [a.key for a in required.applied] == ["coupon:1"]  # an exclusive coupon shuts out promotions
    grouped = per_item(1000, "coupon:3", stacking_group="sale", template_key="t3")
    promo_same_group = OfferSpec(
        key="promotion:4",
        kind=rules.UNIT_PRICE,
        unit_price_fen=5000,
        is_coupon=False,
        rank=(0, 4),
        stacking_group="sale",
    )
    best = rules.best_combination(basket, [grouped, promo_same_group])
    assert [a.key for a in best.applied] == ["promotion:4"]


def test_per_unit_items_have_no_condition_and_template_problems_name_their_fields():
    assert not rules.has_condition(per_item(500, threshold_fen=10000))
    assert not rules.has_condition(special(100))
    base = {"validity_kind": "relative", "valid_days": 7}
    assert rules.template_problems({**base, "kind": rules.PER_ITEM, "value_fen": 0}) == [
        ("value_fen", "coupon_template.value_required")
    ]
    assert rules.template_problems({**base, "kind": rules.UNIT_PRICE, "unit_price_fen": 0}) == [
        ("unit_price_fen", "coupon_template.unit_price_required")
    ]
    assert rules.template_problems({**base, "kind": rules.UNIT_PRICE, "unit_price_fen": 9900, "max_units": 0}) == [
        ("max_units", "coupon_template.max_units_invalid")
    ]
    assert rules.template_problems({**base, "kind": rules.PER_ITEM, "value_fen": 500, "max_units": 2}) == []


# ------------------------------------------------------------------------------------------------- refunds


def _state(spec, applied):
    return RedemptionState(
        key="r",
        spec=spec,
        discount_fen=applied.discount_fen,
        rolled_back_fen=0,
        lines=tuple(
            {
                "line_no": p.line_no,
                "quantity": p.quantity,
                "basis_fen": p.basis_fen,
                "discount_fen": p.discount_fen,
                "refunded_qty": 0,
                "rolled_back_fen": 0,
            }
            for p in applied.lines
        ),
    )


def _next(state, outcome):
    return RedemptionState(
        key=state.key,
        spec=state.spec,
        discount_fen=state.discount_fen,
        rolled_back_fen=state.rolled_back_fen + outcome.rolled_back_fen + outcome.clawback_fen,
        lines=outcome.lines,
    )


def test_refunding_one_unit_gives_back_exactly_that_units_discount():
    s = per_item(500)
    applied = rules.evaluate([line(1, 3333, qty=3), line(2, 2000)], [s]).applied[0]
    state = _state(s, applied)
    out = rules.refund_rollback(state=state, refund_qty={1: 1})
    assert (out.rolled_back_fen, out.clawback_fen, out.fully_returned) == (500, 0, False)
    out2 = rules.refund_rollback(state=_next(state, out), refund_qty={1: 2, 2: 1})
    assert out2.rolled_back_fen == 1500 and out2.fully_returned


unit_lines = st.lists(
    st.tuples(st.integers(min_value=0, max_value=200_000), st.integers(min_value=1, max_value=12)),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    rows=unit_lines,
    kind=st.sampled_from([rules.PER_ITEM, rules.UNIT_PRICE]),
    value=st.integers(min_value=1, max_value=150_000),
    data=st.data(),
)
def test_per_unit_discount_times_units_refunded_adds_up_to_the_whole(rows, kind, value, data):
    basket = [line(i + 1, unit, qty=q) for i, (unit, q) in enumerate(rows)]
    s = per_item(value) if kind == rules.PER_ITEM else special(value)
    result = rules.evaluate(basket, [s])
    if not result.applied:
        assert all(rules.unit_discount(s, unit_fen=unit) == 0 for unit, _q in rows)
        return
    applied = result.applied[0]
    per_unit = {ln.line_no: rules.unit_discount(s, unit_fen=ln.unit_price_fen) for ln in basket}
    assert {p.line_no: p.discount_fen for p in applied.lines} == {
        ln.line_no: per_unit[ln.line_no] * ln.quantity for ln in basket
    }
    state = _state(s, applied)
    left = {ln.line_no: ln.quantity for ln in basket}
    given_back = 0
    while any(left.values()):
        no = data.draw(st.sampled_from(sorted(k for k, v in left.items() if v)))
        q = data.draw(st.integers(min_value=1, max_value=left[no]))
        left[no] -= q
        out = rules.refund_rollback(state=state, refund_qty={no: q})
        assert out.rolled_back_fen == q * per_unit[no]  # exactly the refunded units' own discount
        assert out.clawback_fen == 0
        given_back += out.rolled_back_fen
        state = _next(state, out)
    assert given_back == applied.discount_fen
    assert all(ln["rolled_back_fen"] == ln["discount_fen"] for ln in state.lines)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=200_000),
            st.integers(min_value=1, max_value=12),
            st.integers(min_value=0, max_value=11),
        ),
        min_size=1,
        max_size=5,
    ),
    kind=st.sampled_from([rules.PER_ITEM, rules.UNIT_PRICE]),
    value=st.integers(min_value=1, max_value=150_000),
    max_units=st.none() | st.integers(min_value=1, max_value=20),
    data=st.data(),
)
def test_with_limits_and_odd_line_amounts_never_more_than_the_line_and_refunds_add_up(
    rows, kind, value, max_units, data
):
    # a POS line discount can leave a line amount that is not a multiple of its quantity
    basket = [line(i + 1, unit, qty=q, amount=max(unit * q - off, 0)) for i, (unit, q, off) in enumerate(rows)]
    s = per_item(value, max_units=max_units) if kind == rules.PER_ITEM else special(value, max_units=max_units)
    result = rules.evaluate(basket, [s])
    if not result.applied:
        return
    applied = result.applied[0]
    assert max_units is None or applied.explanation["units"] <= max_units
    for p in applied.lines:
        assert 0 <= p.discount_fen <= p.basis_fen
    for entry in applied.explanation["per_unit"]:
        ln = basket[entry["line_no"] - 1]
        assert entry["units"] <= ln.quantity
        assert entry["unit_discount_fen"] * ln.quantity <= ln.amount_fen
    state = _state(s, applied)
    left = {ln.line_no: ln.quantity for ln in basket}
    given_back = 0
    while any(left.values()):
        no = data.draw(st.sampled_from(sorted(k for k, v in left.items() if v)))
        q = data.draw(st.integers(min_value=1, max_value=left[no]))
        left[no] -= q
        out = rules.refund_rollback(state=state, refund_qty={no: q})
        assert out.rolled_back_fen >= 0 and out.clawback_fen == 0
        given_back += out.rolled_back_fen
        state = _next(state, out)
    assert given_back == applied.discount_fen
