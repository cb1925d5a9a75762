"""Games' pure rules (no database): the provably fair draw, odds, allowances and streaks (docs/games.md).

**The draw.** At publish a game gets a random 32-byte `server_seed`; its SHA-256 (`seed_hash`) is shown on the
game page from then on. A member's n-th play of the game (`seq`, counted per member from 1) gets

    number = int(HMAC-SHA256(key=server_seed, msg=f"{game_id}:{member_id}:{seq}:{client_seed}"), 16) % total_weight

(`server_seed` as the UTF-8 bytes of its hex text; the HMAC as its hex digest read as one 256-bit integer; the
modulo bias is below 2⁻²²⁰ for any total weight a game may have.) The prizes, in their published order, cover
consecutive ranges [0, w₁), [w₁, w₁+w₂), …; the number lands in one of them. When that prize has run out, the member
gets nothing ("thanks for playing") and the draw says so (`sold_out`): the number is never drawn again, so a sold-out
prize cannot move the odds of the others. After the game ends the seed is revealed; anyone can then check that
SHA-256(seed) is the published hash and recompute every draw (`galleria games_verify <game>`, or the snippet in
docs/games.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .types import PrizeKind

MAX_TOTAL_WEIGHT = 1_000_000_000
PICKUP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud at the desk
STREAK_MILESTONES = (7, 30)


def new_server_seed() -> str:
    return secrets.token_hex(32)


def seed_commitment(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode()).hexdigest()


def draw_message(*, game_id: int, member_id: int, seq: int, client_seed: str = "") -> str:
    return f"{game_id}:{member_id}:{seq}:{client_seed}"


def draw_number(
    *, server_seed: str, game_id: int, member_id: int, seq: int, client_seed: str, total_weight: int
) -> int:
    """The play's number, uniform in [0, total_weight)."""
    if total_weight <= 0:
        raise ValueError("total_weight must be positive")
    message = draw_message(game_id=game_id, member_id=member_id, seq=seq, client_seed=client_seed)
    digest = hmac.new(server_seed.encode(), message.encode(), hashlib.sha256).hexdigest()
    return int(digest, 16) % total_weight


@dataclass(frozen=True)
class Slot:
    prize_id: int
    weight: int


def pick(slots: Sequence[Slot], number: int) -> int:
    """The index of the slot whose range holds `number` (slots in published order)."""
    upper = 0
    for index, slot in enumerate(slots):
        upper += slot.weight
        if number < upper:
            return index
    raise ValueError("number outside the slots' total weight")


def percent_text(weight: int, total: int) -> str:
    """Odds as a percentage with two decimals, rounded half up in integers (no floats)."""
    if total <= 0:
        return "0.00"
    hundredths = (weight * 10000 * 2 + total) // (total * 2)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def expected_cost_fen(costs: Sequence[tuple[int, int]], total: int) -> int:
    """Expected cost of one play in fen: Σ weight × cost / total, rounded half up. `costs`: (weight, cost_fen)."""
    if total <= 0:
        return 0
    numerator = sum(w * c for w, c in costs)
    return (numerator * 2 + total) // (total * 2)


def pickup_code() -> str:
    return "".join(secrets.choice(PICKUP_ALPHABET) for _ in range(8))


def prize_problems(
    *, kind: str, name: str, weight: int, inventory: int | None, points: int, coupon_template_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Enter a name.")
    if not 0 <= weight <= MAX_TOTAL_WEIGHT:
        errors["weight"] = _("Enter a weight between 0 and 1,000,000,000.")
    if inventory is not None and inventory < 0:
        errors["inventory"] = _("Enter 0 or more, or leave empty for unlimited.")
    if kind == PrizeKind.POINTS and not 0 < points <= 1_000_000:
        errors["points"] = _("Enter the points, between 1 and 1,000,000.")
    if kind in (PrizeKind.COUPON, PrizeKind.PARKING) and coupon_template_id is None:
        errors["coupon_template"] = _("Choose a coupon.")
    return errors


# ------------------------------------------------------------------------------------------------ allowances


def free_plays(
    *, free_per_day: int, chances_per_checkin: int, checked_in: bool, spend_fen_per_chance: int, spent_fen: int
) -> tuple[int, int]:
    """(free plays today, of which earned): the daily free plays, plus N for checking in today, plus one per
    `spend_fen_per_chance` spent in the mall today (0: off)."""
    earned = chances_per_checkin if checked_in else 0
    if spend_fen_per_chance > 0 and spent_fen > 0:
        earned += spent_fen // spend_fen_per_chance
    return free_per_day + earned, earned


# ------------------------------------------------------------------------------------------------ streaks


def run_around(days: set[dt.date], day: dt.date) -> tuple[dt.date, dt.date]:
    """The unbroken run of checked days that holds `day` (which must be in `days`): (first, last)."""
    first = last = day
    while first - dt.timedelta(days=1) in days:
        first -= dt.timedelta(days=1)
    while last + dt.timedelta(days=1) in days:
        last += dt.timedelta(days=1)
    return first, last


def current_streak(days: set[dt.date], today: dt.date) -> int:
    """Days in the run ending today, or yesterday when today is not checked yet (the streak is still alive)."""
    end = today if today in days else today - dt.timedelta(days=1)
    if end not in days:
        return 0
    first, _last = run_around(days, end)
    return (end - first).days + 1


def milestones_due(
    *, run: tuple[dt.date, dt.date], paid_on: Sequence[tuple[int, dt.date]]
) -> list[tuple[int, dt.date]]:
    """Milestones a run has reached and not been paid for: (milestone, the day it was reached). Each milestone is
    paid once per unbroken run: a reward already paid on a day inside the run (before a make-up joined two runs)
    counts for the joined run, so joining never pays twice."""
    first, last = run
    length = (last - first).days + 1
    due = []
    for milestone in STREAK_MILESTONES:
        if length < milestone:
            continue
        if any(m == milestone and first <= on <= last for m, on in paid_on):
            continue
        due.append((milestone, first + dt.timedelta(days=milestone - 1)))
    return due


def makeup_problem(
    *, day: dt.date, today: dt.date, days_back: int, done_this_month: int, per_month: int, checked: bool
) -> str:
    """'' or why a make-up check-in for `day` is refused (a code)."""
    if day >= today:
        return "not_past"
    if (today - day).days > days_back:
        return "too_old"
    if checked:
        return "already"
    if done_this_month >= per_month:
        return "month_limit"
    return ""
