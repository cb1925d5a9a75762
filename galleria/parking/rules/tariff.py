"""Tariff definitions (frozen, validated on construction) and the choice of the tariff in force.

A tariff prices a stay in units of `unit_minutes`, each unit at the rate of the band (day or night) in force when
the unit starts, then applies the band caps and the daily cap in time order. The full rules, with examples, are in
docs/parking.md, section "Tariffs and the fee calculator"; the calculator itself is `fees.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .errors import TariffError

__all__ = [
    "Band",
    "CapMode",
    "FreeMinutesMode",
    "HolidayRule",
    "NightBand",
    "Rate",
    "RateSet",
    "Tariff",
    "tariff_for",
]

MAX_FEN = 10**9  # ¥10 million: bounds every price and cap
MINUTES_PER_DAY = 24 * 60


class FreeMinutesMode(StrEnum):
    """What the free first N minutes (首N分钟免费) mean for a longer stay."""

    CHARGE_FROM_ENTRY = "charge_from_entry"  # a stay ≤ N min is free; a longer one is charged from entry
    DEDUCT = "deduct"  # the first N min of every stay are free; a longer one is charged from entry + N


class CapMode(StrEnum):
    CALENDAR_DAY = "calendar_day"  # mall-local midnight to midnight
    ROLLING_24H = "rolling_24h"  # each 24 h from entry


class Band(StrEnum):
    DAY = "day"
    NIGHT = "night"


def check_fen(value: object, field: str, *, optional: bool = False) -> None:
    """A money amount of a tariff or a benefit: an int (never a bool or a float), 0 ≤ value ≤ MAX_FEN."""
    if value is None and optional:
        return
    if type(value) is not int or not 0 <= value <= MAX_FEN:
        raise TariffError("tariff.amount", f"{field} must be whole fen between 0 and {MAX_FEN}", field=field)


def check_count(value: object, field: str, *, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise TariffError("tariff.count", f"{field} must be an int in [{low}, {high}]", field=field, low=low, high=high)


@dataclass(frozen=True)
class Rate:
    """A unit price, and optionally a cap on what one occurrence of the band costs (e.g. night ¥1/h, cap ¥10)."""

    unit_price_fen: int
    cap_fen: int | None = None

    def __post_init__(self) -> None:
        check_fen(self.unit_price_fen, "unit_price_fen")
        check_fen(self.cap_fen, "cap_fen", optional=True)


@dataclass(frozen=True)
class RateSet:
    """The prices of one kind of date: the day rate, the night rate (iff the tariff has a night band), a daily cap."""

    day: Rate
    night: Rate | None = None
    daily_cap_fen: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.day, Rate) or not (self.night is None or isinstance(self.night, Rate)):
            raise TariffError("tariff.rate", "day and night are Rate values", field="rates")
        check_fen(self.daily_cap_fen, "daily_cap_fen", optional=True)


@dataclass(frozen=True)
class NightBand:
    """Mall-local wall-clock times; `ends <= starts` means the band crosses midnight (20:00–08:00)."""

    starts: dt.time
    ends: dt.time

    def __post_init__(self) -> None:
        for field, value in (("night.starts", self.starts), ("night.ends", self.ends)):
            if not isinstance(value, dt.time) or value.tzinfo is not None or value.second or value.microsecond:
                raise TariffError("tariff.night", "night band times are naive whole minutes", field=field)
        if self.starts == self.ends:
            raise TariffError("tariff.night", "the night band is empty", field="night.ends")

    @property
    def crosses_midnight(self) -> bool:
        return self.ends <= self.starts


@dataclass(frozen=True)
class HolidayRule:
    """Other prices on some dates (listed dates, or weekdays: 0 = Monday … 6 = Sunday)."""

    rates: RateSet
    dates: frozenset[dt.date] = frozenset()
    weekdays: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", frozenset(self.dates))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if any(isinstance(d, dt.datetime) or not isinstance(d, dt.date) for d in self.dates):
            raise TariffError("tariff.holiday", "holiday dates are dates", field="holidays.dates")
        if any(type(w) is not int or not 0 <= w <= 6 for w in self.weekdays):
            raise TariffError("tariff.holiday", "weekdays are 0 (Monday) to 6 (Sunday)", field="holidays.weekdays")
        if not isinstance(self.rates, RateSet):
            raise TariffError("tariff.rate", "a holiday rule has a RateSet", field="holidays.rates")

    def applies(self, day: dt.date) -> bool:
        return day in self.dates or day.weekday() in self.weekdays


@dataclass(frozen=True)
class Tariff:
    """One version of a car park's tariff, in force from `effective_from` (inclusive) to `effective_until`."""

    code: str
    effective_from: dt.datetime
    rates: RateSet
    effective_until: dt.datetime | None = None
    unit_minutes: int = 60
    free_minutes: int = 0
    free_minutes_mode: FreeMinutesMode = FreeMinutesMode.CHARGE_FROM_ENTRY
    night: NightBand | None = None
    cap_mode: CapMode = CapMode.CALENDAR_DAY
    holidays: tuple[HolidayRule, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", tuple(self.holidays))
        if not isinstance(self.code, str) or not 0 < len(self.code) <= 64:
            raise TariffError("tariff.code", "a tariff has a code of 1 to 64 characters", field="code")
        for field, moment in (("effective_from", self.effective_from), ("effective_until", self.effective_until)):
            if moment is not None and (not isinstance(moment, dt.datetime) or moment.utcoffset() is None):
                raise TariffError("tariff.effective", "effective dates are aware datetimes", field=field)
        if self.effective_until is not None and self.effective_until.astimezone(
            dt.UTC
        ) <= self.effective_from.astimezone(dt.UTC):
            raise TariffError("tariff.effective", "effective_until is after effective_from", field="effective_until")
        check_count(self.unit_minutes, "unit_minutes", low=1, high=MINUTES_PER_DAY)
        check_count(self.free_minutes, "free_minutes", low=0, high=MINUTES_PER_DAY)
        object.__setattr__(self, "free_minutes_mode", FreeMinutesMode(self.free_minutes_mode))
        object.__setattr__(self, "cap_mode", CapMode(self.cap_mode))
        if self.night is not None and not isinstance(self.night, NightBand):
            raise TariffError("tariff.night", "night is a NightBand", field="night")
        for rule in self.holidays:
            if not isinstance(rule, HolidayRule):
                raise TariffError("tariff.holiday", "holidays are HolidayRule values", field="holidays")
        for field, rates in (("rates", self.rates), *(("holidays.rates", rule.rates) for rule in self.holidays)):
            if not isinstance(rates, RateSet):
                raise TariffError("tariff.rate", "rates are a RateSet", field=field)
            if (rates.night is None) != (self.night is None):
                raise TariffError("tariff.night", "a night rate goes with a night band", field=field)

    def rates_on(self, day: dt.date) -> RateSet:
        """The prices of a mall-local date: the first holiday rule that applies, else the ordinary rates."""
        for rule in self.holidays:
            if rule.applies(day):
                return rule.rates
        return self.rates

    def is_holiday(self, day: dt.date) -> bool:
        return any(rule.applies(day) for rule in self.holidays)

    @property
    def hour_price_fen(self) -> int:
        """One hour at the ordinary day rate (rounded half up when the unit does not divide an hour)."""
        return (self.rates.day.unit_price_fen * 60 * 2 + self.unit_minutes) // (2 * self.unit_minutes)


def tariff_for(tariffs: Iterable[Tariff], at: dt.datetime) -> Tariff:
    """The tariff in force at `at` (a stay's entry): the latest `effective_from` ≤ at whose period contains `at`.

    Raises `tariff.none_in_force` when none is, `tariff.ambiguous` when two versions start at the same instant.
    """
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        raise TariffError("tariff.effective", "the moment is an aware datetime", field="at")
    at = at.astimezone(dt.UTC)  # compare instants, not wall clocks
    in_force = [t for t in tariffs if t.effective_from <= at and (t.effective_until is None or at < t.effective_until)]
    if not in_force:
        raise TariffError("tariff.none_in_force", "no tariff in force at that moment", at=at.isoformat())
    latest = max(t.effective_from for t in in_force)
    chosen = [t for t in in_force if t.effective_from == latest]
    if len(chosen) > 1:
        raise TariffError("tariff.ambiguous", "two tariff versions start at the same moment", at=at.isoformat())
    return chosen[0]
