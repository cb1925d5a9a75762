"""Periods of the dashboards (pure): presets in the mall's local calendar and the period a figure is compared with."""

from __future__ import annotations

import datetime as dt

from .types import Period

PRESETS = ("today", "7d", "30d", "90d", "month", "year", "custom")
COMPARISONS = ("previous", "last_year", "none")
MAX_DAYS = 732  # a custom period longer than two years is refused


class PeriodError(ValueError):
    pass


def period_of(preset: str, *, today: dt.date, start: dt.date | None = None, end: dt.date | None = None) -> Period:
    """The days of a preset, ending today (this month / this year: from their first day to today)."""
    if preset == "today":
        return Period(today, today)
    if preset in ("7d", "30d", "90d"):
        n = int(preset[:-1])
        return Period(today - dt.timedelta(days=n - 1), today)
    if preset == "month":
        return Period(today.replace(day=1), today)
    if preset == "year":
        return Period(today.replace(month=1, day=1), today)
    if preset == "custom":
        if start is None or end is None:
            raise PeriodError("analytics.period_incomplete")
        if end < start:
            raise PeriodError("analytics.period_reversed")
        if (end - start).days + 1 > MAX_DAYS:
            raise PeriodError("analytics.period_too_long")
        return Period(start, end)
    raise PeriodError("analytics.period_unknown")


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year - 1, day=28)


def compare_of(period: Period, how: str) -> Period | None:
    """The previous period of the same length (ending the day before), or the same days a year earlier."""
    if how == "none":
        return None
    if how == "previous":
        end = period.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=period.days - 1), end)
    if how == "last_year":
        return Period(_minus_year(period.start), _minus_year(period.end))
    raise PeriodError("analytics.compare_unknown")


def change_bp(now: int | None, before: int | None) -> int | None:
    """Relative change in basis points (+1,250 = +12.5 percent); None when there is nothing to compare with."""
    if now is None or not before:
        return None
    return round((now - before) * 10000 / before)
