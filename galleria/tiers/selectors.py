"""Reads of the tier engine: a member's tier and benefits, progress to the next tier, history, the tier mix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from galleria.core import configcache, sql, timeutil
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.members.selectors import active_member_q, members_active

from . import rules
from . import sql as tiers_sql
from .models import MemberTier, QualifyBy, TierChange, TierChangeReason, TierLevel, TierSettings, TierSpend
from .types import Benefit, Policy, Rung, TierHistoryEntry, TierProgress, TierView

ENTRY = TierView(code="", name="", rank=0, points_multiplier_bp=10000, discount_bp=0, free_parking_hours=0)


def _view(level: TierLevel) -> TierView:
    return TierView(
        code=level.code,
        name=level.name,
        rank=level.rank,
        points_multiplier_bp=level.points_multiplier_bp,
        discount_bp=level.discount_bp,
        free_parking_hours=level.free_parking_hours,
        threshold=level.threshold,
        birthday_gift=level.birthday_gift,
        lounge_access=level.lounge_access,
        priority_registration=level.priority_registration,
    )


def rung(level: TierLevel) -> Rung:
    return Rung(code=level.code, rank=level.rank, threshold=level.threshold)


def tier_view_of(*, level_id: int, mall_group_id: int, token: str | None = None) -> TierView:
    """The benefits view of a level of the group's ladder (from the cached ladder when the token is given)."""
    for level in tier_ladder(mall_group_id=mall_group_id, token=token):
        if level.pk == level_id:
            return _view(level)
    return _view(TierLevel.objects.get(pk=level_id))


def member_tier(*, member_id: int, mall_group_id: int, token: str | None = None) -> TierView:
    """The member's tier, or the group's entry tier when none was assigned yet."""
    # fixed SQL and the cached ladder: this runs on every POS quote and lookup (see galleria/core/sql.py)
    level_id = tiers_sql.member_level_id(member_id)
    if level_id is not None:
        return tier_view_of(level_id=level_id, mall_group_id=mall_group_id, token=token)
    ladder = tier_ladder(mall_group_id=mall_group_id, token=token)
    return _view(ladder[0]) if ladder else ENTRY


def tier_ladder(*, mall_group_id: int, token: str | None = None) -> list[TierLevel]:
    """The ladder, lowest rank first. With the group's config token it comes from the per-process cache."""
    return list(
        configcache.cached(
            "tiers.ladder",
            mall_group_id,
            token,
            lambda: tuple(TierLevel.objects.filter(mall_group_id=mall_group_id).order_by("rank")),
        )
    )


def tier_policy(*, mall_group_id: int, token: str | None = None) -> Policy:
    def load() -> Policy:
        row = TierSettings.objects.filter(mall_group_id=mall_group_id).first()
        if row is None:
            return Policy()
        return Policy(
            qualify_by=row.qualify_by, grace_months=row.grace_months, downgrade_one_step=row.downgrade_one_step
        )

    return configcache.cached("tiers.policy", mall_group_id, token, load)


def group_tz(*, mall_group_id: int, token: str | None = None) -> str | None:
    """The time zone of the group's tier calendar: its first mall's (by id); None = the platform default."""
    return configcache.cached(
        "tiers.tz",
        mall_group_id,
        token,
        lambda: Mall.objects.filter(group_id=mall_group_id).order_by("pk").values_list("timezone", flat=True).first(),
    )


def group_today(*, mall_group_id: int, at: dt.datetime | None = None) -> dt.date:
    return timeutil.local_date(at or timeutil.now(), group_tz(mall_group_id=mall_group_id))


def window_bounds(*, today: dt.date, tz_name: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) instants of the rolling window ending on the mall-local day `today` (inclusive)."""
    first, last = rules.window_days(today)
    return timeutil.local_day_bounds(first, tz_name)[0], timeutil.local_day_bounds(last, tz_name)[1]


def amount_field(qualify_by: str) -> str:
    """The TierSpend column a group qualifies on."""
    return "points" if qualify_by == QualifyBy.POINTS else "amount_fen"


def qualifying_amount(*, member_id: int, today: dt.date, tz_name: str | None, qualify_by: str) -> int:
    """The member's signed qualifying amount over the rolling window ending on `today`."""
    start, end = window_bounds(today=today, tz_name=tz_name)
    # fixed SQL (on every sale of a member below the top tier); the column comes from a closed choice
    return tiers_sql.window_sum(member_id=member_id, column=amount_field(qualify_by), start=start, end=end)


def qualifying_amounts(
    *, member_ids: Iterable[int], today: dt.date, tz_name: str | None, qualify_by: str
) -> dict[int, int]:
    """{member id: qualifying amount} for many members in one query (members without rows are absent)."""
    start, end = window_bounds(today=today, tz_name=tz_name)
    rows = (
        TierSpend.objects.filter(member_id__in=list(member_ids), occurred_at__gte=start, occurred_at__lt=end)
        .values("member_id")
        .annotate(s=Sum(amount_field(qualify_by)))
    )
    return {row["member_id"]: int(row["s"] or 0) for row in rows}


def _benefits_over(nxt: TierView, current: TierView) -> tuple[Benefit, ...]:
    out: list[Benefit] = []
    for key in ("points_multiplier_bp", "discount_bp", "free_parking_hours"):
        value = getattr(nxt, key)
        if value > getattr(current, key):
            out.append(Benefit(key=key, value=value))
    for key in ("lounge_access", "priority_registration"):
        if getattr(nxt, key) and not getattr(current, key):
            out.append(Benefit(key=key, value=True))
    if nxt.birthday_gift and nxt.birthday_gift != current.birthday_gift:
        out.append(Benefit(key="birthday_gift", value=nxt.birthday_gift))
    return tuple(out)


def tier_progress(*, member_id: int, today: dt.date | None = None) -> TierProgress | None:
    """Progress to the next tier and what it brings; None when the member's group has no ladder."""
    member = Member.objects.filter(pk=member_id).only("pk", "mall_group_id").first()
    if member is None:
        return None
    group_id = member.mall_group_id
    ladder = tier_ladder(mall_group_id=group_id)
    if not ladder:
        return None
    tz_name = group_tz(mall_group_id=group_id)
    day = today or timeutil.local_date(timeutil.now(), tz_name)
    policy = tier_policy(mall_group_id=group_id)
    row = MemberTier.objects.select_related("level").filter(member_id=member_id).first()
    current = row.level if row is not None else ladder[0]
    above = [lv for lv in ladder if lv.rank > current.rank]
    nxt = above[0] if above else None
    amount = qualifying_amount(member_id=member_id, today=day, tz_name=tz_name, qualify_by=policy.qualify_by)
    first, last = rules.window_days(day)
    current_view = _view(current)
    next_view = _view(nxt) if nxt is not None else None
    return TierProgress(
        current=current_view,
        next=next_view,
        qualify_by=policy.qualify_by,
        qualifying_amount=amount,
        amount_needed=max(0, nxt.threshold - amount) if nxt is not None else 0,
        amount_to_keep=max(0, current.threshold - amount),
        next_benefits=_benefits_over(next_view, current_view) if next_view is not None else (),
        window_start=first,
        window_end=last,
        grace_until=row.grace_until if row is not None else None,
        override_until=row.override_until if row is not None else None,
    )


def tier_history(*, member_id: int, limit: int = 100) -> list[TierHistoryEntry]:
    """The member's tier changes, newest first, with the reason (code and translated label)."""
    rows = (
        TierChange.objects.filter(member_id=member_id)
        .select_related("from_level", "to_level")
        .order_by("-at", "-pk")[: max(0, min(limit, 1000))]
    )
    labels = dict(TierChangeReason.choices)
    return [
        TierHistoryEntry(
            at=row.at,
            from_code=row.from_level.code if row.from_level else "",
            from_name=row.from_level.name if row.from_level else "",
            to_code=row.to_level.code,
            to_name=row.to_level.name,
            reason=row.reason,
            reason_label=str(labels.get(row.reason, row.reason)),
            note=row.note,
            actor_label=row.actor_label,
        )
        for row in rows
    ]


def tier_mix(*, mall_group_id: int) -> dict[str, int]:
    """{level code: active members at that level}, in ladder order; members without a tier row count as entry."""
    ladder = tier_ladder(mall_group_id=mall_group_id)
    if not ladder:
        return {}
    mix = {level.code: 0 for level in ladder}
    by_level = (
        MemberTier.objects.filter(active_member_q(), member__mall_group_id=mall_group_id)
        .values("level__code")
        .annotate(n=Count("pk"))
    )
    assigned = 0
    for row in by_level:
        mix[row["level__code"]] = mix.get(row["level__code"], 0) + row["n"]
        assigned += row["n"]
    active = members_active(mall_group_id=mall_group_id).count()
    mix[ladder[0].code] += max(0, active - assigned)
    return mix


def rungs(levels: Sequence[TierLevel]) -> list[Rung]:
    return [rung(level) for level in levels]


def tier_level_get(*, level_id: int, mall_group_id: int | None) -> TierLevel:
    """One level of a group's ladder (any group when `mall_group_id` is None); raises TierLevel.DoesNotExist."""
    qs = TierLevel.objects.all()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.get(pk=level_id)


def tier_settings_get(*, mall_group_id: int) -> TierSettings:
    """The group's tier settings row, or the defaults (not written) when none was saved yet."""
    row = TierSettings.objects.filter(mall_group_id=mall_group_id).first()
    return row if row is not None else TierSettings(mall_group_id=mall_group_id)


# ---------------------------------------------------------------- console member list: tier column and filter


def tier_level_options(*, mall_group_id: int | None) -> QuerySet[TierLevel]:
    """The levels a scope may filter its members by: its group's ladder (every group's for a platform admin)."""
    qs = TierLevel.objects.select_related("mall_group").order_by("mall_group_id", "rank")
    return qs if mall_group_id is None else qs.filter(mall_group_id=mall_group_id)


def members_at_tier(members: QuerySet[Member], *, level: TierLevel) -> QuerySet[Member]:
    """The members (of the level's group) at `level`. Members without a tier row are at their group's entry tier
    (as `member_tier` reads them), so the entry level is "no row at a higher level": an anti-join, like the other
    levels' semi-join an index walk (MemberTier.level and the one-row-per-member key)."""
    members = members.filter(mall_group_id=level.mall_group_id)
    rows = MemberTier.objects.filter(member_id=OuterRef("pk"))
    is_entry = not TierLevel.objects.filter(mall_group_id=level.mall_group_id, rank__lt=level.rank).exists()
    if is_entry:
        return members.filter(~Exists(rows.exclude(level_id=level.pk)))
    return members.filter(Exists(rows.filter(level_id=level.pk)))


def member_tier_names(*, members: Iterable[tuple[int, int]]) -> dict[int, str]:
    """{member id: tier name} for (member id, mall group id) pairs — a page of a list — in at most two queries;
    a member without a tier row has its group's entry tier; a group without a ladder gives no name."""
    pairs = dict(members)
    if not pairs:
        return {}
    names = {
        int(member_id): str(name)
        for member_id, name in MemberTier.objects.filter(member_id__in=list(pairs)).values_list(
            "member_id", "level__name"
        )
    }
    missing = {group_id for member_id, group_id in pairs.items() if member_id not in names}
    if missing:
        entry: dict[int, str] = {}
        levels = TierLevel.objects.filter(mall_group_id__in=missing).order_by("mall_group_id", "-rank")
        for group_id, name in levels.values_list("mall_group_id", "name"):
            entry[group_id] = name  # the lowest rank comes last and wins
        for member_id, group_id in pairs.items():
            if member_id not in names and group_id in entry:
                names[member_id] = entry[group_id]
    return names


def segment_members_in_levels(*, level_ids: list[int]) -> sql.Fragment:
    """Members whose current tier is one of these levels: a segment condition (galleria/audience)."""
    return tiers_sql.members_in_levels(level_ids)


def segment_level_mix(*, members: sql.Fragment) -> list[tuple[TierLevel, int]]:
    """(tier level, members) among the members of a segment, by rank."""
    counts = dict(tiers_sql.level_mix(members))
    levels = TierLevel.objects.filter(pk__in=list(counts)).order_by("rank")
    return [(level, counts[level.pk]) for level in levels]


def tier_change_direction(*, tier_change_id: int) -> tuple[int, str] | None:
    """(member, "up" / "down" / "same") of a recorded tier change, by the tiers' ranks; None if there is no such
    change (a journey's tier up / tier down trigger)."""
    change = TierChange.objects.filter(pk=tier_change_id).select_related("from_level", "to_level").first()
    if change is None:
        return None
    before = change.from_level.rank if change.from_level is not None else -1
    after = change.to_level.rank
    return change.member_id, "up" if after > before else "down" if after < before else "same"
