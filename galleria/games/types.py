"""Games' enums and the frozen values that cross app boundaries (docs/games.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import pgettext_lazy


class GameKind(models.TextChoices):
    WHEEL = "wheel", pgettext_lazy("game kind", "Lucky wheel")
    SCRATCH = "scratch", pgettext_lazy("game kind", "Scratch card")
    BLIND_BOX = "blind_box", pgettext_lazy("game kind", "Blind box")


class GameStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("game status", "Draft")
    PUBLISHED = "published", pgettext_lazy("game status", "Published")
    ENDED = "ended", pgettext_lazy("game status", "Ended")


class PrizeKind(models.TextChoices):
    POINTS = "points", pgettext_lazy("game prize", "Points")
    COUPON = "coupon", pgettext_lazy("game prize", "Coupon")
    GIFT = "gift", pgettext_lazy("game prize", "Gift (picked up at the desk)")
    PARKING = "parking_hours", pgettext_lazy("game prize", "Parking hours")
    THANKS = "thanks", pgettext_lazy("game prize", "Thanks for playing")


@dataclass(frozen=True)
class GameIn:
    """The console's game form, cleaned."""

    kind: str
    title: str
    description: str
    colour: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    entry_points: int
    free_per_day: int
    max_per_day: int
    max_per_game: int
    chances_per_checkin: int
    spend_fen_per_chance: int


@dataclass(frozen=True)
class PrizeIn:
    kind: str
    name: str
    weight: int
    inventory: int | None
    points: int = 0
    coupon_template_id: int | None = None
    cost_fen: int = 0  # what one costs the mall (expected cost per play, statistics)


@dataclass(frozen=True)
class DrawResult:
    """What a play gave: the draw's id, the prize (None: the drawn prize was sold out: thanks for playing),
    and the numbers a member can check afterwards."""

    draw_id: int
    seq: int
    number: int
    total_weight: int
    prize_id: int | None
    prize_kind: str
    prize_name: str
    drawn_prize_id: int
    sold_out: bool
    slot: int  # the wheel's segment index (of the prize the number landed on)
    pickup_code: str
    coupon_id: int | None
    points: int
    entry_points: int
    created: bool


@dataclass(frozen=True)
class Allowance:
    """A member's plays of a game today: free ones left, whether a paid play is possible, and why not."""

    plays_today: int
    plays_total: int
    free_left: int
    earned_today: int
    paid_left: int | None  # None: no daily or per-game cap on paid plays
    entry_points: int
    blocked: str  # "" or a reason code: not_open / day_limit / game_limit / no_free_plays


@dataclass(frozen=True)
class StreakRuleIn:
    is_active: bool
    reward_7_points: int
    reward_7_template_id: int | None
    reward_30_points: int
    reward_30_template_id: int | None
    makeup_enabled: bool
    makeup_points: int
    makeup_days_back: int
    makeup_per_month: int


@dataclass(frozen=True)
class CheckInResult:
    day: dt.date
    created: bool
    awarded: bool  # the daily behaviour points were credited by this check-in
    points: int  # the daily check-in's behaviour points (0: none, or a make-up)
    streak: int
    rewards: tuple[str, ...]  # "7" / "30" milestones paid by this check-in
