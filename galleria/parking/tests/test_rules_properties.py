"""Properties of the tariff engine and the benefits, over generated tariffs, stays and benefits (hypothesis)."""

import datetime as dt
import math
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from galleria.parking.rules import (
    Band,
    Benefits,
    CapMode,
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
    calculate_fee,
    extra_fee,
    plan_payment,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
FIRST = dt.date(2025, 4, 28)  # stays start within a fortnight from here (1 May and weekends in range)

prices = st.integers(0, 2000)
caps = st.none() | st.integers(0, 20000)


@st.composite
def rate_sets(draw, with_night):
    return RateSet(
        day=Rate(draw(prices), draw(caps)),
        night=Rate(draw(prices), draw(caps)) if with_night else None,
        daily_cap_fen=draw(caps),
    )


@st.composite
def tariffs(draw, holidays=True):
    night = None
    if draw(st.booleans()):
        starts = dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
        ends = dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
        assume(starts != ends)
        night = NightBand(starts, ends)
    rules = ()
    if holidays and draw(st.booleans()):
        dates = draw(st.frozensets(st.integers(0, 14).map(lambda n: FIRST + dt.timedelta(days=n)), max_size=4))
        weekdays = draw(st.frozensets(st.integers(0, 6), max_size=2))
        rules = (HolidayRule(rates=draw(rate_sets(night is not None)), dates=dates, weekdays=weekdays),)
    return Tariff(
        code="gen",
        effective_from=dt.datetime(2024, 1, 1, tzinfo=SH),
        rates=draw(rate_sets(night is not None)),
        unit_minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90, 120])),
        free_minutes=draw(st.sampled_from([0, 0, 15, 30, 60])),
        free_minutes_mode=draw(st.sampled_from(list(FreeMinutesMode))),
        night=night,
        cap_mode=draw(st.sampled_from(list(CapMode))),
        holidays=rules,
    )


entries = st.builds(
    lambda days, seconds: dt.datetime.combine(FIRST, dt.time(0), tzinfo=SH) + dt.timedelta(days=days, seconds=seconds),
    st.integers(0, 10),
    st.integers(0, 86399),
)
stays = st.one_of(
    st.integers(0, 180 * 60),  # short visits, in seconds
    st.integers(0, 3 * 86400),
    st.integers(0, 9 * 86400),
).map(lambda s: dt.timedelta(seconds=s))

ids = st.text("abcdef0123456789", min_size=1, max_size=8)
grants = st.builds(MerchantGrant, ids, st.sampled_from(["m1", "m2", "m3"]), st.integers(1, 8))
coupons = st.one_of(
    st.builds(lambda i, h: ParkingCoupon(i, hours=h), ids, st.integers(1, 6)),
    st.builds(
        lambda i, a, m: ParkingCoupon(i, amount_fen=a, funder_id=m, funder=Funder.MERCHANT if m else Funder.MALL),
        ids,
        st.integers(1, 5000),
        st.none() | st.sampled_from(["m1", "m4"]),
    ),
)
benefit_sets = st.builds(
    Benefits,
    tier_hours=st.integers(0, 6),
    spend_today_fen=st.integers(0, 100000),
    spend_steps=st.lists(st.tuples(st.integers(0, 60000), st.integers(0, 4)), max_size=3).map(tuple),
    merchant_grants=st.lists(grants, max_size=3, unique_by=lambda g: g.grant_id).map(tuple),
    coupons=st.lists(coupons, max_size=3, unique_by=lambda c: c.coupon_id).map(tuple),
)


def fee(tariff, entry, exit_, benefits=None, tz=SH):
    kw = {"benefits": benefits} if benefits is not None else {}
    return calculate_fee(tariff, entry_at=entry, exit_at=exit_, tz=tz, **kw)


def reference_gross(tariff, entry, exit_, tz):
    """The pricing rules of docs/parking.md, unit by unit (slow and obvious)."""
    entry, exit_ = entry.astimezone(UTC), exit_.astimezone(UTC)  # elapsed time, not wall-clock arithmetic
    stay = (exit_ - entry) // MINUTE
    if stay <= tariff.free_minutes:
        return 0
    start = tariff.free_minutes if tariff.free_minutes_mode is FreeMinutesMode.DEDUCT else 0
    units = math.ceil((stay - start) / tariff.unit_minutes)
    band_spent, day_spent, total = {}, {}, 0
    for k in range(units):
        begins = entry + (start + k * tariff.unit_minutes) * MINUTE
        local = begins.astimezone(tz)
        wall, band, band_date = local.time().replace(tzinfo=None), Band.DAY, local.date()
        night = tariff.night
        if night is not None and night.ends <= night.starts:  # crosses midnight
            if wall >= night.starts:
                band = Band.NIGHT
            elif wall < night.ends:
                band, band_date = Band.NIGHT, band_date - DAY  # the night that began yesterday
        elif night is not None and night.starts <= wall < night.ends:
            band = Band.NIGHT
        rates = tariff.rates_on(band_date)
        rate = rates.night if band is Band.NIGHT else rates.day
        if tariff.cap_mode is CapMode.CALENDAR_DAY:
            bucket, cap = local.date(), tariff.rates_on(local.date()).daily_cap_fen
        else:
            bucket = (begins - entry) // DAY
            cap = tariff.rates_on((entry + bucket * DAY).astimezone(tz).date()).daily_cap_fen
        amount = rate.unit_price_fen
        if rate.cap_fen is not None:
            amount = min(amount, max(0, rate.cap_fen - band_spent.get((band, band_date), 0)))
        if cap is not None:
            amount = min(amount, max(0, cap - day_spent.get(bucket, 0)))
        band_spent[(band, band_date)] = band_spent.get((band, band_date), 0) + amount
        day_spent[bucket] = day_spent.get(bucket, 0) + amount
        total += amount
    return total


@settings(max_examples=300, deadline=None)
@given(tariffs(), entries, stays)
def test_the_engine_equals_the_unit_by_unit_reference(tariff, entry, stay):
    assert fee(tariff, entry, entry + stay).gross_fen == reference_gross(tariff, entry, entry + stay, SH)


# Daylight-saving changes in 2025: spring forward, fall back, and Lord Howe's 30-minute fall back.
DST_CHANGES = [
    ("Europe/London", dt.date(2025, 3, 30)),
    ("Europe/London", dt.date(2025, 10, 26)),
    ("America/New_York", dt.date(2025, 3, 9)),
    ("America/New_York", dt.date(2025, 11, 2)),
    ("Australia/Lord_Howe", dt.date(2025, 4, 6)),
]


@settings(max_examples=200, deadline=None)
@given(tariffs(), st.sampled_from(DST_CHANGES), st.integers(-3 * 86400, 86400), stays)
def test_the_engine_equals_the_reference_across_daylight_saving_changes(tariff, change, seconds, stay):
    zone, day = change
    tz = ZoneInfo(zone)
    entry = (
        dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC) + dt.timedelta(seconds=seconds)
    ).astimezone(tz)
    exit_ = (entry.astimezone(UTC) + stay).astimezone(tz)
    result = fee(tariff, entry, exit_, tz=tz)
    assert result.stay_minutes == stay // MINUTE
    assert result.gross_fen == reference_gross(tariff, entry, exit_, tz)


@settings(max_examples=300, deadline=None)
@given(tariffs(), entries, stays, benefit_sets)
def test_fees_are_never_negative_and_net_is_gross_minus_the_benefit_lines(tariff, entry, stay, benefits):
    result = fee(tariff, entry, entry + stay, benefits)
    assert result.gross_fen >= 0
    assert 0 <= result.net_fen <= result.gross_fen
    assert all(line.fen >= 0 and 0 <= line.minutes_used <= line.minutes_offered for line in result.benefits)
    assert result.net_fen == result.gross_fen - sum(line.fen for line in result.benefits)
    assert sum(result.funded_by().values()) == result.gross_fen - result.net_fen
    for line in result.benefits:
        if line.kind == "merchant_grant":
            grant = next(g for g in benefits.merchant_grants if g.grant_id == line.source_id)
            assert (line.funder, line.funder_id) == ("merchant", grant.merchant_id)


@settings(max_examples=300, deadline=None)
@given(tariffs(), entries, stays, stays, benefit_sets)
def test_fee_is_monotone_in_the_stay(tariff, entry, stay, more, benefits):
    shorter = fee(tariff, entry, entry + stay, benefits)
    longer = fee(tariff, entry, entry + stay + more, benefits)
    assert longer.gross_fen >= shorter.gross_fen
    assert longer.net_fen >= shorter.net_fen


@settings(max_examples=300, deadline=None)
@given(tariffs(), entries, stays)
def test_segments_tile_the_chargeable_time_and_respect_every_cap(tariff, entry, stay):
    result = fee(tariff, entry, entry + stay)
    assert sum(s.amount_fen for s in result.segments) == result.gross_fen
    assert sum(s.units for s in result.segments) == result.units
    if result.segments:
        assert result.segments[0].starts_at == result.charged_from
        assert result.segments[-1].ends_at == entry + result.stay_minutes * MINUTE
        for a, b in zip(result.segments, result.segments[1:], strict=False):
            assert a.ends_at == b.starts_at
    per_band, per_day = {}, {}
    for s in result.segments:
        assert s.amount_fen == s.amount_before_cap_fen - s.period_capped_fen - s.daily_capped_fen
        assert s.period_capped_fen >= 0 and s.daily_capped_fen >= 0
        assert s.amount_before_cap_fen == s.units * s.unit_price_fen
        rates = tariff.rates_on(s.band_date)
        assert s.period_cap_fen == (rates.night if s.band is Band.NIGHT else rates.day).cap_fen
        per_band[(s.band, s.band_date)] = per_band.get((s.band, s.band_date), 0) + s.amount_fen
        if tariff.cap_mode is CapMode.CALENDAR_DAY:
            day = s.starts_at.astimezone(SH).date()
            key, cap = day, tariff.rates_on(day).daily_cap_fen
        else:
            window = (s.starts_at - entry) // DAY
            key, cap = window, tariff.rates_on((entry + window * DAY).astimezone(SH).date()).daily_cap_fen
        assert s.daily_cap_fen == cap
        per_day[key] = per_day.get(key, 0) + s.amount_fen
        if cap is not None:
            assert per_day[key] <= cap
    for (band, band_date), amount in per_band.items():
        rates = tariff.rates_on(band_date)
        cap = (rates.night if band is Band.NIGHT else rates.day).cap_fen
        assert cap is None or amount <= cap


@settings(max_examples=300, deadline=None)
@given(tariffs(holidays=False), entries, stays)
def test_a_stay_never_costs_more_than_the_daily_cap_per_day_it_touches(tariff, entry, stay):
    cap = tariff.rates.daily_cap_fen
    assume(cap is not None)
    result = fee(tariff, entry, entry + stay)
    if result.is_free_stay:
        assert result.gross_fen == 0
        return
    if tariff.cap_mode is CapMode.CALENDAR_DAY:
        days = (result.exit_at.date() - result.charged_from.date()).days + 1
    else:
        days = max(1, math.ceil((entry + stay - entry) / DAY))
    assert result.gross_fen <= cap * days


@settings(max_examples=300, deadline=None)
@given(tariffs(), entries, stays, benefit_sets, st.data())
def test_adding_any_benefit_never_increases_the_fee(tariff, entry, stay, benefits, data):
    extra = data.draw(
        st.one_of(
            st.builds(lambda h: Benefits(tier_hours=min(benefits.tier_hours + h, 744)), st.integers(1, 5)).map(
                lambda b: b.tier_hours
            ),
            grants,
            coupons,
            st.tuples(st.integers(0, 60000), st.integers(1, 4)),
        )
    )
    if isinstance(extra, int):
        more = Benefits(**{**_fields(benefits), "tier_hours": extra})
    elif isinstance(extra, MerchantGrant):
        assume(extra.grant_id not in {g.grant_id for g in benefits.merchant_grants})
        more = Benefits(**{**_fields(benefits), "merchant_grants": (*benefits.merchant_grants, extra)})
    elif isinstance(extra, ParkingCoupon):
        assume(extra.coupon_id not in {c.coupon_id for c in benefits.coupons})
        more = Benefits(**{**_fields(benefits), "coupons": (*benefits.coupons, extra)})
    else:
        more = Benefits(**{**_fields(benefits), "spend_steps": (*benefits.spend_steps, extra)})
        assume(_best_step_hours(more) >= _best_step_hours(benefits))  # a higher threshold may give fewer hours
    without = fee(tariff, entry, entry + stay, benefits)
    with_more = fee(tariff, entry, entry + stay, more)
    nothing = fee(tariff, entry, entry + stay)
    assert with_more.net_fen <= without.net_fen <= nothing.net_fen == nothing.gross_fen


def _fields(benefits):
    return {
        "tier_hours": benefits.tier_hours,
        "spend_today_fen": benefits.spend_today_fen,
        "spend_steps": benefits.spend_steps,
        "merchant_grants": benefits.merchant_grants,
        "coupons": benefits.coupons,
    }


def _best_step_hours(benefits):
    reached = [s for s in benefits.spend_steps if s[0] <= benefits.spend_today_fen]
    return max(reached)[1] if reached else 0


@settings(max_examples=200, deadline=None)
@given(tariffs(), entries, stays, benefit_sets)
def test_results_do_not_depend_on_how_the_same_instants_are_written(tariff, entry, stay, benefits):
    exit_ = entry + stay
    local = fee(tariff, entry, exit_, benefits)
    in_utc = fee(tariff, entry.astimezone(UTC), exit_.astimezone(UTC), benefits)
    plus8 = dt.timezone(dt.timedelta(hours=8))
    offset = fee(tariff, entry.astimezone(plus8), exit_.astimezone(plus8), benefits, tz=plus8)
    assert local == in_utc
    assert (offset.gross_fen, offset.net_fen, offset.benefits) == (local.gross_fen, local.net_fen, local.benefits)
    assert [(s.starts_at, s.amount_fen) for s in offset.segments] == [
        (s.starts_at, s.amount_fen) for s in local.segments
    ]


@settings(max_examples=200, deadline=None)
@given(tariffs(), entries, stays, stays, st.integers(0, 30))
def test_extra_time_after_paying_is_the_gross_difference(tariff, entry, paid_after, more, grace):
    paid = entry + paid_after
    exit_ = paid + more
    extra = extra_fee(tariff, entry_at=entry, paid_until=paid, exit_at=exit_, tz=SH, grace_minutes=grace)
    assert extra.amount_fen >= 0
    if exit_ <= paid + grace * MINUTE:
        assert extra.amount_fen == 0
    else:
        assert extra.amount_fen == fee(tariff, entry, exit_).gross_fen - fee(tariff, entry, paid).gross_fen
        assert sum(s.amount_fen for s in extra.segments) == extra.amount_fen


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 100000),
    st.integers(1, 3000),
    st.integers(1, 500),
    st.integers(1, 500),
    st.integers(0, 50000),
    st.integers(0, 100000),
    st.none() | st.integers(0, 50000),
)
def test_a_payment_plan_always_adds_up_to_the_net_fee(net, step, points, fen, balance, wallet, max_points):
    plan = plan_payment(
        net,
        step_fen=step,
        rate=PointsRate(points, fen),
        balance_points=balance,
        wallet_balance_fen=wallet,
        max_points=max_points,
    )
    assert plan.points_fen + plan.wallet_fen + plan.gateway_fen == net
    assert min(plan.points_fen, plan.wallet_fen, plan.gateway_fen) >= 0
    assert plan.points_fen % step == 0
    assert plan.points <= balance and (max_points is None or plan.points <= max_points)
    assert plan.points * fen >= plan.points_fen * points  # points never buy more than the rate
    assert plan.wallet_fen <= wallet
