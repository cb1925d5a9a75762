"""Frozen values that cross the tiers app's boundary (read by sales, points, parking, the interfaces)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rung:
    """One level of a ladder as the pure rules see it. `threshold` is fen or points (see `Policy.qualify_by`)."""

    code: str
    rank: int
    threshold: int


@dataclass(frozen=True)
class Policy:
    """A group's tier settings (the defaults apply when the group saved none)."""

    qualify_by: str = "spend"  # "spend" (fen) | "points"
    grace_months: int = 3
    downgrade_one_step: bool = True


@dataclass(frozen=True)
class Decision:
    """What `rules.evaluate` wants: the level to hold, why (None = nothing to record) and the new dates."""

    new_level: Rung
    reason: str | None
    grace_until: dt.date | None
    override_until: dt.date | None = None


@dataclass(frozen=True)
class TierView:
    code: str
    name: str
    rank: int
    points_multiplier_bp: int
    discount_bp: int
    free_parking_hours: int
    threshold: int = 0
    birthday_gift: str = ""
    lounge_access: bool = False
    priority_registration: bool = False


@dataclass(frozen=True)
class Benefit:
    """One thing a level brings compared with another: `key` is stable, `value` is the level's value."""

    key: str  # "points_multiplier_bp" | "discount_bp" | "free_parking_hours" | "lounge_access" | …
    value: int | bool | str


@dataclass(frozen=True)
class TierProgress:
    """Progress towards the next tier: where the member is, what is next, how far, and what it brings."""

    current: TierView
    next: TierView | None  # None at the top of the ladder
    qualify_by: str
    qualifying_amount: int  # fen or points in the rolling window
    amount_needed: int  # to reach `next` (0 at the top)
    amount_to_keep: int  # still missing to keep `current` at the next review (0 when it is kept)
    next_benefits: tuple[Benefit, ...]  # what `next` improves over `current`
    window_start: dt.date  # first mall-local day of the rolling window
    window_end: dt.date  # last mall-local day (today)
    grace_until: dt.date | None
    override_until: dt.date | None


@dataclass(frozen=True)
class TierHistoryEntry:
    at: dt.datetime
    from_code: str
    from_name: str
    to_code: str
    to_name: str
    reason: str
    reason_label: str
    note: str
    actor_label: str


@dataclass(frozen=True)
class ReevaluateReport:
    mall_group_id: int
    run_on: dt.date
    members_seen: int = 0
    created: int = 0  # members who got their first tier row (entry tier)
    changes: dict[str, int] = field(default_factory=dict)  # reason → count of TierChange rows written
    resumed_after: int = 0  # the member id the run resumed after (0 = from the start)
    already_done: bool = False  # the group's run for this day had already finished
