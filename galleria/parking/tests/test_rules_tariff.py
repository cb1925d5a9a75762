"""The tariff engine and the benefits: the documented examples of docs/parking.md, as table tests (no database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from galleria.parking.rules import (
    Band,
    BenefitKind,
    Benefits,
    CapMode,
    FeeError,
    FreeMinutesMode,
    Funder,
    HolidayRule,
    MerchantGrant,
    NightBand,
    ParkingCoupon,
    PointsRate,
    Rate,
    RateSet,
    Tariff,
    TariffError,
    auto_pay_allowed,
    calculate_fee,
    extra_fee,
    leave_by,
    plan_payment,
    points_usable,
    spend_hours,
    tariff_for,
)

SH = ZoneInfo("Asia/Shanghai")
SINCE = dt.datetime(2024, 1, 1, tzinfo=SH)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def at(day, hour, minute=0, second=0):
    """A mall-local moment in May 2025 (1 May is a Thursday)."""
    return dt.datetime(2025, 5, day, hour, minute, second, tzinfo=SH)


def tariff(**kw):
    """The issue's tariff: first 30 min free, ¥5/h, cap ¥50 per calendar day."""
    kw.setdefault("rates", RateSet(day=Rate(500), daily_cap_fen=5000))
    kw.setdefault("free_minutes", 30)
    return Tariff(code=kw.pop("code", "std"), effective_from=kw.pop("effective_from", SINCE), **kw)


def night_tariff(**kw):
    """Day ¥5/h; night 20:00–08:00 ¥1/h capped at ¥10 a night; ¥50 a calendar day."""
    kw.setdefault("rates", RateSet(day=Rate(500), night=Rate(100, cap_fen=1000), daily_cap_fen=5000))
    return tariff(night=NightBand(dt.time(20), dt.time(8)), free_minutes=0, **kw)


def fee(t, entry, exit_, **kw):
    return calculate_fee(t, entry_at=entry, exit_at=exit_, tz=SH, **kw)


def rows(result):
    return [
        (s.starts_at, s.ends_at, s.band.value, s.units, s.amount_before_cap_fen, s.amount_fen) for s in result.segments
    ]


# --- the issue's example ----------------------------------------------------------------------------------------------


def test_issue_example_gold_member_who_spent_250_and_parked_6_hours_pays_5_yuan():
    result = fee(
        tariff(),
        at(6, 10),
        at(6, 16),
        benefits=Benefits(tier_hours=3, spend_today_fen=25000, spend_steps=((20000, 2),)),
    )
    assert result.gross_fen == 3000  # 6 h × ¥5, charged from entry (the stay is longer than 30 min)
    assert [(b.kind, b.minutes_used, b.fen) for b in result.benefits] == [
        (BenefitKind.TIER_HOURS, 180, 1500),
        (BenefitKind.SPEND_HOURS, 120, 1000),
    ]
    assert result.net_fen == 500
    assert result.priced_until == at(6, 11)  # as if the car had left after 1 h
    assert result.funded_by() == {(Funder.MALL, None): 2500}
    assert result.benefits[1].params["threshold_fen"] == 20000


# --- free minutes -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "stay", "fen", "is_free"),
    [
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 0 * M, 0, True),
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 30 * M, 0, True),
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 30 * M + dt.timedelta(seconds=59), 0, True),  # seconds are dropped
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 31 * M, 500, False),  # charged from entry: 31 min = 1 unit
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 60 * M, 500, False),
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 61 * M, 1000, False),
        (FreeMinutesMode.CHARGE_FROM_ENTRY, 90 * M, 1000, False),
        (FreeMinutesMode.DEDUCT, 30 * M, 0, True),
        (FreeMinutesMode.DEDUCT, 31 * M, 500, False),  # 1 chargeable minute = 1 unit
        (FreeMinutesMode.DEDUCT, 90 * M, 500, False),  # 60 chargeable minutes
        (FreeMinutesMode.DEDUCT, 91 * M, 1000, False),
    ],
)
def test_free_first_30_minutes_edge(mode, stay, fen, is_free):
    result = fee(tariff(free_minutes_mode=mode), at(6, 10), at(6, 10) + stay)
    assert (result.gross_fen, result.is_free_stay) == (fen, is_free)
    assert result.key == ("parking.fee.free_stay" if is_free else "parking.fee.charged")
    if not is_free:
        offset = 30 * M if mode is FreeMinutesMode.DEDUCT else 0 * M
        assert result.charged_from == at(6, 10) + offset


def test_zero_length_stay_is_free_and_has_no_segments():
    result = fee(tariff(free_minutes=0), at(6, 10), at(6, 10))
    assert (result.gross_fen, result.net_fen, result.segments, result.is_free_stay) == (0, 0, (), True)


@pytest.mark.parametrize(
    ("entry", "exit_", "code"),
    [
        (at(6, 10), at(6, 9), "parking.exit_before_entry"),
        (dt.datetime(2025, 5, 6, 10), at(6, 11), "parking.naive_datetime"),
        (at(6, 10), dt.datetime(2025, 5, 6, 11), "parking.naive_datetime"),
        (at(6, 10), at(6, 10) + dt.timedelta(days=1001), "parking.stay_too_long"),
    ],
)
def test_impossible_stays_are_coded_errors(entry, exit_, code):
    with pytest.raises(FeeError) as info:
        fee(tariff(), entry, exit_)
    assert info.value.code == code


# --- units ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "units", "fen"), [(60, 2, 600), (61, 3, 900), (89, 3, 900), (90, 3, 900)])
def test_30_minute_units_round_a_partial_unit_up(minutes, units, fen):
    t = tariff(unit_minutes=30, free_minutes=0, rates=RateSet(day=Rate(300)))
    result = fee(t, at(6, 10), at(6, 10) + minutes * M)
    assert (result.units, result.gross_fen) == (units, fen)
    assert t.hour_price_fen == 600


# --- day and night ----------------------------------------------------------------------------------------------------


def test_day_night_crossing_prices_each_unit_at_the_rate_where_it_starts():
    result = fee(night_tariff(), at(6, 18, 30), at(6, 21, 45))
    assert rows(result) == [
        (at(6, 18, 30), at(6, 20, 30), "day", 2, 1000, 1000),  # the 19:30 unit runs into the night at the day rate
        (at(6, 20, 30), at(6, 21, 45), "night", 2, 200, 200),
    ]
    assert result.gross_fen == 1200


def test_a_night_is_capped_once_even_across_midnight():
    result = fee(night_tariff(), at(6, 20), at(7, 8))  # 12 night hours at ¥1, cap ¥10
    assert rows(result) == [
        (at(6, 20), at(7, 0), "night", 4, 400, 400),
        (at(7, 0), at(7, 8), "night", 8, 800, 600),
    ]
    assert result.segments[1].period_capped_fen == 200
    assert result.segments[1].band_date == dt.date(2025, 5, 6)  # the night of 6 May
    assert result.gross_fen == 1000


def test_50_hours_with_night_caps_and_calendar_day_caps_in_time_order():
    result = fee(night_tariff(), at(6, 10), at(8, 12))
    assert [(s.band.value, s.amount_before_cap_fen, s.period_capped_fen, s.daily_capped_fen, s.amount_fen)
            for s in result.segments] == [
        ("day", 5000, 0, 0, 5000),  # 6 May 10–20: ¥50, the day's cap is reached
        ("night", 400, 0, 400, 0),  # 6 May 20–24: nothing left under 6 May's cap
        ("night", 800, 0, 0, 800),  # 7 May 0–8: the night of 6 May has charged ¥0 so far, cap ¥10
        ("day", 6000, 0, 1800, 4200),  # 7 May 8–20: ¥50 − ¥8 left under 7 May's cap
        ("night", 400, 0, 400, 0),
        ("night", 800, 0, 0, 800),
        ("day", 2000, 0, 0, 2000),
    ]  # fmt: skip
    assert result.gross_fen == 12800


def test_night_band_inside_one_date():
    t = Tariff(
        code="early",
        effective_from=SINCE,
        rates=RateSet(day=Rate(500), night=Rate(200)),
        night=NightBand(dt.time(0), dt.time(6)),
    )
    assert rows(fee(t, at(6, 23), at(7, 7))) == [
        (at(6, 23), at(7, 0), "day", 1, 500, 500),
        (at(7, 0), at(7, 6), "night", 6, 1200, 1200),
        (at(7, 6), at(7, 7), "day", 1, 500, 500),
    ]


# --- daily caps -------------------------------------------------------------------------------------------------------


def test_midnight_crossing_calendar_cap_versus_rolling_24h_cap():
    calendar = fee(tariff(), at(6, 14), at(7, 12))
    assert [(s.amount_before_cap_fen, s.amount_fen) for s in calendar.segments] == [(5000, 5000), (6000, 5000)]
    assert calendar.gross_fen == 10000  # two calendar days, each capped at ¥50
    rolling = fee(tariff(cap_mode=CapMode.ROLLING_24H), at(6, 14), at(7, 12))
    assert rolling.gross_fen == 5000  # 22 h inside the first 24 h window


def test_three_day_stay():
    calendar = fee(tariff(), at(6, 10), at(9, 9))  # 71 h
    assert [s.amount_fen for s in calendar.segments] == [5000, 5000, 5000, 4500]
    assert calendar.gross_fen == 19500
    rolling = fee(tariff(cap_mode="rolling_24h"), at(6, 10), at(9, 9))
    assert [(s.starts_at, s.amount_fen) for s in rolling.segments] == [
        (at(6, 10), 5000),  # window 6 May 10:00 – 7 May 10:00 (split at midnight, capped as one window)
        (at(7, 0), 0),
        (at(7, 10), 5000),
        (at(8, 0), 0),
        (at(8, 10), 5000),
        (at(9, 0), 0),
    ]
    assert rolling.gross_fen == 15000


# --- holidays ---------------------------------------------------------------------------------------------------------

MAY_DAY = HolidayRule(
    dates=frozenset({dt.date(2025, 5, 1)}),
    rates=RateSet(day=Rate(800), night=Rate(200, cap_fen=1500), daily_cap_fen=8000),
)


def test_holiday_prices_apply_on_holiday_dates_only():
    t = tariff(free_minutes=0, holidays=(HolidayRule(dates={dt.date(2025, 5, 1)}, rates=RateSet(day=Rate(800))),))
    result = fee(t, at(1, 0) - 2 * H, at(1, 2))  # 30 April 22:00 → 1 May 02:00
    assert [(s.is_holiday, s.units, s.amount_fen, s.key) for s in result.segments] == [
        (False, 2, 1000, "parking.segment.day"),
        (True, 2, 1600, "parking.segment.holiday_day"),
    ]
    assert result.gross_fen == 2600


def test_a_holiday_night_keeps_its_rates_after_midnight_but_the_next_day_has_its_own_cap():
    result = fee(night_tariff(holidays=(MAY_DAY,)), at(1, 22), at(2, 3))
    assert [(s.band_date, s.is_holiday, s.units, s.unit_price_fen) for s in result.segments] == [
        (dt.date(2025, 5, 1), True, 2, 200),
        (dt.date(2025, 5, 1), True, 3, 200),  # the night of 1 May, priced as a holiday night
    ]
    assert result.gross_fen == 1000


def test_weekday_holiday_rule_for_weekends():
    weekend = HolidayRule(weekdays={5, 6}, rates=RateSet(day=Rate(1000), daily_cap_fen=6000))
    t = tariff(holidays=(weekend,))
    assert fee(t, at(3, 10), at(3, 13)).gross_fen == 3000  # Saturday 3 May
    assert fee(t, at(3, 10), at(3, 23)).gross_fen == 6000
    assert fee(t, at(5, 10), at(5, 13)).gross_fen == 1500  # Monday


def test_rolling_window_takes_the_cap_of_the_date_it_starts_on():
    t = Tariff(
        code="r",
        effective_from=SINCE,
        rates=RateSet(day=Rate(500), daily_cap_fen=5000),
        cap_mode=CapMode.ROLLING_24H,
        holidays=(HolidayRule(dates={dt.date(2025, 5, 1)}, rates=RateSet(day=Rate(800), daily_cap_fen=8000)),),
    )
    # window from 30 April 12:00: 12 h at ¥5 then 10 h of 1 May at ¥8 = ¥140, capped at 30 April's ¥50
    assert fee(t, at(1, 0) - 12 * H, at(1, 10)).gross_fen == 5000
    # window from 1 May 08:00: 22 h = ¥8 × 16 + ¥5 × 6 = ¥158, capped at 1 May's ¥80
    assert fee(t, at(1, 8), at(2, 6)).gross_fen == 8000


# --- effective dates --------------------------------------------------------------------------------------------------

V1 = tariff(code="v1", effective_until=dt.datetime(2025, 6, 1, tzinfo=SH))
V2 = tariff(code="v2", effective_from=dt.datetime(2025, 6, 1, tzinfo=SH), rates=RateSet(day=Rate(1000)))


def test_tariff_for_picks_the_version_in_force_and_the_entry_tariff_prices_the_whole_stay():
    entry, exit_ = dt.datetime(2025, 5, 31, 22, tzinfo=SH), dt.datetime(2025, 6, 1, 2, tzinfo=SH)
    assert tariff_for([V2, V1], entry) is V1
    assert tariff_for([V2, V1], exit_) is V2
    assert tariff_for([V1, V2], dt.datetime(2025, 5, 31, 15, 59, tzinfo=dt.UTC)) is V1  # 23:59 in Shanghai
    assert tariff_for([V1, V2], dt.datetime(2025, 5, 31, 16, 0, tzinfo=dt.UTC)) is V2  # midnight in Shanghai
    result = fee(tariff_for([V1, V2], entry), entry, exit_)
    assert (result.tariff_code, result.gross_fen) == ("v1", 2000)  # 4 h at v1's ¥5 even after v2 starts


def test_a_later_open_ended_version_supersedes_an_earlier_one():
    base = tariff(code="base")
    newer = tariff(code="newer", effective_from=dt.datetime(2025, 3, 1, tzinfo=SH))
    assert tariff_for([base, newer], at(6, 10)).code == "newer"
    assert tariff_for([base, newer], dt.datetime(2025, 2, 1, tzinfo=SH)).code == "base"


@pytest.mark.parametrize(
    ("tariffs", "moment", "code"),
    [
        ([V1], dt.datetime(2025, 6, 2, tzinfo=SH), "tariff.none_in_force"),
        ([V1, tariff(code="twin")], at(6, 10), "tariff.ambiguous"),
        ([V1], dt.datetime(2025, 5, 6), "tariff.effective"),
    ],
)
def test_tariff_for_errors(tariffs, moment, code):
    with pytest.raises(TariffError) as info:
        tariff_for(tariffs, moment)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("build", "code", "field"),
    [
        (lambda: tariff(unit_minutes=0), "tariff.count", "unit_minutes"),
        (lambda: tariff(free_minutes=-1), "tariff.count", "free_minutes"),
        (lambda: Rate(-1), "tariff.amount", "unit_price_fen"),
        (lambda: Rate(1.5), "tariff.amount", "unit_price_fen"),  # type: ignore[arg-type]
        (lambda: Rate(True), "tariff.amount", "unit_price_fen"),
        (lambda: RateSet(day=Rate(1), daily_cap_fen=-5), "tariff.amount", "daily_cap_fen"),
        (lambda: tariff(night=NightBand(dt.time(20), dt.time(8))), "tariff.night", "rates"),
        (lambda: NightBand(dt.time(20), dt.time(20)), "tariff.night", "night.ends"),
        (lambda: NightBand(dt.time(20, 0, 30), dt.time(8)), "tariff.night", "night.starts"),
        (lambda: tariff(effective_from=dt.datetime(2025, 1, 1)), "tariff.effective", "effective_from"),
        (lambda: tariff(effective_until=SINCE), "tariff.effective", "effective_until"),
        (lambda: tariff(code=""), "tariff.code", "code"),
        (
            lambda: HolidayRule(rates=RateSet(day=Rate(1)), weekdays=frozenset({7})),
            "tariff.holiday",
            "holidays.weekdays",
        ),
        (
            lambda: HolidayRule(rates=RateSet(day=Rate(1)), dates=frozenset({at(1, 0)})),
            "tariff.holiday",
            "holidays.dates",
        ),
        (lambda: tariff(holidays=(MAY_DAY,)), "tariff.night", "holidays.rates"),  # a night rate with no band
    ],
)
def test_tariff_definitions_are_validated_with_a_field(build, code, field):
    with pytest.raises(TariffError) as info:
        build()
    assert (info.value.code, info.value.params["field"]) == (code, field)


# --- benefits ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend", "hours"), [(0, 0), (9999, 0), (10000, 1), (19950, 1), (19999, 1), (20000, 2), (49999, 2), (60000, 4)]
)
def test_same_day_spend_hours_take_the_highest_step_reached_exactly(spend, hours):
    assert spend_hours(spend, [(20000, 2), (10000, 1), (50000, 4)]) == hours


def test_hour_benefits_remove_time_from_the_end_of_the_stay():
    # 18:00–22:00: the benefit's 2 h are 20:00–22:00 (night); 18:00–20:00 is paid at the day rate
    result = fee(night_tariff(), at(6, 18), at(6, 22), benefits=Benefits(tier_hours=2))
    assert (result.gross_fen, result.net_fen, result.priced_until) == (1200, 1000, at(6, 20))


def test_on_a_multi_day_stay_free_hours_come_off_the_last_day():
    result = fee(tariff(), at(6, 10), at(9, 9), benefits=Benefits(tier_hours=3))
    assert (result.gross_fen, result.net_fen) == (19500, 18000)  # 9 May: 9 h → 6 h


def test_free_hours_that_only_remove_capped_time_save_nothing_and_are_not_billed():
    result = fee(tariff(), at(6, 8), at(6, 23), benefits=Benefits(merchant_grants=(MerchantGrant("g1", "m1", 2),)))
    (line,) = result.benefits
    assert (line.minutes_used, line.fen, line.is_used) == (120, 0, False)  # 15 h → 13 h, still above the ¥50 cap
    assert result.funded_by() == {}


def test_merchant_grants_are_billed_for_what_they_actually_covered_in_the_order_given():
    benefits = Benefits(
        tier_hours=1,
        merchant_grants=(MerchantGrant("g-cinema", "cinema", 2), MerchantGrant("g-food", "restaurant", 3)),
        coupons=(ParkingCoupon("c-1", hours=1),),
    )
    result = fee(tariff(), at(6, 10), at(6, 14, 20), benefits=benefits)  # 4 h 20 min = 5 units = ¥25
    assert [(b.kind, b.source_id, b.funder, b.funder_id, b.minutes_used, b.fen) for b in result.benefits] == [
        (BenefitKind.TIER_HOURS, None, Funder.MALL, None, 60, 500),
        (BenefitKind.MERCHANT_GRANT, "g-cinema", Funder.MERCHANT, "cinema", 120, 1000),
        (BenefitKind.MERCHANT_GRANT, "g-food", Funder.MERCHANT, "restaurant", 80, 1000),  # only 1 h 20 min was left
        (BenefitKind.COUPON_HOURS, "c-1", Funder.MALL, None, 0, 0),  # not needed: keep the coupon
    ]
    assert result.net_fen == 0
    assert result.funded_by() == {
        (Funder.MALL, None): 500,
        (Funder.MERCHANT, "cinema"): 1000,
        (Funder.MERCHANT, "restaurant"): 1000,
    }


def test_amount_coupons_come_after_every_hour_benefit_and_never_below_zero():
    benefits = Benefits(
        coupons=(
            ParkingCoupon("c-300", amount_fen=300, funder=Funder.MERCHANT, funder_id="m9"),
            ParkingCoupon("c-hours", hours=1),
            ParkingCoupon("c-1000", amount_fen=1000),
        )
    )
    result = fee(tariff(), at(6, 10), at(6, 13), benefits=benefits)  # ¥15
    assert [(b.kind, b.source_id, b.fen) for b in result.benefits] == [
        (BenefitKind.COUPON_HOURS, "c-hours", 500),
        (BenefitKind.COUPON_AMOUNT, "c-300", 300),
        (BenefitKind.COUPON_AMOUNT, "c-1000", 700),
    ]
    assert result.net_fen == 0
    assert result.funded_by() == {(Funder.MALL, None): 1200, (Funder.MERCHANT, "m9"): 300}


def test_benefits_on_a_free_stay_take_nothing():
    result = fee(tariff(), at(6, 10), at(6, 10, 20), benefits=Benefits(tier_hours=3))
    assert (result.net_fen, [b.fen for b in result.benefits]) == (0, [0])


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: ParkingCoupon("c", hours=1, amount_fen=100), "parking.coupon"),
        (lambda: ParkingCoupon("c"), "parking.coupon"),
        (lambda: MerchantGrant("", "m", 1), "parking.benefit"),
        (lambda: Benefits(merchant_grants=("g",)), "parking.benefit"),  # type: ignore[arg-type]
        (lambda: Benefits(spend_steps=((100,),)), "parking.spend_steps"),  # type: ignore[arg-type]
    ],
)
def test_bad_benefits_are_coded_errors(build, code):
    with pytest.raises(FeeError) as info:
        build()
    assert info.value.code == code


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: MerchantGrant("g", "m", 0), "tariff.count"),
        (lambda: Benefits(tier_hours=-1), "tariff.count"),
        (lambda: Benefits(spend_steps=((-1, 2),)), "tariff.amount"),
    ],
)
def test_bad_benefit_numbers_are_coded_errors(build, code):
    with pytest.raises(TariffError) as info:
        build()
    assert info.value.code == code


# --- paying: points, wallet, gateway, frictionless exit ---------------------------------------------------------------

RATE = PointsRate(points=100, fen=100)  # 100 points = ¥1


@pytest.mark.parametrize(
    ("amount", "balance", "max_points", "points", "fen"),
    [
        (500, 10_000, None, 500, 500),  # the issue's ¥5: one hour = 500 points
        (700, 10_000, None, 500, 500),  # whole hours only: ¥2 left for the wallet
        (1500, 1_200, None, 1000, 1000),  # the balance buys two hours
        (1500, 10_000, 600, 500, 500),  # the member caps what they spend
        (300, 10_000, None, 0, 0),  # less than one hour's price
        (500, 499, None, 0, 0),
        (0, 10_000, None, 0, 0),
    ],
)
def test_points_pay_whole_hours_of_the_tariff(amount, balance, max_points, points, fen):
    quote = points_usable(
        amount, step_fen=tariff().hour_price_fen, rate=RATE, balance_points=balance, max_points=max_points
    )
    assert (quote.points, quote.fen) == (points, fen)


def test_a_step_costs_at_least_the_rate_in_points():
    quote = points_usable(1000, step_fen=500, rate=PointsRate(points=3, fen=2), balance_points=10_000)
    assert (quote.points_per_step, quote.points, quote.fen) == (750, 1500, 1000)
    odd = points_usable(1000, step_fen=333, rate=PointsRate(points=1, fen=2), balance_points=10_000)
    assert odd.points_per_step == 167  # 166.5 rounds up


def test_payment_plan_points_then_wallet_then_gateway():
    plan = plan_payment(1200, step_fen=500, rate=RATE, balance_points=800, wallet_balance_fen=300)
    assert (plan.points, plan.points_fen, plan.wallet_fen, plan.gateway_fen) == (500, 500, 300, 400)
    no_points = plan_payment(1200, step_fen=500, rate=RATE, balance_points=800, wallet_balance_fen=5000, max_points=0)
    assert (no_points.points_fen, no_points.wallet_fen, no_points.gateway_fen) == (0, 1200, 0)


@pytest.mark.parametrize(("net", "cap", "allowed"), [(0, 0, True), (2000, 2000, True), (2001, 2000, False)])
def test_frictionless_exit_within_the_per_exit_cap(net, cap, allowed):
    assert auto_pay_allowed(net, cap) is allowed


def test_frictionless_exit_rejects_nonsense():
    with pytest.raises(FeeError):
        auto_pay_allowed(-1, 100)


def test_leave_by_and_extra_time_after_paying():
    t, entry, paid = tariff(), at(6, 10), at(6, 12, 10)  # paid 3 units (¥15), covering until 13:00
    assert leave_by(paid, 15) == at(6, 12, 25)
    on_time = extra_fee(t, entry_at=entry, paid_until=paid, exit_at=at(6, 12, 25), tz=SH, grace_minutes=15)
    assert (on_time.amount_fen, on_time.key) == (0, "parking.extra.none")
    inside_paid_unit = extra_fee(t, entry_at=entry, paid_until=paid, exit_at=at(6, 12, 50), tz=SH, grace_minutes=15)
    assert inside_paid_unit.amount_fen == 0  # late, but the unit 12:00–13:00 was paid for
    late = extra_fee(t, entry_at=entry, paid_until=paid, exit_at=at(6, 13, 1), tz=SH, grace_minutes=15)
    assert (late.amount_fen, late.key, [(s.starts_at, s.units) for s in late.segments]) == (
        500,
        "parking.extra.due",
        [(at(6, 13), 1)],
    )


def test_extra_time_counts_towards_the_cap_already_paid():
    t, entry = tariff(), at(6, 8)
    paid = at(6, 19)  # 11 h = ¥55 → ¥50 paid, the day's cap
    late = extra_fee(t, entry_at=entry, paid_until=paid, exit_at=at(6, 22), tz=SH, grace_minutes=15)
    assert late.amount_fen == 0
    next_day = extra_fee(t, entry_at=entry, paid_until=paid, exit_at=at(7, 2), tz=SH, grace_minutes=15)
    assert next_day.amount_fen == 1000  # 7 May 00:00–02:00


def test_extra_time_after_paying_nothing_within_the_free_minutes_is_charged_from_entry():
    t, entry = tariff(), at(6, 10)
    late = extra_fee(t, entry_at=entry, paid_until=at(6, 10, 20), exit_at=at(6, 10, 40), tz=SH, grace_minutes=15)
    assert late.amount_fen == 500


def test_extra_fee_errors():
    with pytest.raises(FeeError) as info:
        extra_fee(tariff(), entry_at=at(6, 10), paid_until=at(6, 9), exit_at=at(6, 11), tz=SH, grace_minutes=15)
    assert info.value.code == "parking.paid_before_entry"
    with pytest.raises(FeeError) as info:
        leave_by(at(6, 10), -1)
    assert info.value.code == "parking.grace_minutes"


def test_segments_and_lines_explain_themselves_with_keys_and_params():
    result = fee(night_tariff(), at(6, 19), at(6, 21), benefits=Benefits(coupons=(ParkingCoupon("c", hours=1),)))
    assert [(s.key, dict(s.params)) for s in result.segments] == [
        ("parking.segment.day", {"units": 1, "unit_minutes": 60, "unit_price_fen": 500, "amount_fen": 500,
                                 "band_date": "2025-05-06"}),
        ("parking.segment.night", {"units": 1, "unit_minutes": 60, "unit_price_fen": 100, "amount_fen": 100,
                                   "band_date": "2025-05-06"}),
    ]  # fmt: skip
    (line,) = result.benefits
    assert (line.key, dict(line.params)) == (
        "parking.benefit.coupon_hours",
        {"hours": 1, "minutes_used": 60, "fen": 100},
    )
    assert result.segments[0].band is Band.DAY


def test_the_same_grant_or_coupon_twice_is_refused_so_nobody_is_billed_twice():
    with pytest.raises(FeeError) as info:
        Benefits(merchant_grants=(MerchantGrant("g1", "m1", 1), MerchantGrant("g1", "m2", 1)))
    assert info.value.code == "parking.benefit_duplicate"
    with pytest.raises(FeeError) as info:
        Benefits(coupons=(ParkingCoupon("c1", hours=1), ParkingCoupon("c1", amount_fen=100)))
    assert info.value.code == "parking.benefit_duplicate"


# --- zones with daylight saving (not China, but the engine must not depend on that) -----------------------------------

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("entry", "exit_", "night", "day_units", "night_units"),
    [
        # 2 Nov 2025: 01:00–02:00 happens twice. Night 01:30–06:00: 00:00–01:30 day, 01:30–02:00 EDT night,
        # 01:00–01:30 EST day again, 01:30–06:00 EST night, 06:00–07:00 day; 8 h elapsed
        (dt.datetime(2025, 11, 2, 4, tzinfo=dt.UTC), dt.datetime(2025, 11, 2, 12, tzinfo=dt.UTC), (1, 30), 6, 10),
        # 9 Mar 2025: 02:00 jumps to 03:00. Night 02:30–06:00 begins at the jump; 7 h elapsed
        (dt.datetime(2025, 3, 9, 5, tzinfo=dt.UTC), dt.datetime(2025, 3, 9, 12, tzinfo=dt.UTC), (2, 30), 8, 6),
    ],
)
def test_bands_follow_the_wall_clock_through_daylight_saving_changes(entry, exit_, night, day_units, night_units):
    t = Tariff(
        code="ny",
        effective_from=SINCE,
        unit_minutes=30,
        rates=RateSet(day=Rate(500), night=Rate(100)),
        night=NightBand(dt.time(*night), dt.time(6)),
    )
    result = calculate_fee(t, entry_at=entry, exit_at=exit_, tz=NY)
    units = {band: sum(s.units for s in result.segments if s.band is band) for band in Band}
    assert (units[Band.DAY], units[Band.NIGHT]) == (day_units, night_units)
    assert result.gross_fen == day_units * 500 + night_units * 100


def test_free_minutes_are_judged_on_the_real_stay_before_benefits():
    result = fee(tariff(), at(6, 10), at(6, 15, 20), benefits=Benefits(tier_hours=5))  # 5 h 20 min, 5 h free
    assert (result.is_free_stay, result.gross_fen, result.net_fen) == (False, 3000, 500)  # priced as 20 min


def test_hour_price_for_points_steps_rounds_half_up_when_the_unit_does_not_divide_an_hour():
    assert tariff(unit_minutes=45, rates=RateSet(day=Rate(400))).hour_price_fen == 533
    assert tariff(unit_minutes=90, rates=RateSet(day=Rate(500))).hour_price_fen == 333
    assert tariff(unit_minutes=15, rates=RateSet(day=Rate(125))).hour_price_fen == 500
