"""Mall-local time. Business dates (member days, daily caps, expiry, the parking day) are computed here only."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from .errors import ValidationError


def zone(tz_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name or settings.GALLERIA_DEFAULT_MALL_TZ)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"Unknown time zone {tz_name!r}", code="time.zone_unknown") from exc


def now() -> dt.datetime:
    return timezone.now()


def local(moment: dt.datetime, tz_name: str | None) -> dt.datetime:
    if timezone.is_naive(moment):
        raise ValueError("naive datetime")
    return moment.astimezone(zone(tz_name))


def local_date(moment: dt.datetime, tz_name: str | None) -> dt.date:
    """The mall-local calendar date of an aware instant."""
    return local(moment, tz_name).date()


def local_day_bounds(day: dt.date, tz_name: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a mall-local day as aware UTC datetimes."""
    tz = zone(tz_name)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def local_month_start(moment: dt.datetime, tz_name: str | None) -> dt.datetime:
    loc = local(moment, tz_name)
    start = dt.datetime.combine(loc.date().replace(day=1), dt.time.min, tzinfo=loc.tzinfo)
    return start.astimezone(dt.UTC)
