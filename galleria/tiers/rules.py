"""Pure tier rules: the rolling window, which level an amount qualifies for, and what a review decides.

Semantics (documented for the console and for integrators):

* Qualifying amount: the sum of the member's signed `TierSpend` rows (paid fen, or qualifying points when the
  group qualifies by points) over the rolling window = the 12 months up to and including the mall-local day:
  for day D, the local days after `D − 12 months` up to D (2026-11-22 → 2025-11-23 … 2026-11-22).
* Thresholds compare exact integers with `>=`: 499 999 fen (¥4,999.99) does not reach a 500 000 fen threshold.
* Upgrade is instant: when the amount qualifies for a higher level, the member moves there (straight to the
  highest level reached, skipping intermediate ones) and any grace period ends.
* Falling short starts a grace period: the member keeps the level through `grace_until` (inclusive), which is
  `today + grace_months months − 1 day`. Qualifying again during grace ends it ("requalified").
* After the grace period the member is downgraded one step (`downgrade_one_step`) or straight to the qualifying
  level. If after one step they still fall short, a fresh grace period for the new level starts the same day,
  so a review run twice on one day changes nothing the second time. With `grace_months = 0` the downgrade is
  immediate and goes straight to the qualifying level (one step a day would only cascade).
* A manual override holds the level through `override_until` (inclusive): no grace, no downgrade. Qualifying
  for a level above the overridden one still upgrades (and ends the override). The day after it ends, the
  member moves to the level the amount qualifies for ("override ended"), without a grace period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from .types import Decision, Policy, Rung

JOIN = "join"
UPGRADE = "upgrade"
DOWNGRADE = "downgrade"
GRACE = "grace"
REQUALIFIED = "requalified"
OVERRIDE = "override"
OVERRIDE_END = "override_end"
IMPORT = "import"
MERGE = "merge"

WINDOW_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later (or earlier); the day is clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_days(today: dt.date, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """First and last mall-local day (both inclusive) of the rolling window that ends on `today`."""
    return add_months(today, -months) + dt.timedelta(days=1), today


def grace_end(today: dt.date, grace_months: int) -> dt.date:
    """Last day (inclusive) of a grace period that starts on `today`."""
    return add_months(today, grace_months) - dt.timedelta(days=1)


def sorted_ladder(ladder: Sequence[Rung]) -> list[Rung]:
    if not ladder:
        raise ValueError("empty ladder")
    return sorted(ladder, key=lambda r: r.rank)


def qualifying_level(amount: int, ladder: Sequence[Rung]) -> Rung:
    """The highest level whose threshold `amount` reaches (exact `>=`); the entry level when none is reached."""
    rungs = sorted_ladder(ladder)
    best = rungs[0]
    for rung in rungs:
        if amount >= rung.threshold:
            best = rung
    return best


def next_level(current: Rung, ladder: Sequence[Rung]) -> Rung | None:
    above = [r for r in sorted_ladder(ladder) if r.rank > current.rank]
    return above[0] if above else None


def step_down(current: Rung, ladder: Sequence[Rung]) -> Rung:
    below = [r for r in sorted_ladder(ladder) if r.rank < current.rank]
    return below[-1] if below else current


def evaluate(
    *,
    current_level: Rung,
    qualifying_level: Rung,
    grace_until: dt.date | None,
    override_until: dt.date | None,
    today: dt.date,
    settings: Policy,
    ladder: Sequence[Rung],
) -> Decision:
    """What a review on `today` decides (see the module docstring). `reason=None`: nothing to record."""
    current, target = current_level, qualifying_level
    if override_until is not None:
        if target.rank > current.rank:
            return Decision(target, UPGRADE, None, None)
        if today <= override_until:
            return Decision(current, None, None, override_until)
        return Decision(target, OVERRIDE_END, None, None)
    if target.rank > current.rank:
        return Decision(target, UPGRADE, None)
    if target.rank == current.rank:
        return Decision(current, REQUALIFIED if grace_until is not None else None, None)
    # Falls short of the current level.
    if grace_until is None and settings.grace_months > 0:
        return Decision(current, GRACE, grace_end(today, settings.grace_months))
    if grace_until is not None and today <= grace_until:
        return Decision(current, None, grace_until)
    lower = step_down(current, ladder) if settings.downgrade_one_step else target
    if lower.rank < target.rank:  # never below what the amount qualifies for
        lower = target
    still_short = lower.rank > target.rank
    new_grace = grace_end(today, settings.grace_months) if still_short and settings.grace_months > 0 else None
    if still_short and new_grace is None:
        lower = target  # no grace at all: one step at a time would only cascade on the same day
    return Decision(lower, DOWNGRADE, new_grace)


def is_upgrade(decision: Decision, current: Rung) -> bool:
    return decision.new_level.rank > current.rank


DEFAULT_LADDER: tuple[dict[str, object], ...] = (
    # code, name, rank, threshold in yuan (×100 for fen), multiplier bp, discount bp, parking h, perks
    {"code": "classic", "name": "普卡", "rank": 0, "yuan": 0, "points_multiplier_bp": 10000},
    {
        "code": "silver",
        "name": "银卡",
        "rank": 1,
        "yuan": 5_000,
        "points_multiplier_bp": 12000,
        "discount_bp": 200,
        "free_parking_hours": 2,
    },
    {
        "code": "gold",
        "name": "金卡",
        "rank": 2,
        "yuan": 20_000,
        "points_multiplier_bp": 15000,
        "discount_bp": 500,
        "free_parking_hours": 3,
        "lounge_access": True,
    },
    {
        "code": "black",
        "name": "黑金",
        "rank": 3,
        "yuan": 80_000,
        "points_multiplier_bp": 20000,
        "discount_bp": 800,
        "free_parking_hours": 5,
        "lounge_access": True,
        "priority_registration": True,
        "birthday_gift": "黑金生日礼",
    },
)


def default_threshold(yuan: int, qualify_by: str) -> int:
    """Fen when qualifying by spend; points at the default earn rate (1 point per ¥1) when by points."""
    return yuan if qualify_by == "points" else yuan * 100
