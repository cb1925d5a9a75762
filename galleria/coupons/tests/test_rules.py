"""The pure coupon arithmetic: every kind, exact thresholds, never negative, exact allocation, stacking, refunds."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from galleria.coupons import rules
from galleria.coupons.types import BasketLine, OfferSpec, RedemptionState


def line(no, amount, *, qty=1, sku=None, category=""):
    return BasketLine(
        line_no=no,
        sku=sku or f"S{no}",
        quantity=qty,
        unit_price_fen=amount // qty,
        amount_fen=amount,
        category=category,
    )


def spec(key="coupon:1", kind=rules.CASH_OFF, **kw):
    kw.setdefault("template_key", key)
    kw.setdefault("rank", (1, int(key.split(":")[1])))
    return OfferSpec(key=key, kind=kind, **kw)


def total(lines, *specs):
    return rules.evaluate(lines, specs).total_discount_fen


# ------------------------------------------------------------------------------------------------- kinds


def test_cash_off_is_capped_by_the_basket():
    assert total([line(1, 5000)], spec(value_fen=2000)) == 2000
    assert total([line(1, 1500)], spec(value_fen=2000)) == 1500


def test_cash_off_with_minimum_spend():
    assert total([line(1, 9999)], spec(value_fen=1000, threshold_fen=10000)) == 0
    assert total([line(1, 10000)], spec(value_fen=1000, threshold_fen=10000)) == 1000


def test_threshold_compares_exact_fen_19950_does_not_meet_20000():
    s = spec(kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000)
    result = rules.evaluate([line(1, 19950)], [s])
    assert result.total_discount_fen == 0
    assert result.unmet == (("coupon:1", "coupon.threshold_not_met"),)
    assert total([line(1, 20000)], s) == 3000
    assert total([line(1, 9950), line(2, 10050)], s) == 3000


def test_per_threshold_steps_and_cap():
    s = spec(kind=rules.PER_THRESHOLD, value_fen=2000, threshold_fen=10000)
    assert total([line(1, 9999)], s) == 0
    assert total([line(1, 10000)], s) == 2000
    assert total([line(1, 35000)], s) == 6000
    capped = spec(kind=rules.PER_THRESHOLD, value_fen=2000, threshold_fen=10000, max_discount_fen=5000)
    assert total([line(1, 35000)], capped) == 5000


def test_percent_rounds_half_up_and_caps():
    s = spec(kind=rules.PERCENT, percent_off_bp=1500)
    assert total([line(1, 333)], s) == 50  # 49.95 → 50
    assert total([line(1, 330)], s) == 50  # 49.5 → 50
    assert total([line(1, 329)], s) == 49  # 49.35 → 49
    assert total([line(1, 100000)], spec(kind=rules.PERCENT, percent_off_bp=2000, max_discount_fen=5000)) == 5000


def test_n_items_needs_n_eligible_units():
    s = spec(kind=rules.N_ITEMS, percent_off_bp=2000, min_items=3)
    assert total([line(1, 2000, qty=2)], s) == 0
    assert total([line(1, 2000, qty=2), line(2, 1000)], s) == 600
    excluded = spec(kind=rules.N_ITEMS, percent_off_bp=2000, min_items=3, excluded_skus=("S2",))
    assert total([line(1, 2000, qty=2), line(2, 1000)], excluded) == 0


@pytest.mark.parametrize("kind", sorted(rules.STANDALONE_KINDS))
def test_standalone_kinds_never_touch_the_basket(kind):
    result = rules.evaluate([line(1, 10000)], [spec(kind=kind, value_fen=500)])
    assert result.total_discount_fen == 0
    assert result.unmet == (("coupon:1", rules.STANDALONE),)


# ------------------------------------------------------------------------------------------------- scope


def test_sku_scope_and_exclusions_pick_the_eligible_lines():
    basket = [line(1, 10000, sku="A"), line(2, 10000, sku="B", category="tobacco"), line(3, 5000, sku="C")]
    only_a = spec(kind=rules.THRESHOLD, value_fen=1000, threshold_fen=15000, scope_kind="skus", scope_skus=("A",))
    assert total(basket, only_a) == 0  # A alone is 10000 < 15000
    no_tobacco = spec(kind=rules.THRESHOLD, value_fen=1000, threshold_fen=15000, excluded_line_categories=("tobacco",))
    result = rules.evaluate(basket, [no_tobacco])
    assert result.total_discount_fen == 1000
    assert {d.line_no: d.discount_fen for d in result.line_discounts} == {1: 667, 2: 0, 3: 333}


def test_merchant_scope():
    s = spec(scope_kind="categories", scope_categories=("dining",), excluded_merchant_ids=(9,))
    assert rules.merchant_in_scope(s, merchant_id=1, merchant_category="dining")
    assert not rules.merchant_in_scope(s, merchant_id=1, merchant_category="fashion")
    assert not rules.merchant_in_scope(s, merchant_id=9, merchant_category="dining")
    owned = spec(owner_merchant_id=5)
    assert rules.merchant_in_scope(owned, merchant_id=5, merchant_category="x")
    assert not rules.merchant_in_scope(owned, merchant_id=6, merchant_category="x")
    chosen = spec(scope_kind="merchants", scope_merchant_ids=(2, 3))
    assert rules.merchant_in_scope(chosen, merchant_id=3, merchant_category="")
    assert not rules.merchant_in_scope(chosen, merchant_id=4, merchant_category="")


# ------------------------------------------------------------------------------------------------- order


def test_order_of_application_is_fixed_and_reported():
    assert rules.ORDER_OF_APPLICATION[:5] == (
        "promotion:unit_price",
        "promotion:per_item",
        "coupon:unit_price",
        "coupon:per_item",
        "promotion:percent",
    )
    assert rules.ORDER_OF_APPLICATION[-1] == "coupon:cash_off"
    result = rules.evaluate([line(1, 1000)], [])
    assert result.order == rules.ORDER_OF_APPLICATION


def test_rate_discounts_come_before_thresholds_so_the_threshold_sees_the_discounted_amount():
    basket = [line(1, 21000)]
    promo = spec("promotion:1", kind=rules.PERCENT, percent_off_bp=1000, is_coupon=False, rank=(0, 1))
    threshold = spec("coupon:2", kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000)
    result = rules.evaluate(basket, [threshold, promo])  # given in the "wrong" order
    assert [a.key for a in result.applied] == ["promotion:1"]  # 21000 - 2100 = 18900 < 20000
    assert result.unmet == (("coupon:2", "coupon.threshold_not_met"),)
    bigger = [line(1, 30000)]
    result = rules.evaluate(bigger, [threshold, promo])
    assert [a.key for a in result.applied] == ["promotion:1", "coupon:2"]
    assert result.total_discount_fen == 3000 + 3000


# ------------------------------------------------------------------------------------------------- stacking


def test_best_combination_prefers_more_discount_then_fewer_coupons_then_sooner_expiry():
    basket = [line(1, 30000)]
    a = spec("coupon:1", value_fen=2000, template_key="t1", rank=(1, 200, 1))
    b = spec("coupon:2", value_fen=2000, template_key="t2", rank=(1, 100, 2), stacking_group="g")
    c = spec("coupon:3", kind=rules.THRESHOLD, value_fen=5000, threshold_fen=30000, template_key="t3", rank=(1, 50, 3))
    best = rules.best_combination(basket, [a, b, c])
    # a + b + c: c needs 30000 but a and b (cash_off) come after thresholds, so all three fit: 9000
    assert best.total_discount_fen == 9000
    assert sorted(x.key for x in best.applied) == ["coupon:1", "coupon:2", "coupon:3"]
    assert rules.best_combination(basket, [a, b, c], max_coupons=1).applied[0].key == "coupon:3"
    # equal discounts: the one that expires sooner (lower rank) is used
    assert rules.best_combination(basket, [a, b], max_coupons=1).applied[0].key == "coupon:2"


def test_exclusive_and_stacking_groups():
    basket = [line(1, 10000)]
    ex = spec("coupon:1", value_fen=3000, is_exclusive=True, template_key="t1")
    x = spec("coupon:2", value_fen=2000, template_key="t2", stacking_group="g")
    y = spec("coupon:3", value_fen=1500, template_key="t3", stacking_group="g")
    best = rules.best_combination(basket, [ex, x, y])
    assert [a.key for a in best.applied] == ["coupon:1"]  # 3000 alone > 2000 (x and y share a group)
    assert rules.compatible([ex, x]) == "coupon.not_combinable"
    assert rules.compatible([x, y]) == "coupon.not_combinable"
    required = rules.best_combination(basket, [ex, x], required_keys=["coupon:1", "coupon:2"])
    assert {k for k, _r in required.unmet} == {"coupon:1", "coupon:2"}


def test_coupons_of_one_template_up_to_max_per_sale():
    basket = [line(1, 10000)]
    c1 = spec("coupon:1", value_fen=1000, template_key="t", rank=(1, 1, 1), max_per_sale=2)
    c2 = spec("coupon:2", value_fen=1000, template_key="t", rank=(1, 2, 2), max_per_sale=2)
    c3 = spec("coupon:3", value_fen=1000, template_key="t", rank=(1, 3, 3), max_per_sale=2)
    best = rules.best_combination(basket, [c3, c2, c1])
    assert [a.key for a in best.applied] == ["coupon:1", "coupon:2"]


def test_required_coupons_then_promotions_are_added():
    basket = [line(1, 10000)]
    coupon = spec("coupon:1", value_fen=1000, stacking_group="g")
    promo_same_group = spec(
        "promotion:1", kind=rules.PERCENT, percent_off_bp=5000, is_coupon=False, rank=(0, 1), stacking_group="g"
    )
    promo_other = spec("promotion:2", kind=rules.PERCENT, percent_off_bp=1000, is_coupon=False, rank=(0, 2))
    best = rules.best_combination(basket, [coupon, promo_same_group, promo_other], required_keys=["coupon:1"])
    assert [a.key for a in best.applied] == ["promotion:2", "coupon:1"]
    assert best.total_discount_fen == 1000 + 1000


def test_search_is_deterministic():
    basket = [line(1, 12345, qty=3), line(2, 6789)]
    specs = [spec(f"coupon:{i}", value_fen=100 * i, template_key=f"t{i % 3}", rank=(1, i % 4, i)) for i in range(1, 9)]
    first = rules.best_combination(basket, specs)
    assert all(rules.best_combination(basket, list(reversed(specs))) == first for _ in range(3))


# ------------------------------------------------------------------------------------------------- properties

amounts = st.integers(min_value=0, max_value=5_000_000)
basket_strategy = st.lists(
    st.tuples(amounts, st.integers(min_value=1, max_value=5), st.sampled_from(["", "food", "tobacco"])),
    min_size=1,
    max_size=8,
).map(lambda rows: [line(i + 1, a, qty=q, category=c) for i, (a, q, c) in enumerate(rows)])
spec_strategy = st.builds(
    lambda i, kind, value, bp, threshold, cap, items, group, excl: spec(
        f"coupon:{i}",
        kind=kind,
        value_fen=value,
        percent_off_bp=bp,
        threshold_fen=threshold,
        max_discount_fen=cap,
        min_items=items,
        stacking_group=group,
        excluded_line_categories=("tobacco",) if excl else (),
        template_key=f"t{i}",
    ),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(sorted(rules.BASKET_KINDS)),
    st.integers(min_value=1, max_value=3_000_000),
    st.integers(min_value=1, max_value=9_999),
    st.integers(min_value=1, max_value=4_000_000),
    st.none() | st.integers(min_value=1, max_value=100_000),
    st.integers(min_value=0, max_value=6),
    st.sampled_from(["", "a", "b"]),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(basket=basket_strategy, specs=st.lists(spec_strategy, max_size=4, unique_by=lambda s: s.key))
def test_never_negative_and_allocation_sums_exactly(basket, specs):
    result = rules.evaluate(basket, specs)
    by_line = {d.line_no: d.discount_fen for d in result.line_discounts}
    assert sum(by_line.values()) == result.total_discount_fen
    assert sum(a.discount_fen for a in result.applied) == result.total_discount_fen
    for ln in basket:
        assert 0 <= by_line[ln.line_no] <= ln.amount_fen
    for a in result.applied:
        assert a.discount_fen > 0
        assert sum(p.discount_fen for p in a.lines) == a.discount_fen
        assert all(0 <= p.discount_fen <= p.basis_fen for p in a.lines)
        assert a.mall_fen + a.merchant_fen == a.discount_fen
    assert result.total_discount_fen <= sum(ln.amount_fen for ln in basket)


@settings(max_examples=100, deadline=None)
@given(basket=basket_strategy, specs=st.lists(spec_strategy, max_size=5, unique_by=lambda s: s.key))
def test_best_combination_is_compatible_and_at_least_any_single_item(basket, specs):
    best = rules.best_combination(basket, specs)
    chosen = [s for s in specs if s.key in {a.key for a in best.applied}]
    assert rules.compatible(chosen) == ""
    for s in specs:
        assert best.total_discount_fen >= rules.evaluate(basket, [s]).total_discount_fen


@settings(max_examples=200, deadline=None)
@given(
    total_fen=st.integers(min_value=0, max_value=10**9),
    funder=st.sampled_from(["mall", "merchant", "split"]),
    bp=st.integers(min_value=0, max_value=10_000),
)
def test_funding_split_adds_up(total_fen, funder, bp):
    mall, merchant = rules.funding_split(discount_fen=total_fen, funder=funder, merchant_share_bp=bp)
    assert mall + merchant == total_fen and mall >= 0 and merchant >= 0


# ------------------------------------------------------------------------------------------------- refunds


def _state(s, basket, discount_parts):
    return RedemptionState(
        key="r",
        spec=s,
        discount_fen=sum(discount_parts),
        rolled_back_fen=0,
        lines=tuple(
            {
                "line_no": ln.line_no,
                "quantity": ln.quantity,
                "basis_fen": ln.amount_fen,
                "discount_fen": d,
                "refunded_qty": 0,
                "rolled_back_fen": 0,
            }
            for ln, d in zip(basket, discount_parts, strict=True)
        ),
    )


def test_partial_refund_that_breaks_the_threshold_deducts_the_kept_discount():
    basket = [line(1, 15000), line(2, 10000)]
    s = spec(kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000)
    applied = rules.evaluate(basket, [s]).applied[0]
    parts = [p.discount_fen for p in applied.lines]
    assert parts == [1800, 1200]
    out = rules.refund_rollback(state=_state(s, basket, parts), refund_qty={2: 1})
    assert out.rolled_back_fen == 1200
    assert out.clawback_fen == 1800 and out.threshold_lost
    assert not out.fully_returned
    kept = replace_state(_state(s, basket, parts), out)
    final = rules.refund_rollback(state=kept, refund_qty={1: 1})
    assert final.rolled_back_fen == 0 and final.clawback_fen == 0 and final.fully_returned


def test_keep_policy_leaves_the_discount():
    basket = [line(1, 15000), line(2, 10000)]
    s = spec(kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000, on_threshold_loss="keep")
    out = rules.refund_rollback(state=_state(s, basket, [1800, 1200]), refund_qty={2: 1})
    assert (out.rolled_back_fen, out.clawback_fen, out.threshold_lost) == (1200, 0, True)
    final = rules.refund_rollback(state=replace_state(_state(s, basket, [1800, 1200]), out), refund_qty={1: 1})
    assert final.rolled_back_fen == 1800 and final.fully_returned


def test_partial_refund_still_meeting_the_threshold_only_rolls_back_its_share():
    basket = [line(1, 30000, qty=3)]
    s = spec(kind=rules.THRESHOLD, value_fen=3000, threshold_fen=20000)
    out = rules.refund_rollback(state=_state(s, basket, [3000]), refund_qty={1: 1})
    assert (out.rolled_back_fen, out.clawback_fen) == (1000, 0)


def replace_state(state, outcome):
    return RedemptionState(
        key=state.key,
        spec=state.spec,
        discount_fen=state.discount_fen,
        rolled_back_fen=state.rolled_back_fen + outcome.rolled_back_fen + outcome.clawback_fen,
        lines=outcome.lines,
    )


@settings(max_examples=200, deadline=None)
@given(
    basket=st.lists(
        st.tuples(st.integers(min_value=1, max_value=100_000), st.integers(min_value=1, max_value=6)),
        min_size=1,
        max_size=5,
    ),
    kind=st.sampled_from([rules.THRESHOLD, rules.PER_THRESHOLD, rules.PERCENT, rules.CASH_OFF]),
    policy=st.sampled_from(["deduct", "keep"]),
    data=st.data(),
)
def test_refunds_in_any_steps_give_back_exactly_the_discount(basket, kind, policy, data):
    lines = [line(i + 1, a * q, qty=q) for i, (a, q) in enumerate(basket)]
    s = spec(kind=kind, value_fen=1500, threshold_fen=5000, percent_off_bp=1234, on_threshold_loss=policy)
    result = rules.evaluate(lines, [s])
    if not result.applied:
        return
    parts = {p.line_no: p.discount_fen for p in result.applied[0].lines}
    state = _state(s, lines, [parts[ln.line_no] for ln in lines])
    given_back = 0
    left = {ln.line_no: ln.quantity for ln in lines}
    while any(left.values()):
        no = data.draw(st.sampled_from(sorted(k for k, v in left.items() if v)))
        q = data.draw(st.integers(min_value=1, max_value=left[no]))
        left[no] -= q
        out = rules.refund_rollback(state=state, refund_qty={no: q})
        assert out.rolled_back_fen >= 0 and out.clawback_fen >= 0
        given_back += out.rolled_back_fen + out.clawback_fen
        state = replace_state(state, out)
    assert given_back == result.total_discount_fen
    assert all(ln["rolled_back_fen"] == ln["discount_fen"] for ln in state.lines)


# ------------------------------------------------------------------------------------------------- time, codes


def test_hours_windows_including_overnight():
    monday_23 = dt.datetime(2026, 3, 2, 23, 30)
    assert rules.usable_at_local(monday_23, days_of_week=[1], hours_from=dt.time(22), hours_until=dt.time(2))
    assert not rules.usable_at_local(monday_23, days_of_week=[2], hours_from=None, hours_until=None)
    assert not rules.usable_at_local(monday_23, days_of_week=[], hours_from=dt.time(10), hours_until=dt.time(22))
    assert rules.usable_at_local(
        dt.datetime(2026, 3, 2, 10, 0), days_of_week=[], hours_from=dt.time(10), hours_until=dt.time(22)
    )


def test_relative_validity_and_birthdays():
    assert rules.relative_last_day(claimed_on=dt.date(2026, 1, 31), days=1) == dt.date(2026, 1, 31)
    assert rules.relative_last_day(claimed_on=dt.date(2026, 1, 31), days=7) == dt.date(2026, 2, 6)
    leap = dt.date(2004, 2, 29)
    assert rules.is_birthday(birthday=leap, today=dt.date(2026, 2, 28))
    assert not rules.is_birthday(birthday=leap, today=dt.date(2028, 2, 28))
    assert rules.is_birthday(birthday=leap, today=dt.date(2028, 2, 29))


def test_codes_are_long_unambiguous_and_random():
    codes = {rules.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) >= 16 and not set(c) & set("01OIL") for c in codes)
    assert rules.normalize_code(" abcd-2345 ") == "ABCD2345"


def test_template_problems_have_stable_codes():
    problems = rules.template_problems(
        {"kind": "threshold", "value_fen": 5000, "threshold_fen": 0, "validity_kind": "relative", "valid_days": 0}
    )
    assert ("threshold_fen", "coupon_template.threshold_required") in problems
    assert ("valid_days", "coupon_template.validity_required") in problems
    assert rules.template_problems(
        {"kind": "percent", "percent_off_bp": 10000, "validity_kind": "relative", "valid_days": 3}
    ) == [("percent_off_bp", "coupon_template.percent_out_of_range")]
