"""The pricing engine behind `fees.py` (internal): a stay cut into pieces of units that share a band and a cap day.

A piece is a run of units that start in one band occurrence and one cap day. Pieces are found by cutting the stay at
every wall-clock boundary (midnight, the night band's ends, in both folds), every UTC-offset change and every rolling
24 h window; units are then priced in time order, each taking what the caps still allow. Because of that order, the
price of the first n units is a prefix sum and does not depend on what follows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .errors import FeeError
from .tariff import Band, CapMode, FreeMinutesMode, Tariff

MAX_STAY_DAYS = 1000  # a longer session is an exception for a person, not a fee
US_PER_MINUTE = 60_000_000
US_PER_DAY = 24 * 60 * US_PER_MINUTE
UTC = dt.UTC


def explanation(**values: int | str) -> Mapping[str, int | str]:
    """Params of an explanation key (read-only)."""
    return MappingProxyType(values)


@dataclass(frozen=True)
class Segment:
    """Consecutive units of one band occurrence within one cap day, with what each cap took off them."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    band: Band
    band_date: dt.date  # the date the band occurrence began on: its rates (holiday or not) apply
    is_holiday: bool
    units: int
    unit_minutes: int
    unit_price_fen: int
    amount_before_cap_fen: int
    period_cap_fen: int | None
    period_capped_fen: int  # taken off by the band occurrence's cap
    daily_cap_fen: int | None
    daily_capped_fen: int  # taken off by the daily (calendar day / 24 h window) cap
    amount_fen: int
    key: str
    params: Mapping[str, int | str]


@dataclass(frozen=True)
class _Piece:
    """Units k0 ≤ k < k1 of a stay, all starting in one band occurrence and one cap day."""

    k0: int
    k1: int
    band: Band
    band_date: dt.date
    is_holiday: bool
    price: int
    period_cap: int | None
    period_room: int | None  # what the band occurrence's cap still allows when the piece starts
    daily_cap: int | None
    daily_room: int | None

    def amount(self, units: int) -> int:
        """Price of the first `units` units of the piece after both caps (time order)."""
        total = units * self.price
        if self.period_room is not None:
            total = min(total, self.period_room)
        if self.daily_room is not None:
            total = min(total, self.daily_room)
        return total

    def amount_after_period_cap(self, units: int) -> int:
        total = units * self.price
        return total if self.period_room is None else min(total, self.period_room)


def _room(cap: int | None, spent: int) -> int | None:
    return None if cap is None else max(0, cap - spent)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Stay:
    tariff: Tariff
    tz: dt.tzinfo
    entry: dt.datetime  # UTC
    stay_minutes: int
    charge_start_minutes: int  # from entry
    chargeable_minutes: int

    @property
    def is_free(self) -> bool:
        return self.stay_minutes <= self.tariff.free_minutes

    def units_for(self, chargeable_minutes: int) -> int:
        return _ceil_div(max(0, chargeable_minutes), self.tariff.unit_minutes)

    def at(self, minutes: int) -> dt.datetime:
        return (self.entry + dt.timedelta(minutes=minutes)).astimezone(self.tz)

    def plan(self) -> Plan:
        tariff, tz = self.tariff, self.tz
        n_units = self.units_for(self.chargeable_minutes)
        if n_units == 0:
            return Plan([])
        unit_us = tariff.unit_minutes * US_PER_MINUTE
        start_us = self.charge_start_minutes * US_PER_MINUTE
        end_us = start_us + n_units * unit_us  # every unit starts before this
        cuts = self._cuts(start_us, end_us)
        ordered = sorted(c for c in cuts if start_us <= c <= end_us)

        pieces: list[_Piece] = []
        period_spent: dict[tuple[Band, dt.date], int] = {}
        daily_spent: dict[object, int] = {}
        for a, b in itertools.pairwise(ordered):
            k0 = _ceil_div(a - start_us, unit_us)
            k1 = min(_ceil_div(b - start_us, unit_us), n_units)
            if k0 >= k1:
                continue
            local = (self.entry + dt.timedelta(microseconds=a)).astimezone(tz)
            band, band_date = self._band(local)
            rates = tariff.rates_on(band_date)
            rate = rates.night if band is Band.NIGHT and rates.night is not None else rates.day
            bucket: object
            if tariff.cap_mode is CapMode.ROLLING_24H:
                window = a // US_PER_DAY
                bucket = window
                window_day = (self.entry + dt.timedelta(days=window)).astimezone(tz).date()
                daily_cap = tariff.rates_on(window_day).daily_cap_fen
            else:
                bucket = local.date()
                daily_cap = tariff.rates_on(local.date()).daily_cap_fen
            occurrence = (band, band_date)
            piece = _Piece(
                k0=k0,
                k1=k1,
                band=band,
                band_date=band_date,
                is_holiday=tariff.is_holiday(band_date),
                price=rate.unit_price_fen,
                period_cap=rate.cap_fen,
                period_room=_room(rate.cap_fen, period_spent.get(occurrence, 0)),
                daily_cap=daily_cap,
                daily_room=_room(daily_cap, daily_spent.get(bucket, 0)),
            )
            charged = piece.amount(k1 - k0)
            period_spent[occurrence] = period_spent.get(occurrence, 0) + charged
            daily_spent[bucket] = daily_spent.get(bucket, 0) + charged
            pieces.append(piece)
        return Plan(pieces)

    def _cuts(self, start_us: int, end_us: int) -> set[int]:
        """Offsets (µs from entry) where the band, the date or the cap day may change.

        Local wall times (midnight, the night band's ends) in both folds, plus every UTC-offset change, so that
        between two cuts the wall clock runs without jumps and the band of a piece is the band of its start.
        """
        tariff, tz = self.tariff, self.tz
        cuts = {start_us, end_us}

        def offset_of(moment: dt.datetime) -> int:
            return (moment - self.entry) // dt.timedelta(microseconds=1)

        walls = [dt.time(0)]
        if tariff.night is not None:
            walls += [tariff.night.starts, tariff.night.ends]
        day = (self.entry + dt.timedelta(microseconds=start_us)).astimezone(tz).date() - dt.timedelta(days=1)
        last_day = (self.entry + dt.timedelta(microseconds=end_us)).astimezone(tz).date() + dt.timedelta(days=1)
        previous: dt.datetime | None = None
        while day <= last_day:
            for wall in walls:
                for fold in (0, 1):
                    local = dt.datetime.combine(day, wall, tzinfo=tz).replace(fold=fold)
                    cuts.add(offset_of(local.astimezone(UTC)))
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)
            if previous is not None and previous.astimezone(tz).utcoffset() != midnight.astimezone(tz).utcoffset():
                cuts.add(offset_of(_offset_change(previous, midnight, tz)))
            previous = midnight
            day += dt.timedelta(days=1)
        if tariff.cap_mode is CapMode.ROLLING_24H:
            cuts.update(range(US_PER_DAY, end_us, US_PER_DAY))
        return cuts

    def _band(self, local: dt.datetime) -> tuple[Band, dt.date]:
        night = self.tariff.night
        day, wall = local.date(), local.time().replace(tzinfo=None)
        if night is None:
            return Band.DAY, day
        if not night.crosses_midnight:
            return (Band.NIGHT if night.starts <= wall < night.ends else Band.DAY), day
        if wall >= night.starts:
            return Band.NIGHT, day
        if wall < night.ends:
            return Band.NIGHT, day - dt.timedelta(days=1)
        return Band.DAY, day

    def segments(self, plan: Plan, lo: int, hi: int) -> tuple[Segment, ...]:
        """The segments of units lo ≤ k < hi (pieces from `plan()`)."""
        unit = self.tariff.unit_minutes
        stay_end = self.at(self.stay_minutes)
        out = []
        for p in plan.pieces:
            a, b = max(p.k0, lo), min(p.k1, hi)
            if a >= b:
                continue
            before = (b - a) * p.price
            after_period = p.amount_after_period_cap(b - p.k0) - p.amount_after_period_cap(a - p.k0)
            amount = p.amount(b - p.k0) - p.amount(a - p.k0)
            key = f"parking.segment.{'holiday_' if p.is_holiday else ''}{p.band.value}"
            out.append(
                Segment(
                    starts_at=self.at(self.charge_start_minutes + a * unit),
                    ends_at=min(self.at(self.charge_start_minutes + b * unit), stay_end),
                    band=p.band,
                    band_date=p.band_date,
                    is_holiday=p.is_holiday,
                    units=b - a,
                    unit_minutes=unit,
                    unit_price_fen=p.price,
                    amount_before_cap_fen=before,
                    period_cap_fen=p.period_cap,
                    period_capped_fen=before - after_period,
                    daily_cap_fen=p.daily_cap,
                    daily_capped_fen=after_period - amount,
                    amount_fen=amount,
                    key=key,
                    params=explanation(
                        units=b - a,
                        unit_minutes=unit,
                        unit_price_fen=p.price,
                        amount_fen=amount,
                        band_date=p.band_date.isoformat(),
                    ),
                )
            )
        return tuple(out)


def _offset_change(low: dt.datetime, high: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The first whole second in (low, high] with high's UTC offset (one change between them)."""
    target = high.astimezone(tz).utcoffset()
    lo, hi = 0, int((high - low).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (low + dt.timedelta(seconds=mid)).astimezone(tz).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return low + dt.timedelta(seconds=hi)


class Plan:
    """The pieces of a stay with running totals: the price of any prefix of units in O(log pieces)."""

    def __init__(self, pieces: list[_Piece]) -> None:
        self.pieces = pieces
        self._starts = [p.k0 for p in pieces]  # units are consecutive: piece i holds k0 ≤ k < k1 = next k0
        self._before = list(itertools.accumulate((p.amount(p.k1 - p.k0) for p in pieces), initial=0))

    def fee(self, n_units: int) -> int:
        """The price of the first `n_units` units (caps in time order make it independent of later units)."""
        i = bisect.bisect_left(self._starts, n_units) - 1  # the last piece that starts before unit n
        if i < 0:
            return 0
        piece = self.pieces[i]
        return self._before[i] + piece.amount(min(piece.k1, n_units) - piece.k0)


def check_moment(value: object, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise FeeError("parking.naive_datetime", f"{field} must be an aware datetime", field=field)
    return value


def make_stay(tariff: Tariff, entry_at: dt.datetime, exit_at: dt.datetime, tz: dt.tzinfo) -> Stay:
    if not isinstance(tariff, Tariff):
        raise FeeError("parking.tariff", "a Tariff is required", field="tariff")
    if not isinstance(tz, dt.tzinfo):
        raise FeeError("parking.time_zone", "the mall's time zone is required", field="tz")
    # Instants in UTC: Python compares and subtracts two datetimes of one zone by their wall clocks.
    entry_at = check_moment(entry_at, "entry_at").astimezone(UTC)
    exit_at = check_moment(exit_at, "exit_at").astimezone(UTC)
    if exit_at < entry_at:
        raise FeeError("parking.exit_before_entry", "the exit is before the entry", field="exit_at")
    stay_minutes = (exit_at - entry_at) // dt.timedelta(minutes=1)
    if stay_minutes > MAX_STAY_DAYS * 24 * 60:
        raise FeeError("parking.stay_too_long", "the stay is too long to price", max_days=MAX_STAY_DAYS)
    free = tariff.free_minutes
    if stay_minutes <= free:
        start, chargeable = 0, 0
    elif tariff.free_minutes_mode is FreeMinutesMode.DEDUCT:
        start, chargeable = free, stay_minutes - free
    else:
        start, chargeable = 0, stay_minutes
    return Stay(tariff, tz, entry_at, stay_minutes, start, chargeable)
