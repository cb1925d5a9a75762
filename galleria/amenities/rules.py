"""Member services' pure rules (docs/amenities.md): the rental fee calculator that explains itself, what a deposit
can collect, item-type and schedule checks, and the time slots a weekly schedule makes. No database.

**The fee.** A rental is free for the free period of the member's tier (`free_minutes_by_tier[tier code]`, else
the item's `free_minutes`); `due_at` is its end. Past it, every *started* unit (hour or day) costs
`fee_per_unit_fen`. With hourly units a `daily_cap_fen` (> 0) caps each block of 24 started hours: a member who
keeps an umbrella for three days pays at most three caps. Everything is integer fen; the lines say it in words."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

from galleria.core import timeutil
from galleria.core.money import format_cny

from .types import (
    Access,
    Collection,
    Fee,
    FeeLine,
    FeeUnit,
    ItemIcon,
    ItemTypeIn,
    OfferingIn,
    OfferingKind,
    SlotTimes,
    Tariff,
    WeeklyHours,
)

HOUR_S, DAY_S = 3600, 86400
MAX_FREE_MINUTES = 60 * 24 * 30
MAX_FEN = 100_000_00  # ¥100,000: no deposit or fee of a desk item is larger
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")


def free_minutes_for(tariff: Tariff, *, tier_code: str) -> int:
    """The free period of a member of tier `tier_code` (the item's default when the tier has none of its own)."""
    value = tariff.free_minutes_by_tier.get(tier_code) if tier_code else None
    return int(value) if value is not None else tariff.free_minutes


def due_at(tariff: Tariff, *, lent_at: dt.datetime, tier_code: str) -> dt.datetime:
    return lent_at + dt.timedelta(minutes=free_minutes_for(tariff, tier_code=tier_code))


def _span(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


def fee(tariff: Tariff, *, lent_at: dt.datetime, at: dt.datetime, tier_code: str = "", tier_name: str = "") -> Fee:
    """The overdue fee of an item lent at `lent_at`, returned (or looked at) at `at`, for a member of the tier."""
    free = free_minutes_for(tariff, tier_code=tier_code)
    seconds = max(0, int((at - lent_at).total_seconds()))
    minutes = seconds // 60
    billable_s = max(0, seconds - free * 60)
    lines = [
        FeeLine("lent_for", _("Kept for %(span)s.") % {"span": _span(minutes)}),
        FeeLine(
            "free",
            (_("Free for %(span)s (%(tier)s).") % {"span": _span(free), "tier": tier_name})
            if tier_name
            else (_("Free for %(span)s.") % {"span": _span(free)}),
        ),
    ]
    if billable_s == 0 or tariff.fee_per_unit_fen == 0:
        lines.append(FeeLine("total", _("Nothing to pay."), 0))
        return Fee(0, free, minutes, 0, 0, tuple(lines))
    per = tariff.fee_per_unit_fen
    cap = tariff.daily_cap_fen
    if tariff.fee_unit == FeeUnit.DAY:
        units = -(-billable_s // DAY_S)
        day_fen = min(per, cap) if cap else per
        total = units * day_fen
        lines.append(
            FeeLine(
                "units",
                _("%(n)s started day(s) past the free period × %(per)s = %(fen)s.")
                % {"n": units, "per": format_cny(day_fen), "fen": format_cny(total)},
                total,
            )
        )
    else:
        units = -(-billable_s // HOUR_S)
        full_days, rest = divmod(units, 24)
        uncapped = units * per
        day_fen = min(24 * per, cap) if cap else 24 * per
        total = full_days * day_fen + (min(rest * per, cap) if cap else rest * per)
        lines.append(
            FeeLine(
                "units",
                _("%(n)s started hour(s) past the free period × %(per)s = %(fen)s.")
                % {"n": units, "per": format_cny(per), "fen": format_cny(uncapped)},
                uncapped,
            )
        )
        if total < uncapped:
            lines.append(
                FeeLine(
                    "cap",
                    _("At most %(cap)s per day: %(fen)s less.")
                    % {"cap": format_cny(cap), "fen": format_cny(uncapped - total)},
                    total - uncapped,
                )
            )
    lines.append(FeeLine("total", _("To pay: %(fen)s.") % {"fen": format_cny(total)}, total))
    return Fee(total, free, minutes, billable_s // 60, units, tuple(lines))


def collect(
    *, due_fen: int, deposit_kind: str, deposit_amount: int, points_per_yuan: int, min_points: int, multiple: int
) -> Collection:
    """What of `due_fen` the deposit pays. The deposit is the guarantee: the fee taken never exceeds it (the rest is
    waived and recorded). A points deposit pays in whole redemption units (the group's multiple, worth whole fen,
    at least the minimum), rounded down in the member's favour; a wallet deposit pays exact fen; no deposit pays
    nothing."""
    if due_fen <= 0 or deposit_kind == "none" or deposit_amount <= 0:
        return Collection(0, 0, max(0, due_fen))
    if deposit_kind == "wallet":
        fen = min(due_fen, deposit_amount)
        return Collection(fen, 0, due_fen - fen)
    unit = unit_points(points_per_yuan=points_per_yuan, multiple=multiple)
    wanted = min(due_fen * points_per_yuan // 100, deposit_amount)
    points = wanted // unit * unit
    if points < min_points:
        points = 0
    fen = points * 100 // points_per_yuan
    return Collection(fen, points, due_fen - fen)


def unit_points(*, points_per_yuan: int, multiple: int) -> int:
    """The smallest number of points that is a whole multiple and worth a whole number of fen."""
    worth_fen = points_per_yuan // _gcd(points_per_yuan, 100)  # points worth a whole fen
    step = max(1, multiple)
    return step * worth_fen // _gcd(step, worth_fen)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def item_type_problems(data: ItemTypeIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not CODE_RE.match(data.code or ""):
        errors["code"] = _("Use 1-30 lowercase letters, digits, - or _.")
    if not data.name.strip() or len(data.name) > 40:
        errors["name"] = _("Enter a name of at most 40 characters.")
    if data.icon not in ItemIcon.values:
        errors["icon"] = _("Choose an icon.")
    if data.fee_unit not in FeeUnit.values:
        errors["fee_unit"] = _("Choose hours or days.")
    for name in ("deposit_points", "deposit_fen", "fee_per_unit_fen", "daily_cap_fen", "lost_fee_fen"):
        if not 0 <= getattr(data, name) <= MAX_FEN:
            errors[name] = _("Enter an amount between 0 and 100000 yuan.")
    if not 0 <= data.free_minutes <= MAX_FREE_MINUTES:
        errors["free_minutes"] = _("Enter between 0 and 43200 minutes.")
    for code, minutes in data.free_minutes_by_tier.items():
        if not isinstance(minutes, int) or not 0 <= minutes <= MAX_FREE_MINUTES or not code:
            errors["free_minutes_by_tier"] = _("Each tier takes between 0 and 43200 minutes.")
    return errors


def parse_tier_minutes(text: str) -> dict[str, int] | None:
    """'gold=240, black=1440' → {'gold': 240, 'black': 1440}; None when it does not read."""
    out: dict[str, int] = {}
    for part in re.split(r"[,\n;，]+", text or ""):
        part = part.strip()
        if not part:
            continue
        code, sep, minutes = part.partition("=")
        if not sep or not code.strip() or not minutes.strip().isdigit():
            return None
        out[code.strip()] = int(minutes.strip())
    return out


def tier_minutes_text(value: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))


def offering_problems(data: OfferingIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in OfferingKind.values:
        errors["kind"] = _("Choose a kind of service.")
    if not data.name.strip() or len(data.name) > 60:
        errors["name"] = _("Enter a name of at most 60 characters.")
    if data.access not in Access.values:
        errors["access"] = _("Choose who may book.")
    if data.access == Access.MIN_TIER and data.min_tier_id is None:
        errors["min_tier"] = _("Choose the lowest tier that may book.")
    if not 15 <= data.slot_minutes <= 8 * 60:
        errors["slot_minutes"] = _("A slot lasts between 15 and 480 minutes.")
    return errors


def hours_problems(rows: list[WeeklyHours]) -> dict[str, str]:
    for row in rows:
        if not 0 <= row.weekday <= 6:
            return {"schedule": _("A weekday is 0 (Monday) to 6 (Sunday).")}
        if row.end <= row.start:
            return {"schedule": _("Each row must end after it starts.")}
        if not 1 <= row.capacity <= 500:
            return {"schedule": _("A slot takes between 1 and 500 bookings.")}
    return {}


def slots_for(
    rows: list[WeeklyHours], *, slot_minutes: int, first_day: dt.date, days: int, tz_name: str
) -> list[SlotTimes]:
    """The slots of `days` mall-local days from `first_day`: each schedule row of the weekday cut into slots of
    `slot_minutes` (a remainder shorter than a slot is left out). Aware UTC times, sorted."""
    tz = timeutil.zone(tz_name)
    out: list[SlotTimes] = []
    length = dt.timedelta(minutes=slot_minutes)
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for row in rows:
            if row.weekday != day.weekday():
                continue
            start = dt.datetime.combine(day, row.start, tzinfo=tz)
            end = dt.datetime.combine(day, row.end, tzinfo=tz)
            while start + length <= end:
                out.append(SlotTimes(start.astimezone(dt.UTC), (start + length).astimezone(dt.UTC), row.capacity))
                start += length
    return sorted(out, key=lambda s: s.starts_at)


def booking_price(
    *, access: str, lounge_access: bool, member_rank: int, min_rank: int | None, price_points: int
) -> int | None:
    """The points a member of this tier pays to book (0: free), or None when the member may not book. The lounge
    benefit makes it free for the tiers that have it; the others pay the price, or may not book when it has none."""
    if access == Access.LOUNGE_BENEFIT:
        if lounge_access:
            return 0
        return price_points if price_points > 0 else None
    if access == Access.MIN_TIER and (min_rank is None or member_rank < min_rank):
        return None
    return price_points


def may_book(*, access: str, lounge_access: bool, member_rank: int, min_rank: int | None) -> bool:
    """Whether a member of this tier may book a free offering of this access rule."""
    return (
        booking_price(
            access=access, lounge_access=lounge_access, member_rank=member_rank, min_rank=min_rank, price_points=0
        )
        is not None
    )


def price_problem(price_points: int, *, min_points: int, multiple: int, points_per_yuan: int) -> str:
    """Why a points price cannot go through the checkout under the group's points rules ('' when it can): at least
    the minimum, whole multiples, worth whole fen."""
    if price_points == 0:
        return ""
    if price_points < 0 or price_points > 10_000_000:
        return _("Enter between 0 and 10000000 points.")
    if price_points < min_points:
        return _("The group's points rules take at least %(n)s points at once.") % {"n": min_points}
    if multiple and price_points % multiple:
        return _("The group's points rules take points in whole multiples of %(n)s.") % {"n": multiple}
    if (price_points * 100) % points_per_yuan:
        return _("At %(rate)s points per ¥1 these points are not worth a whole number of fen.") % {
            "rate": points_per_yuan
        }
    return ""
