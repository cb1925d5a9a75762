"""The pure points rules (galleria/points/rules.py), without a database: earning (floored once, caps, exclusions,
split over lines), funding, points as payment (limits are errors, never capped), expiry dates, FIFO lots and the
cumulative proportional share. Examples first, then Hypothesis properties against independent oracles."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from galleria.core.errors import ValidationError
from galleria.points import rules
from galleria.points.types import Campaign, EarnConfig, EarnLine, ExpiryConfig, LotView, Rate, RedeemConfig

BP = 10000
POLICY_RATE = Rate(points=1, unit_fen=100, source="policy", scope="group", funder="mall", merchant_share_bp=0)


def config(**values) -> EarnConfig:
    base = EarnConfig(
        rate=POLICY_RATE,
        tier_code="basic",
        tier_multiplier_bp=BP,
        campaign=None,
        min_spend_fen=0,
        per_sale_cap=None,
        daily_cap=None,
        excluded_categories=frozenset(),
        excluded_skus=frozenset(),
    )
    return replace(base, **values)


def line(paid_fen: int, *, sku: str = "SKU", category: str = "") -> EarnLine:
    return EarnLine(sku=sku, category=category, paid_fen=paid_fen)


# ------------------------------------------------------------------------------------------------ earn: examples


class TestEarn:
    def test_one_point_per_yuan_floored(self):
        result = rules.earn(lines=[line(19950)], config=config())
        assert (result.points, result.base_fen, result.line_points) == (199, 19950, (199,))
        assert result.explanation["uncapped"] == 199 and result.explanation["capped_by"] is None

    def test_floored_once_after_every_multiplier(self):
        """¥1.50 × 1.5 (tier) × 2 (campaign) = 4.5 → 4; flooring at each step would give 1 → 1 → 2."""
        cfg = config(tier_multiplier_bp=15000, campaign=Campaign(id=7, name="会员日", multiplier_bp=20000))
        result = rules.earn(lines=[line(150)], config=cfg)
        assert result.points == 4
        assert result.explanation["campaign"] == {"id": 7, "name": "会员日", "multiplier_bp": 20000}
        assert result.explanation["tier"] == {"code": "basic", "multiplier_bp": 15000}

    def test_a_rate_of_several_points_per_unit(self):
        rate = replace(POLICY_RATE, points=3, unit_fen=1000, source="rule:9", scope="merchant", funder="merchant")
        result = rules.earn(lines=[line(9999)], config=config(rate=rate))
        assert result.points == 29  # 9999 × 3 / 1000 = 29.997
        assert result.explanation["rate"] == {"points": 3, "per_fen": 1000, "source": "rule:9", "scope": "merchant"}
        assert result.explanation["funder"] == "merchant"

    def test_excluded_categories_and_skus_earn_nothing_and_are_named(self):
        cfg = config(excluded_categories=frozenset({"gift_card"}), excluded_skus=frozenset({"TOBACCO"}))
        lines = [line(10000), line(50000, category="gift_card"), line(3000, sku="TOBACCO"), line(2000)]
        result = rules.earn(lines=lines, config=cfg)
        assert result.base_fen == 12000 and result.points == 120
        assert result.line_points == (100, 0, 0, 20)
        assert result.explanation["excluded_lines"] == [1, 2]

    def test_lines_paid_with_nothing_or_less_earn_nothing(self):
        result = rules.earn(lines=[line(0), line(-500), line(700)], config=config())
        assert result.base_fen == 700 and result.line_points == (0, 0, 7)

    def test_an_empty_or_fully_excluded_basket_earns_nothing(self):
        assert rules.earn(lines=[], config=config()).points == 0
        result = rules.earn(lines=[line(5000, sku="X")], config=config(excluded_skus=frozenset({"X"})))
        assert (result.points, result.line_points) == (0, (0,))

    def test_below_the_minimum_spend_earns_nothing(self):
        cfg = config(min_spend_fen=5000)
        below = rules.earn(lines=[line(4999)], config=cfg)
        assert (below.points, below.explanation["capped_by"], below.explanation["uncapped"]) == (0, "min_spend", 49)
        assert rules.earn(lines=[line(5000)], config=cfg).points == 50  # the minimum itself earns (>=)

    def test_per_sale_cap(self):
        result = rules.earn(lines=[line(60000), line(40000)], config=config(per_sale_cap=300))
        assert (result.points, result.explanation["capped_by"], result.explanation["uncapped"]) == (
            300,
            "per_sale_cap",
            1000,
        )
        assert result.line_points == (180, 120)
        exactly = rules.earn(lines=[line(30000)], config=config(per_sale_cap=300))
        assert (exactly.points, exactly.explanation["capped_by"]) == (300, None)

    def test_daily_cap_counts_what_was_earned_today(self):
        cfg = config(daily_cap=500)
        assert rules.earn(lines=[line(100000)], config=cfg, earned_today=0).points == 500
        partial = rules.earn(lines=[line(100000)], config=cfg, earned_today=450)
        assert (partial.points, partial.explanation["capped_by"]) == (50, "daily_cap")
        assert rules.earn(lines=[line(100000)], config=cfg, earned_today=500).points == 0
        assert rules.earn(lines=[line(100000)], config=cfg, earned_today=900).points == 0  # never negative

    def test_the_tighter_of_both_caps_wins(self):
        cfg = config(per_sale_cap=300, daily_cap=1000)
        assert rules.earn(lines=[line(100000)], config=cfg, earned_today=800).points == 200
        assert rules.earn(lines=[line(100000)], config=cfg, earned_today=0).points == 300

    def test_points_split_over_lines_by_largest_remainder(self):
        result = rules.earn(lines=[line(100), line(100), line(100)], config=config(), earned_today=0)
        assert result.points == 3 and result.line_points == (1, 1, 1)
        uneven = rules.earn(lines=[line(150), line(150)], config=config())
        assert uneven.points == 3 and uneven.line_points == (2, 1)  # ties go to the earlier line


# ------------------------------------------------------------------------------------------- earn: properties

skus = st.sampled_from(["A", "B", "C", "GIFT"])
categories = st.sampled_from(["", "dining", "fashion", "gift_card"])
earn_lines = st.lists(
    st.builds(EarnLine, sku=skus, category=categories, paid_fen=st.integers(0, 10**7)), min_size=0, max_size=6
)
rates = st.builds(
    Rate,
    points=st.integers(1, 10),
    unit_fen=st.integers(1, 10000),
    source=st.just("policy"),
    scope=st.just("group"),
    funder=st.just("mall"),
    merchant_share_bp=st.just(0),
)
campaigns = st.none() | st.builds(Campaign, id=st.just(1), name=st.just("c"), multiplier_bp=st.integers(BP, 5 * BP))
caps = st.none() | st.integers(0, 5000)
earn_configs = st.builds(
    EarnConfig,
    rate=rates,
    tier_code=st.just("t"),
    tier_multiplier_bp=st.integers(BP, 3 * BP),
    campaign=campaigns,
    min_spend_fen=st.integers(0, 20000),
    per_sale_cap=caps,
    daily_cap=caps,
    excluded_categories=st.sets(categories, max_size=2).map(frozenset),
    excluded_skus=st.sets(skus, max_size=2).map(frozenset),
)
uncapped_configs = earn_configs.map(lambda c: replace(c, min_spend_fen=0, per_sale_cap=None, daily_cap=None))


def eligible(cfg: EarnConfig, ln: EarnLine) -> bool:
    return ln.category not in cfg.excluded_categories and ln.sku not in cfg.excluded_skus


@given(lines=earn_lines, cfg=uncapped_configs)
def test_uncapped_earn_is_the_exact_product_floored_once(lines, cfg):
    base = sum(ln.paid_fen for ln in lines if eligible(cfg, ln) and ln.paid_fen > 0)
    campaign = cfg.campaign.multiplier_bp if cfg.campaign else BP
    expected = base * cfg.rate.points * cfg.tier_multiplier_bp * campaign // (cfg.rate.unit_fen * BP * BP)
    result = rules.earn(lines=lines, config=cfg)
    assert (result.points, result.base_fen, result.explanation["uncapped"]) == (expected, base, expected)


@given(lines=earn_lines, cfg=earn_configs, earned_today=st.integers(0, 6000))
def test_earn_is_split_over_the_eligible_lines_and_adds_up(lines, cfg, earned_today):
    result = rules.earn(lines=lines, config=cfg, earned_today=earned_today)
    assert len(result.line_points) == len(lines)
    assert sum(result.line_points) == result.points
    for ln, points in zip(lines, result.line_points, strict=True):
        assert points >= 0
        if not eligible(cfg, ln) or ln.paid_fen <= 0:
            assert points == 0


@given(lines=earn_lines, cfg=earn_configs, earned_today=st.integers(0, 6000))
def test_no_cap_is_ever_exceeded(lines, cfg, earned_today):
    result = rules.earn(lines=lines, config=cfg, earned_today=earned_today)
    exp = result.explanation
    assert 0 <= result.points <= exp["uncapped"]
    if cfg.per_sale_cap is not None:
        assert result.points <= cfg.per_sale_cap
    if cfg.daily_cap is not None:
        assert earned_today + result.points <= max(cfg.daily_cap, earned_today)
    if result.base_fen < cfg.min_spend_fen:
        assert result.points == 0
    if exp["capped_by"] is None:
        assert result.points == exp["uncapped"]


@given(
    lines=earn_lines.filter(bool),
    cfg=earn_configs,
    earned_today=st.integers(0, 6000),
    index=st.integers(0, 5),
    more=st.integers(1, 10**6),
)
def test_paying_more_never_earns_less(lines, cfg, earned_today, index, more):
    i = index % len(lines)
    bigger = [replace(ln, paid_fen=ln.paid_fen + more) if j == i else ln for j, ln in enumerate(lines)]
    assert (
        rules.earn(lines=bigger, config=cfg, earned_today=earned_today).points
        >= rules.earn(lines=lines, config=cfg, earned_today=earned_today).points
    )


@given(lines=earn_lines, cfg=earn_configs, earned_today=st.integers(0, 6000), more=st.integers(1, 3000))
def test_having_earned_more_today_never_earns_more_now(lines, cfg, earned_today, more):
    assert (
        rules.earn(lines=lines, config=cfg, earned_today=earned_today + more).points
        <= rules.earn(lines=lines, config=cfg, earned_today=earned_today).points
    )


@given(lines=earn_lines, cfg=earn_configs, extra_bp=st.integers(0, 2 * BP))
def test_a_higher_tier_or_campaign_multiplier_never_earns_less(lines, cfg, extra_bp):
    higher_tier = replace(cfg, tier_multiplier_bp=cfg.tier_multiplier_bp + extra_bp)
    campaign = cfg.campaign or Campaign(id=1, name="c", multiplier_bp=BP)
    higher_campaign = replace(cfg, campaign=replace(campaign, multiplier_bp=campaign.multiplier_bp + extra_bp))
    points = rules.earn(lines=lines, config=cfg).points
    assert rules.earn(lines=lines, config=higher_tier).points >= points
    assert rules.earn(lines=lines, config=higher_campaign).points >= points


@given(
    paid=st.integers(0, 10**7),
    cut=st.integers(0, 10**7),
    sku=skus,
    category=categories,
    others=earn_lines,
    cfg=earn_configs,
)
def test_splitting_a_line_in_two_or_reordering_lines_earns_the_same(paid, cut, sku, category, others, cfg):
    cut = min(cut, paid)
    whole = [EarnLine(sku, category, paid), *others]
    split = [*others, EarnLine(sku, category, cut), EarnLine(sku, category, paid - cut)]
    assert rules.earn(lines=split, config=cfg).points == rules.earn(lines=whole, config=cfg).points
    assert rules.earn(lines=split, config=cfg).base_fen == rules.earn(lines=whole, config=cfg).base_fen


# --------------------------------------------------------------------------------------------------- funding


@given(points=st.integers(0, 10**9), share=st.integers(0, BP))
def test_funding_parts_add_up(points, share):
    assert rules.funding_split(points=points, funder="mall", merchant_share_bp=share) == (points, 0)
    assert rules.funding_split(points=points, funder="merchant", merchant_share_bp=share) == (0, points)
    mall, merchant = rules.funding_split(points=points, funder="split", merchant_share_bp=share)
    assert mall + merchant == points and merchant == points * share // BP and mall >= 0


def test_a_split_gives_the_merchant_the_floor():
    assert rules.funding_split(points=99, funder="split", merchant_share_bp=3000) == (70, 29)


# --------------------------------------------------------------------------------------------- points as payment

DEFAULT_REDEEM = RedeemConfig(points_per_yuan=100, min_points=100, multiple=100, max_share_bp=5000)


def refused(points: int, *, total: int = 100000, balance: int = 10**6, cfg: RedeemConfig = DEFAULT_REDEEM):
    with pytest.raises(ValidationError) as exc:
        rules.check_redemption(points=points, sale_total_fen=total, balance=balance, config=cfg)
    return exc.value


class TestRedemption:
    def test_valid_points_are_worth_exact_fen(self):
        assert rules.check_redemption(points=300, sale_total_fen=100000, balance=500, config=DEFAULT_REDEEM) == 300
        cfg = RedeemConfig(points_per_yuan=50, min_points=0, multiple=1, max_share_bp=BP)
        assert rules.check_redemption(points=7, sale_total_fen=1000, balance=7, config=cfg) == 14
        assert rules.redeem_value_fen(points=7, config=cfg) == 14

    @pytest.mark.parametrize("points", [0, -100])
    def test_points_must_be_positive(self, points):
        assert refused(points).code == "points.invalid_amount"

    def test_below_the_minimum(self):
        error = refused(50, cfg=replace(DEFAULT_REDEEM, multiple=50))
        assert error.code == "points.below_minimum" and error.extra == {"min_points": 100}

    def test_not_a_whole_multiple(self):
        error = refused(150)
        assert error.code == "points.not_multiple" and error.extra == {"multiple": 100}

    def test_not_worth_whole_fen(self):
        cfg = RedeemConfig(points_per_yuan=300, min_points=0, multiple=1, max_share_bp=BP)
        assert refused(1, cfg=cfg).code == "points.not_multiple"
        assert rules.check_redemption(points=3, sale_total_fen=1000, balance=10, config=cfg) == 1

    def test_over_the_share_of_the_sale_names_the_most_usable(self):
        error = refused(5100, total=10000)  # ¥51 of a ¥100 sale at 50 %
        assert error.code == "points.over_max_share" and error.extra == {"max_points": 5000}
        assert rules.check_redemption(points=5000, sale_total_fen=10000, balance=10**6, config=DEFAULT_REDEEM) == 5000

    def test_more_than_the_balance(self):
        error = refused(400, balance=399)
        assert error.code == "points.insufficient" and error.extra == {"balance": 399}

    def test_max_points_is_bounded_by_share_balance_and_multiple(self):
        assert rules.max_points(sale_total_fen=19950, config=DEFAULT_REDEEM) == 9900  # ¥99.75 → 9975 → 9900
        assert rules.max_points(sale_total_fen=19950, config=DEFAULT_REDEEM, balance=4321) == 4300
        assert rules.max_points(sale_total_fen=19950, config=DEFAULT_REDEEM, balance=99) == 0  # below the minimum
        assert rules.max_points(sale_total_fen=150, config=DEFAULT_REDEEM) == 0


@st.composite
def redeem_configs(draw) -> RedeemConfig:
    """Configurations the console accepts: a multiple of points is always worth whole fen."""
    rate = draw(st.integers(1, 1000))
    step = rate // math.gcd(rate, 100)
    return RedeemConfig(
        points_per_yuan=rate,
        min_points=draw(st.integers(0, 2000)),
        multiple=step * draw(st.integers(1, 20)),
        max_share_bp=draw(st.integers(0, BP)),
    )


@given(cfg=redeem_configs(), total=st.integers(0, 10**8), balance=st.integers(0, 10**7))
@example(cfg=DEFAULT_REDEEM, total=19950, balance=10**6)
def test_max_points_is_accepted_and_one_multiple_more_is_not(cfg, total, balance):
    most = rules.max_points(sale_total_fen=total, config=cfg, balance=balance)
    assert most >= 0 and most % cfg.multiple == 0 and most <= balance
    if most:
        value = rules.check_redemption(points=most, sale_total_fen=total, balance=balance, config=cfg)
        assert value * cfg.points_per_yuan == most * 100  # exact
        assert value <= total * cfg.max_share_bp // BP
    more = most + cfg.multiple if most else max(cfg.multiple, cfg.min_points + (-cfg.min_points) % cfg.multiple)
    with pytest.raises(ValidationError):
        rules.check_redemption(points=more, sale_total_fen=total, balance=balance, config=cfg)


@given(cfg=redeem_configs(), total=st.integers(0, 10**8), balance=st.integers(0, 10**7), points=st.integers(-5, 10**7))
def test_accepted_points_respect_every_limit(cfg, total, balance, points):
    try:
        value = rules.check_redemption(points=points, sale_total_fen=total, balance=balance, config=cfg)
    except ValidationError:
        return
    assert points > 0 and points >= cfg.min_points and points % cfg.multiple == 0 and points <= balance
    assert Fraction(value) == Fraction(points * 100, cfg.points_per_yuan)  # never rounded
    assert value <= total * cfg.max_share_bp // BP
    assert points <= rules.max_points(sale_total_fen=total, config=cfg, balance=balance)


# ---------------------------------------------------------------------------------------------------- expiry


class TestExpiry:
    def test_never(self):
        assert rules.expiry_date(earned_on=dt.date(2026, 5, 1), config=ExpiryConfig("never", 365)) is None

    def test_days_after_earning(self):
        cfg = ExpiryConfig("days_after_earn", 90)
        assert rules.expiry_date(earned_on=dt.date(2026, 12, 15), config=cfg) == dt.date(2027, 3, 15)

    @pytest.mark.parametrize(
        ("earned", "expires"),
        [
            (dt.date(2026, 1, 1), dt.date(2027, 12, 31)),
            (dt.date(2026, 12, 31), dt.date(2027, 12, 31)),
            (dt.date(2028, 2, 29), dt.date(2029, 12, 31)),
        ],
    )
    def test_end_of_the_following_year(self, earned, expires):
        assert rules.expiry_date(earned_on=earned, config=ExpiryConfig("end_of_next_year", 365)) == expires

    @given(earned=st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31)), days=st.integers(1, 3650))
    def test_expiry_is_always_after_the_day_earned(self, earned, days):
        for policy in ("days_after_earn", "end_of_next_year"):
            expires = rules.expiry_date(earned_on=earned, config=ExpiryConfig(policy, days))
            assert expires is not None and expires > earned


# ------------------------------------------------------------------------------------------------ FIFO lots

D = dt.date


class TestFifo:
    def test_soonest_expiry_first_never_expiring_last_oldest_first_within_a_day(self):
        lots = [
            LotView(id=1, remaining=100, expires_on=None),
            LotView(id=2, remaining=100, expires_on=D(2027, 12, 31)),
            LotView(id=3, remaining=100, expires_on=D(2026, 6, 30)),
            LotView(id=4, remaining=100, expires_on=D(2026, 6, 30)),
        ]
        assert rules.fifo(lots, 250) == [(3, 100), (4, 100), (2, 50)]
        assert rules.fifo(lots, 400) == [(3, 100), (4, 100), (2, 100), (1, 100)]

    def test_empty_lots_are_skipped_and_nothing_is_taken_for_nothing(self):
        lots = [LotView(id=1, remaining=0, expires_on=D(2026, 1, 1)), LotView(id=2, remaining=5, expires_on=None)]
        assert rules.fifo(lots, 5) == [(2, 5)]
        assert rules.fifo(lots, 0) == []

    def test_lots_that_cannot_cover_the_points_raise(self):
        with pytest.raises(ValueError, match="cover"):
            rules.fifo([LotView(id=1, remaining=5, expires_on=None)], 6)
        with pytest.raises(ValueError, match="cover"):
            rules.fifo([], 1)


lot_dates = st.none() | st.dates(D(2026, 1, 1), D(2026, 1, 10))  # few dates: many ties


@st.composite
def lot_sets(draw) -> list[LotView]:
    ids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=8))
    return [LotView(id=i, remaining=draw(st.integers(0, 500)), expires_on=draw(lot_dates)) for i in ids]


def fifo_key(lot: LotView) -> tuple[bool, dt.date, int]:
    return (lot.expires_on is None, lot.expires_on or dt.date.max, lot.id)


@given(lots=lot_sets(), points=st.integers(0, 5000), data=st.data())
def test_fifo_takes_exactly_the_points_soonest_expiring_first_and_never_more_than_a_lot_holds(lots, points, data):
    available = sum(lot.remaining for lot in lots)
    if points > available:
        with pytest.raises(ValueError):
            rules.fifo(lots, points)
        return
    taken = rules.fifo(lots, points)
    by_id = {lot.id: lot for lot in lots}
    assert sum(n for _id, n in taken) == points
    assert len({lot_id for lot_id, _n in taken}) == len(taken)
    assert all(0 < n <= by_id[lot_id].remaining for lot_id, n in taken)
    # what was taken is a prefix of the lots in expiry order: every lot before the last one touched is emptied,
    # none after it is touched
    order = [lot for lot in sorted(lots, key=fifo_key) if lot.remaining > 0]
    assert [lot_id for lot_id, _n in taken] == [lot.id for lot in order[: len(taken)]]
    assert all(n == by_id[lot_id].remaining for lot_id, n in taken[:-1])
    # the order the lots come in does not matter
    assert rules.fifo(data.draw(st.permutations(lots)), points) == taken


@given(lots=lot_sets(), first=st.integers(0, 2500), second=st.integers(0, 2500))
def test_fifo_twice_is_fifo_once(lots, first, second):
    """Spending in two steps (the lots' remaining updated in between) consumes what spending once would."""
    assume(first + second <= sum(lot.remaining for lot in lots))
    once = rules.fifo(lots, first + second)
    step1 = dict(rules.fifo(lots, first))
    after = [replace(lot, remaining=lot.remaining - step1.get(lot.id, 0)) for lot in lots]
    step2 = dict(rules.fifo(after, second))
    combined = {i: step1.get(i, 0) + step2.get(i, 0) for i in step1.keys() | step2.keys()}
    assert {i: n for i, n in combined.items() if n} == dict(once)


# ------------------------------------------------------------------------------------------ proportional share


def test_proportional_rounds_half_up():
    assert rules.proportional(5, 1, 2) == 3  # 2.5 → 3
    assert rules.proportional(100, 1, 3) == 33
    assert rules.proportional(100, 2, 3) == 67
    assert rules.proportional(100, 1, 0) == 0


@given(total=st.integers(0, 10**9), whole=st.integers(1, 1000), data=st.data())
def test_proportional_shares_are_monotone_and_add_up_to_the_total(total, whole, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, whole), max_size=6)))
    steps = [0, *cuts, whole]
    shares = [rules.proportional(total, part, whole) for part in steps]
    assert shares[0] == 0 and shares[-1] == total
    assert shares == sorted(shares)  # a later cumulative share is never smaller
    assert sum(b - a for a, b in itertools.pairwise(shares)) == total
    for part, share in zip(steps, shares, strict=True):
        assert share == math.floor(Fraction(total * part, whole) + Fraction(1, 2))
