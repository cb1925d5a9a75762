"""Games' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS (privacy sits below games and cannot import it). Left out: the
pickup code of a gift (a one-time credential: whoever holds it picks the gift up; the export says whether and when
it was picked up), idempotency keys, the desk staff's names and the per-game play counters (derived from the
draws)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import CheckInDay, Draw, StreakReward


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's plays, check-in days and streak rewards: three queries."""
    draws = [
        {
            "game": d.game.title,
            "played_at": _iso(d.created_at),
            "seq": d.seq,
            "client_seed": d.client_seed,
            "number": d.number,
            "prize": d.prize.name if d.prize is not None else "",
            "prize_kind": d.prize.kind if d.prize is not None else "thanks",
            "sold_out": d.sold_out,
            "entry_points": d.entry_points,
            "points_won": d.points,
            "coupon_id": d.coupon_id,
            "picked_up_at": _iso(d.picked_up_at),
        }
        for d in Draw.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("game", "prize")
        .order_by("created_at", "pk")
    ]
    days = [
        {"day": _iso(c.day), "make_up": c.is_makeup, "points_paid": c.points_paid, "at": _iso(c.created_at)}
        for c in CheckInDay.objects.filter(member_id=member_id, mall_group_id=mall_group_id).order_by("day")
    ]
    rewards = [
        {
            "milestone_days": r.milestone,
            "reached_on": _iso(r.reached_on),
            "points": r.points,
            "coupon_id": r.coupon_id,
        }
        for r in StreakReward.objects.filter(member_id=member_id, mall_group_id=mall_group_id).order_by("pk")
    ]
    return {"game_draws": draws, "checkin_days": days, "checkin_streak_rewards": rewards}
