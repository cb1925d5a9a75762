from __future__ import annotations

from dataclasses import dataclass

from .models import MemberTier, TierLevel


@dataclass(frozen=True)
class TierView:
    code: str
    name: str
    rank: int
    points_multiplier_bp: int
    discount_bp: int
    free_parking_hours: int


ENTRY = TierView(code="", name="", rank=0, points_multiplier_bp=10000, discount_bp=0, free_parking_hours=0)


def _view(level: TierLevel) -> TierView:
    return TierView(
        code=level.code,
        name=level.name,
        rank=level.rank,
        points_multiplier_bp=level.points_multiplier_bp,
        discount_bp=level.discount_bp,
        free_parking_hours=level.free_parking_hours,
    )


def member_tier(*, member_id: int, mall_group_id: int) -> TierView:
    """The member's tier, or the group's entry tier when none was assigned yet."""
    row = MemberTier.objects.select_related("level").filter(member_id=member_id).first()
    if row is not None:
        return _view(row.level)
    entry = TierLevel.objects.filter(mall_group_id=mall_group_id).order_by("rank").first()
    return _view(entry) if entry else ENTRY


def tier_ladder(*, mall_group_id: int) -> list[TierLevel]:
    return list(TierLevel.objects.filter(mall_group_id=mall_group_id).order_by("rank"))
