"""The statement arithmetic (no database): periods in mall-local time, the figures, the commission's rounding."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.settlement import rules
from galleria.settlement.exceptions import PeriodInvalidError
from galleria.settlement.types import FIGURE_ACCOUNTS, LedgerFigures, Period


def test_a_period_is_a_mall_local_calendar_month():
    p = rules.parse_period("2026-11")
    assert (p.start, p.end, p.label) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1), "2026-11")
    since, until = rules.period_bounds(p, "Asia/Shanghai")
    # Shanghai is UTC+8: the month starts at 16:00 UTC on the last day of the month before
    assert since == dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)
    assert until == dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)
    assert rules.period_bounds(rules.parse_period("2026-12"), "Asia/Shanghai")[1] == dt.datetime(
        2026, 12, 31, 16, 0, tzinfo=dt.UTC
    )


def test_february_and_the_year_end():
    assert rules.parse_period("2028-02").end == dt.date(2028, 3, 1)
    assert rules.previous_period(dt.date(2027, 1, 15)) == Period(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert rules.previous_period(dt.date(2026, 3, 1)).label == "2026-02"


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "", "2026/11", "1999-12"])
def test_bad_periods_are_refused_with_a_code(text):
    with pytest.raises(PeriodInvalidError) as exc:
        rules.parse_period(text)
    assert exc.value.code == "settlement.period_invalid"


def test_a_month_that_has_not_started_cannot_be_settled():
    with pytest.raises(PeriodInvalidError):
        rules.parse_period("2027-01", today=dt.date(2026, 12, 31))
    assert rules.parse_period("2026-12", today=dt.date(2026, 12, 1)).label == "2026-12"


def test_a_month_ends_at_the_next_first_midnight_mall_time():
    november = rules.parse_period("2026-11")
    last_second = dt.datetime(2026, 11, 30, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 on 30 November in Shanghai
    midnight = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)  # 00:00 on 1 December in Shanghai
    assert not rules.period_has_ended(november, "Asia/Shanghai", now=last_second)
    assert rules.period_has_ended(november, "Asia/Shanghai", now=midnight)
    # the same instant is still November in a mall further west
    assert not rules.period_has_ended(november, "Asia/Urumqi", now=midnight)
    assert not rules.period_has_ended(november, "Asia/Shanghai", now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))


def test_the_figures_of_a_statement():
    ledger = LedgerFigures(
        merchant_collected=26000,  # pay at store, WeChat Pay / Alipay through the mall
        wallet_spent=5000,
        points_value_redeemed=1000,
        coupon_mall_funded=3000,
        merchant_points_cost=-123,  # on the merchant's account: the merchant owes it
        coupon_merchant_funded=-800,  # memorandum
        parking_grant_cost=-1500,  # parking its grants covered: the merchant owes it
        sales=4,
        sales_fen=100000,
        refunds=1,
        refunds_fen=10000,
    )
    f = rules.statement_figures(ledger, commission_bp=800)
    assert (f.collected_fen, f.wallet_fen, f.points_value_fen, f.coupon_mall_fen) == (26000, 5000, 1000, 3000)
    assert (f.merchant_points_fen, f.coupon_merchant_fen, f.parking_grants_fen) == (123, 800, 1500)
    assert f.commission_base_fen == 100000 - 10000 - 800  # parking is not a sale: not in the base
    assert f.commission_fen == 7136  # 89200 × 8 % = 7136
    assert f.net_fen == 26000 + 5000 + 1000 + 3000 - 123 - 1500 - 7136
    assert f.payable_fen == 35000


def test_the_commission_rounds_half_up_away_from_zero():
    assert rules.commission_fen(12345, 800) == 988  # 987.6
    assert rules.commission_fen(10625, 800) == 850  # 850.0
    assert rules.commission_fen(1, 5000) == 1  # 0.5 → 1
    assert rules.commission_fen(-1, 5000) == -1  # a negative base gives back, rounded the same way
    assert rules.commission_fen(-12345, 800) == -988
    assert rules.commission_fen(99999, 0) == 0


def test_a_merchant_that_owes_more_than_it_is_owed_has_a_negative_net():
    f = rules.statement_figures(LedgerFigures(merchant_points_cost=-500, sales=1, sales_fen=50000), commission_bp=1000)
    assert (f.commission_fen, f.net_fen) == (5000, -5500)
    assert rules.payout_legs(f.net_fen) == (5500, -5500)  # the merchant pays the mall
    assert rules.payout_legs(1000) == (-1000, 1000)
    assert rules.commission_legs(5000) == (-5000, 5000)
    assert rules.parking_grant_legs(1500) == (-1500, 1500)  # the merchant owes what its grant covered
    assert rules.parking_grant_legs(-300) == (300, -300)  # a re-priced stay covered less: given back


@given(
    collected=st.integers(-(10**9), 10**9),
    wallet=st.integers(-(10**9), 10**9),
    points=st.integers(-(10**9), 10**9),
    coupon=st.integers(-(10**9), 10**9),
    cost=st.integers(-(10**9), 10**9),
    memo=st.integers(-(10**9), 10**9),
    parking=st.integers(-(10**9), 10**9),
    sales=st.integers(0, 10**10),
    refunds=st.integers(0, 10**10),
    bp=st.integers(0, 10000),
)
def test_the_net_always_adds_up(collected, wallet, points, coupon, cost, memo, parking, sales, refunds, bp):
    ledger = LedgerFigures(
        merchant_collected=collected,
        wallet_spent=wallet,
        points_value_redeemed=points,
        coupon_mall_funded=coupon,
        merchant_points_cost=cost,
        coupon_merchant_funded=memo,
        parking_grant_cost=parking,
        sales_fen=sales,
        refunds_fen=refunds,
    )
    f = rules.statement_figures(ledger, commission_bp=bp)
    assert f.net_fen == collected + wallet + points + coupon + cost + parking - f.commission_fen
    assert f.commission_base_fen == sales - refunds + memo
    assert abs(f.commission_fen * 10000 - f.commission_base_fen * bp) <= 5000  # within half a fen


def test_the_ledger_figures_are_named_after_the_ledgers_account_kinds():
    from galleria.ledger.models import AccountKind, TransactionKind
    from galleria.settlement.types import PARKING_GRANT_ACCOUNT, PARKING_INCOME_ACCOUNT, TX_PARKING_GRANT

    assert set(FIGURE_ACCOUNTS.values()) <= set(AccountKind.values)
    names = {f for f in LedgerFigures.__dataclass_fields__}
    assert set(FIGURE_ACCOUNTS.values()) <= names
    assert {"commission", "commission_income", "merchant_payout", "settlement_bank"} <= set(AccountKind.values)
    assert {PARKING_GRANT_ACCOUNT, PARKING_INCOME_ACCOUNT} <= set(AccountKind.values)
    assert TX_PARKING_GRANT in TransactionKind.values


def test_a_supplement_is_the_difference():
    total = LedgerFigures(merchant_collected=300, sales=3, sales_fen=300)
    settled = LedgerFigures(merchant_collected=200, sales=2, sales_fen=200)
    assert total.minus(settled) == LedgerFigures(merchant_collected=100, sales=1, sales_fen=100)
    assert total.minus(total).is_empty
