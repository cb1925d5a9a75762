"""The fee calculator and the deposit's collection, without a database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from galleria.amenities import rules
from galleria.amenities.types import Access, Tariff, WeeklyHours

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
UMBRELLA = Tariff(
    free_minutes=120, free_minutes_by_tier={"gold": 240}, fee_unit="hour", fee_per_unit_fen=200, daily_cap_fen=2000
)


def _at(**delta: int) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


def test_inside_the_free_period_nothing_is_due():
    fee = rules.fee(UMBRELLA, lent_at=T0, at=_at(minutes=120))
    assert fee.total_fen == 0 and fee.units == 0
    assert [line.key for line in fee.lines] == ["lent_for", "free", "total"]


def test_every_started_hour_past_the_free_period_costs_the_hourly_fee():
    assert rules.fee(UMBRELLA, lent_at=T0, at=_at(minutes=121)).total_fen == 200  # one started hour
    fee = rules.fee(UMBRELLA, lent_at=T0, at=_at(hours=3, minutes=5))  # 65 min past the free 2 h: 2 started hours
    assert (fee.total_fen, fee.units, fee.billable_minutes) == (400, 2, 65)


def test_the_tier_s_free_period_applies_and_is_named():
    fee = rules.fee(UMBRELLA, lent_at=T0, at=_at(hours=3, minutes=5), tier_code="gold", tier_name="金卡")
    assert fee.total_fen == 0 and fee.free_minutes == 240
    assert "金卡" in fee.lines[1].text
    assert rules.fee(UMBRELLA, lent_at=T0, at=_at(hours=5), tier_code="silver").total_fen == 600  # default 2 h


def test_the_daily_cap_limits_each_block_of_24_started_hours():
    fee = rules.fee(UMBRELLA, lent_at=T0, at=_at(hours=32))  # 30 h past: 24 h capped at ¥20 + 6 h × ¥2
    assert fee.units == 30 and fee.total_fen == 2000 + 1200
    cap = [line for line in fee.lines if line.key == "cap"]
    assert cap and cap[0].fen == 2000 + 1200 - 30 * 200
    assert rules.fee(UMBRELLA, lent_at=T0, at=_at(hours=2 + 72)).total_fen == 3 * 2000


def test_daily_units_count_started_days():
    tariff = Tariff(free_minutes=0, fee_unit="day", fee_per_unit_fen=1500)
    assert rules.fee(tariff, lent_at=T0, at=_at(hours=1)).total_fen == 1500
    assert rules.fee(tariff, lent_at=T0, at=_at(hours=24, seconds=1)).total_fen == 3000


@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 20))
def test_the_fee_never_exceeds_the_caps_and_never_shrinks_with_time(minutes):
    now = rules.fee(UMBRELLA, lent_at=T0, at=_at(minutes=minutes)).total_fen
    later = rules.fee(UMBRELLA, lent_at=T0, at=_at(minutes=minutes + 61)).total_fen
    assert 0 <= now <= later
    days = -(-max(0, minutes - 120) // (24 * 60)) or 0
    assert now <= max(days, 1) * 2000 + 2000


def test_a_wallet_deposit_collects_exact_fen_up_to_itself():
    got = rules.collect(
        due_fen=450, deposit_kind="wallet", deposit_amount=3000, points_per_yuan=100, min_points=100, multiple=100
    )
    assert (got.fen, got.points, got.waived_fen) == (450, 0, 0)
    got = rules.collect(
        due_fen=4500, deposit_kind="wallet", deposit_amount=3000, points_per_yuan=100, min_points=100, multiple=100
    )
    assert (got.fen, got.waived_fen) == (3000, 1500)


def test_a_points_deposit_pays_whole_units_rounded_down_for_the_member():
    got = rules.collect(
        due_fen=450, deposit_kind="points", deposit_amount=3000, points_per_yuan=100, min_points=100, multiple=100
    )
    assert (got.fen, got.points, got.waived_fen) == (400, 400, 50)
    got = rules.collect(
        due_fen=50, deposit_kind="points", deposit_amount=3000, points_per_yuan=100, min_points=100, multiple=100
    )
    assert (got.fen, got.points, got.waived_fen) == (0, 0, 50)  # below the group's minimum: nothing taken
    got = rules.collect(
        due_fen=9000, deposit_kind="points", deposit_amount=3000, points_per_yuan=100, min_points=100, multiple=100
    )
    assert (got.fen, got.points, got.waived_fen) == (3000, 3000, 6000)
    assert (
        rules.collect(
            due_fen=500, deposit_kind="none", deposit_amount=0, points_per_yuan=100, min_points=0, multiple=1
        ).fen
        == 0
    )


def test_a_redemption_unit_is_a_multiple_worth_whole_fen():
    assert rules.unit_points(points_per_yuan=100, multiple=100) == 100
    assert rules.unit_points(points_per_yuan=300, multiple=10) == 30  # 3 points = 1 fen
    assert rules.unit_points(points_per_yuan=50, multiple=1) == 1


def test_slots_are_cut_from_the_weekly_hours_in_the_mall_time_zone():
    monday = dt.date(2026, 12, 7)
    rows = [WeeklyHours(0, dt.time(10), dt.time(12, 30), 4), WeeklyHours(2, dt.time(14), dt.time(15), 2)]
    slots = rules.slots_for(rows, slot_minutes=60, first_day=monday, days=7, tz_name="Asia/Shanghai")
    assert [(s.starts_at.hour, s.capacity) for s in slots] == [(2, 4), (3, 4), (6, 2)]  # UTC; 11:30-12:30 is left
    assert slots[-1].starts_at.date() == dt.date(2026, 12, 9)


def test_who_may_book():
    assert rules.may_book(access=Access.OPEN, lounge_access=False, member_rank=0, min_rank=None)
    assert not rules.may_book(access=Access.LOUNGE_BENEFIT, lounge_access=False, member_rank=3, min_rank=None)
    assert rules.may_book(access=Access.LOUNGE_BENEFIT, lounge_access=True, member_rank=2, min_rank=None)
    assert not rules.may_book(access=Access.MIN_TIER, lounge_access=True, member_rank=1, min_rank=2)


def test_tier_minutes_parse_and_print():
    assert rules.parse_tier_minutes("gold=240, black = 1440") == {"gold": 240, "black": 1440}
    assert rules.parse_tier_minutes("gold") is None
    assert rules.tier_minutes_text({"gold": 240, "black": 1440}) == "black=1440, gold=240"


def test_the_booking_price_by_tier():
    lounge = {"access": Access.LOUNGE_BENEFIT, "min_rank": None}
    assert rules.booking_price(**lounge, lounge_access=True, member_rank=2, price_points=500) == 0
    assert rules.booking_price(**lounge, lounge_access=False, member_rank=1, price_points=500) == 500
    assert rules.booking_price(**lounge, lounge_access=False, member_rank=1, price_points=0) is None
    assert (
        rules.booking_price(access=Access.OPEN, lounge_access=False, member_rank=0, min_rank=None, price_points=300)
        == 300
    )
    assert (
        rules.booking_price(access=Access.MIN_TIER, lounge_access=True, member_rank=1, min_rank=2, price_points=0)
        is None
    )


def test_a_points_price_must_go_through_the_checkout():
    config = {"min_points": 100, "multiple": 100, "points_per_yuan": 100}
    assert rules.price_problem(500, **config) == ""
    assert rules.price_problem(50, **config) and rules.price_problem(150, **config)
    assert rules.price_problem(100, min_points=0, multiple=1, points_per_yuan=300)  # not whole fen
