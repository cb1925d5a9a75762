"""Reads of the audience area: segment counts and members (compiled to one SQL statement, docs/marketing.md), the
member 360 view's panel, the RFM and lifecycle distributions, personas, tags and settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import QuerySet

from galleria.core import sql, timeutil
from galleria.coupons import selectors as coupon_selectors
from galleria.events import selectors as event_selectors
from galleria.ledger import selectors as ledger_selectors
from galleria.members import selectors as member_selectors
from galleria.members.types import JoinChannel
from galleria.merchants.selectors import merchant_categories
from galleria.parking import selectors as parking_selectors
from galleria.sales import selectors as sales_selectors
from galleria.tiers import selectors as tier_selectors

from . import rules
from . import sql as audience_sql
from .exceptions import SegmentInvalidError, SegmentNotFoundError, TagNotFoundError
from .models import AudienceSettings, MemberProfile, MemberTag, RfmCuts, Segment, Tag, TagGroup
from .types import LIFECYCLE_NAMES, RFM_NAMES, MemberAudience


def choices_for(*, mall_group_id: int) -> dict[str, Sequence[str]]:
    """What the rules accept for the group's choice fields."""
    return {"category": tuple(c for c, _ in merchant_categories()), "join_channel": tuple(JoinChannel.values)}


def segment_validate(definition: Any, *, mall_group_id: int) -> dict[str, Any]:
    """The canonical definition, or SegmentInvalidError with the reason and the path of the condition."""
    try:
        return rules.validate_segment(definition, choices=choices_for(mall_group_id=mall_group_id))
    except rules.SegmentError as e:
        raise SegmentInvalidError(reason=e.code, path=e.path) from None


def settings_for(*, mall_group_id: int) -> AudienceSettings:
    found = AudienceSettings.objects.filter(mall_group_id=mall_group_id).first()
    return found or AudienceSettings(mall_group_id=mall_group_id)


def lifecycle_days(*, mall_group_id: int) -> rules.LifecycleDays:
    s = settings_for(mall_group_id=mall_group_id)
    return rules.LifecycleDays(new=s.new_days, active=s.active_days, at_risk=s.at_risk_days, lost=s.lost_days)


def group_tz(*, mall_group_id: int) -> str:
    return tier_selectors.group_tz(mall_group_id=mall_group_id) or "Asia/Shanghai"


def _fragment_for(mall_group_id: int, now: dt.datetime) -> audience_sql.FragmentFor:
    def fragment(cond: Mapping[str, Any], low: int | None, high: int | None) -> sql.Fragment:
        field = cond["field"]
        if field == "tier":
            return tier_selectors.segment_members_in_levels(level_ids=list(cond["in"]))
        if field == "points":
            return ledger_selectors.segment_members_by_balance(balance="points", low=low, high=high)
        if field == "wallet":
            return ledger_selectors.segment_members_by_balance(balance="wallet", low=low, high=high)
        if field in ("spend", "visits"):
            return sales_selectors.segment_members_by_window(
                mall_group_id=mall_group_id,
                since=now - dt.timedelta(days=cond["days"]),
                measure=field,
                merchant_ids=cond.get("merchants", ()),
                categories=cond.get("categories", ()),
                low=low,
                high=high,
            )
        if field == "coupon":
            return coupon_selectors.segment_members_with_coupons(
                template_ids=list(cond["templates"]), state=cond["state"], now=now
            )
        if field == "parking":
            return parking_selectors.segment_members_with_stays(
                since=now - dt.timedelta(days=cond["days"]), at_least=cond["min"]
            )
        if field == "plate":
            return member_selectors.segment_plate_members(verified=cond["verified"])
        if field == "event":
            return event_selectors.segment_members_by_registration(
                event_ids=list(cond["events"]), state=cond["state"], now=now
            )
        if field == "consent":
            return member_selectors.segment_consent_granted(channel=cond["channel"])
        raise ValueError(f"no fragment for {field}")  # pragma: no cover - rules.FIELDS lists them all

    return fragment


def _where(definition: Mapping[str, Any], *, mall_group_id: int, now: dt.datetime) -> tuple[str, list[Any]]:
    today = timeutil.local_date(now, group_tz(mall_group_id=mall_group_id))
    return audience_sql.segment_where(definition, now=now, today=today, fragment_for=_fragment_for(mall_group_id, now))


def segment_count(*, mall_group_id: int, definition: Any, now: dt.datetime | None = None) -> int:
    """How many active members match the definition now (validated first): one SQL statement."""
    canonical = segment_validate(definition, mall_group_id=mall_group_id)
    where = _where(canonical, mall_group_id=mall_group_id, now=now or timeutil.now())
    return audience_sql.segment_count(
        mall_group_id=mall_group_id, active_status=member_selectors.ACTIVE_STATUS, where=where
    )


def segment_member_ids(
    *, mall_group_id: int, definition: Any, after_id: int = 0, limit: int = 1000, now: dt.datetime | None = None
) -> list[int]:
    """A page of the segment's member ids (ascending, above `after_id`)."""
    canonical = segment_validate(definition, mall_group_id=mall_group_id)
    where = _where(canonical, mall_group_id=mall_group_id, now=now or timeutil.now())
    return audience_sql.segment_member_ids(
        mall_group_id=mall_group_id,
        active_status=member_selectors.ACTIVE_STATUS,
        where=where,
        after_id=after_id,
        limit=limit,
    )


def segment_all_member_ids(*, mall_group_id: int, definition: Any, cap: int) -> list[int]:
    """Every member id of the segment (a snapshot for a grant), at most `cap` + 1 (the caller refuses more)."""
    now = timeutil.now()
    out: list[int] = []
    after = 0
    while len(out) <= cap:
        page = segment_member_ids(
            mall_group_id=mall_group_id, definition=definition, after_id=after, limit=5000, now=now
        )
        if not page:
            break
        out += page
        after = page[-1]
    return out[: cap + 1]


def segment_list(*, mall_group_id: int, archived: bool = False) -> QuerySet[Segment]:
    return Segment.objects.filter(mall_group_id=mall_group_id, is_archived=archived).order_by("name")


def segment_get(*, mall_group_id: int, segment_id: int) -> Segment:
    found = Segment.objects.filter(mall_group_id=mall_group_id, pk=segment_id).first()
    if found is None:
        raise SegmentNotFoundError()
    return found


def tag_list(*, mall_group_id: int, kind: str | None = None) -> QuerySet[Tag]:
    qs = Tag.objects.filter(mall_group_id=mall_group_id, is_archived=False).select_related("group")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "group__sort_order", "group__name", "name")


def tag_get(*, mall_group_id: int, tag_id: int) -> Tag:
    found = Tag.objects.filter(mall_group_id=mall_group_id, pk=tag_id).first()
    if found is None:
        raise TagNotFoundError()
    return found


def tag_groups(*, mall_group_id: int) -> QuerySet[TagGroup]:
    return TagGroup.objects.filter(mall_group_id=mall_group_id).order_by("sort_order", "name")


def member_audience(*, member_id: int) -> MemberAudience:
    """The member 360 view's panel: profile, RFM segment, lifecycle stage and tags."""
    profile = MemberProfile.objects.filter(member_id=member_id).first()
    tags = list(
        Tag.objects.filter(pk__in=MemberTag.objects.filter(member_id=member_id).values("tag_id"), is_archived=False)
        .order_by("kind", "name")
        .values_list("pk", "name", "kind")
    )
    return MemberAudience(
        profile=profile,
        rfm_name=str(RFM_NAMES.get(profile.rfm, "")) if profile else "",
        lifecycle_name=str(LIFECYCLE_NAMES.get(profile.lifecycle, "")) if profile else "",
        tags=[(int(i), str(n), str(k)) for i, n, k in tags],
    )


def rfm_distribution(*, mall_group_id: int) -> list[dict[str, Any]]:
    """The eight segments in their fixed order: members, share, spend and purchases in the window."""
    found = {
        code: (n, fen, sales) for code, n, fen, sales in audience_sql.rfm_distribution(mall_group_id=mall_group_id)
    }
    total = sum(n for n, _, _ in found.values())
    out = []
    for code, recent, frequent, much in rules.RFM_SEGMENTS:
        n, fen, sales = found.get(code, (0, 0, 0))
        out.append(
            {
                "code": code,
                "name": RFM_NAMES[code],
                "recent": recent,
                "frequent": frequent,
                "much": much,
                "members": n,
                "share_bp": n * 10000 // total if total else 0,
                "spend_fen": fen,
                "sales": sales,
                "avg_fen": fen // n if n else 0,
            }
        )
    return out


def lifecycle_distribution(*, mall_group_id: int) -> list[dict[str, Any]]:
    found = dict(audience_sql.lifecycle_distribution(mall_group_id=mall_group_id))
    return [{"code": c, "name": LIFECYCLE_NAMES[c], "members": found.get(c, 0)} for c in rules.LIFECYCLE_CODES]


def rfm_cuts(*, mall_group_id: int) -> RfmCuts | None:
    return RfmCuts.objects.filter(mall_group_id=mall_group_id).first()


def persona(*, mall_group_id: int, definition: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """A segment's profile: size, buyers, spend, gender and age mix, tiers, lifecycle and RFM mix, top categories
    and merchants, active hours and weekdays (the last year)."""
    now = now or timeutil.now()
    canonical = segment_validate(definition, mall_group_id=mall_group_id)
    where = _where(canonical, mall_group_id=mall_group_id, now=now)
    members = audience_sql.segment_fragment(
        mall_group_id=mall_group_id, active_status=member_selectors.ACTIVE_STATUS, where=where
    )
    tz_name = group_tz(mall_group_id=mall_group_id)
    tz_param = sql.local_time_param(tz_name, now)
    since = now - dt.timedelta(days=365)
    size = audience_sql.segment_count(
        mall_group_id=mall_group_id, active_status=member_selectors.ACTIVE_STATUS, where=where
    )
    return {
        "size": size,
        **audience_sql.persona_profile_figures(members=members),
        **audience_sql.persona_member_figures(members=members),
        "tiers": [(lv.name, n) for lv, n in tier_selectors.segment_level_mix(members=members)],
        "categories": sales_selectors.segment_spend_by(
            mall_group_id=mall_group_id, since=since, by="category", members=members, limit=8
        ),
        "merchants": sales_selectors.segment_spend_by(
            mall_group_id=mall_group_id, since=since, by="merchant", members=members, limit=8
        ),
        "hours": sales_selectors.segment_sales_by_hour(
            mall_group_id=mall_group_id, since=since, tz_param=tz_param, members=members
        ),
        "weekdays": sales_selectors.segment_sales_by_weekday(
            mall_group_id=mall_group_id, since=since, tz_param=tz_param, members=members
        ),
    }


def segment_members_among(*, mall_group_id: int, segment_id: int, member_ids: Sequence[int]) -> set[int]:
    """Which of these members are in the saved segment now (a journey's entry filter and branch)."""
    segment = segment_get(mall_group_id=mall_group_id, segment_id=segment_id)
    canonical = segment_validate(segment.definition, mall_group_id=mall_group_id)
    where = _where(canonical, mall_group_id=mall_group_id, now=timeutil.now())
    return audience_sql.segment_members_among(
        mall_group_id=mall_group_id, active_status=member_selectors.ACTIVE_STATUS, where=where, member_ids=member_ids
    )


def first_purchasers_since(*, mall_group_id: int, since: dt.datetime) -> list[int]:
    """Members whose first purchase (as the profiles know it: refreshed every minute) was at or after `since`."""
    return list(
        MemberProfile.objects.filter(mall_group_id=mall_group_id, first_sale_at__gte=since)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )


def lapsed_between(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(member, last purchase) for members whose last purchase was in [since, until) — "no purchase for N days"."""
    rows = (
        MemberProfile.objects.filter(mall_group_id=mall_group_id, last_sale_at__gte=since, last_sale_at__lt=until)
        .order_by("member_id")
        .values_list("member_id", "last_sale_at")
    )
    return [(m, last) for m, last in rows if last is not None]
