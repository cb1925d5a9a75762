"""Reads of the recommender (docs/recommendations.md).

The request path (`for_member`) is at most four indexed queries: the member's consent, their tier, their own recent
merchants (sales, index member + occurred_at), and the active model's entries for those merchants and the member's
popularity segments (with the merchants joined). A member who switched personalisation off, or who has no history
or no model, gets the segment's popular merchants without their purchases being read. Reasons name only the
member's own merchants, never another member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from django.db.models import Q, QuerySet

from galleria.core import timeutil
from galleria.coupons import selectors as coupon_selectors
from galleria.events import selectors as event_selectors
from galleria.members.selectors import consent_current, consent_withdrawn_ids, members_active
from galleria.members.types import ConsentPurpose
from galleria.merchants.selectors import merchant_options
from galleria.sales import selectors_analytics as sales_reads

from . import rules
from .models import RecEntry, RecModel, RecSettings
from .types import BlockSwitches, CouponPick, EntryKind, EventPick, ForMember, MerchantPick, ReasonKind
from .types import MemberLike as Member

RECENT_DAYS = 365
SEEDS = 5
OFTEN = 3  # purchases at a merchant in the window to say "you often shop there"
PURPOSE = ConsentPurpose.RECOMMENDATIONS


def model_active(*, mall_group_id: int) -> RecModel | None:
    return RecModel.objects.filter(mall_group_id=mall_group_id, is_active=True).first()


def model_list(*, mall_group_id: int) -> QuerySet[RecModel]:
    return RecModel.objects.filter(mall_group_id=mall_group_id).order_by("-version")


def switches(*, mall_group_id: int) -> BlockSwitches:
    row = RecSettings.objects.filter(mall_group_id=mall_group_id).first()
    if row is None:
        return BlockSwitches()
    return BlockSwitches(merchants=row.show_merchants, coupons=row.show_coupons, events=row.show_events)


def is_personalised(*, member_id: int) -> bool:
    """Has the member left personalised recommendations on (the default; PIPL art. 24 switch)?"""
    return consent_current(member_id=member_id, purpose=PURPOSE)


def _tier_rank(member_id: int) -> int | None:
    rank, _bp = coupon_selectors.member_tier(member_id=member_id)
    return rank


def member_segments(*, member: Member, tier_rank: int | None, today: dt.date) -> list[str]:
    band = rules.age_band(birthday=member.birthday, today=today)
    return rules.segment_keys(tier_rank=tier_rank, band=band, mall_id=member.join_mall_id)


def for_member(*, member: Member, limit: int = 10, at: dt.datetime | None = None) -> ForMember:
    """The merchants to recommend to the member now, with a reason each (see the module docstring)."""
    at = at or timeutil.now()
    personalised = is_personalised(member_id=member.pk)
    tier_rank = _tier_rank(member.pk)
    segments = member_segments(member=member, tier_rank=tier_rank, today=at.date())
    seeds: list[tuple[int, int]] = []
    if personalised:
        recent = sales_reads.member_recent_merchants(
            member_id=member.pk, since=at - dt.timedelta(days=RECENT_DAYS), limit=SEEDS * 4
        )
        seeds = [(int(m), int(n)) for m, n, _at in recent]
    seed_ids = [m for m, _n in seeds]
    wanted = Q(kind=EntryKind.POPULAR, segment__in=segments)
    if seed_ids:
        wanted |= Q(kind=EntryKind.NEIGHBOUR, source_merchant_id__in=seed_ids[:SEEDS])
    entries = list(
        RecEntry.objects.filter(wanted, model__mall_group_id=member.mall_group_id, model__is_active=True)
        .filter(merchant__status="active")
        .select_related("merchant", "source_merchant", "model")
        .order_by("rank", "pk")
    )
    version = entries[0].model.version if entries else None
    picks = rank_picks(entries=entries, seeds=seeds, segments=segments, limit=limit)
    return ForMember(
        personalised=personalised and any(p.reason in (ReasonKind.OFTEN, ReasonKind.ALSO) for p in picks),
        switched_off=not personalised,
        model_version=version,
        merchants=tuple(picks),
        seeds=tuple(seeds),
    )


def rank_picks(
    *, entries: Sequence[RecEntry], seeds: Sequence[tuple[int, int]], segments: Sequence[str], limit: int
) -> list[MerchantPick]:
    """Neighbours of the member's merchants first (score = Σ purchases-weight × similarity), then the most
    specific segment's popular merchants; never a merchant the member already shops at."""
    seen = {m for m, _n in seeds}
    weights = {m: float(n) for m, n in seeds}
    neighbours: dict[int, list[tuple[int, float]]] = {}
    merchant_of: dict[int, RecEntry] = {}
    names: dict[int, str] = {}
    popular: dict[str, list[RecEntry]] = {}
    for e in entries:
        if e.kind == EntryKind.NEIGHBOUR and e.source_merchant_id is not None:
            neighbours.setdefault(e.source_merchant_id, []).append((e.merchant_id, e.score_ppm / rules.SCORE_SCALE))
            merchant_of[e.merchant_id] = e
            if e.source_merchant is not None:
                names[e.source_merchant_id] = e.source_merchant.name
        else:
            popular.setdefault(e.segment, []).append(e)
    scored = rules.score_from_seeds([(m, w) for m, w in weights.items()], neighbours)
    counts = dict(seeds)
    picks: list[MerchantPick] = []
    for item, (score, seed) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0])):
        if item in seen:
            continue
        e = merchant_of[item]
        reason = ReasonKind.OFTEN if counts.get(seed, 0) >= OFTEN else ReasonKind.ALSO
        picks.append(
            MerchantPick(
                merchant_id=item,
                name=e.merchant.name,
                category=e.merchant.category,
                score_ppm=min(int(score * rules.SCORE_SCALE), 2**31 - 1),
                reason=reason,
                because_id=seed,
                because=names.get(seed, ""),
            )
        )
        seen.add(item)
        if len(picks) >= limit:
            return picks
    for key in segments:
        for e in popular.get(key, []):
            if e.merchant_id in seen:
                continue
            reason = ReasonKind.POPULAR if key == segments[-1] else ReasonKind.SEGMENT
            picks.append(
                MerchantPick(
                    merchant_id=e.merchant_id,
                    name=e.merchant.name,
                    category=e.merchant.category,
                    score_ppm=e.score_ppm,
                    reason=reason,
                )
            )
            seen.add(e.merchant_id)
            if len(picks) >= limit:
                return picks
    return picks


def popular(*, mall_group_id: int, limit: int = 10) -> list[MerchantPick]:
    """The group's most popular merchants in the active model (the console preview of the home block)."""
    entries = list(
        RecEntry.objects.filter(
            model__mall_group_id=mall_group_id, model__is_active=True, kind=EntryKind.POPULAR, segment="seg:||"
        )
        .filter(merchant__status="active")
        .select_related("merchant")
        .order_by("rank", "pk")[:limit]
    )
    return [
        MerchantPick(
            merchant_id=e.merchant_id,
            name=e.merchant.name,
            category=e.merchant.category,
            score_ppm=e.score_ppm,
            reason=ReasonKind.POPULAR,
        )
        for e in entries
    ]


def coupons_for(*, member: Member, merchant_ids: Sequence[int], limit: int = 6) -> list[CouponPick]:
    """Coupon templates the member may claim now (tier, validity, limits, stock: the coupons app's claim centre)
    issued by the recommended merchants, in their order."""
    offers = [o for o in coupon_selectors.claim_centre(member_id=member.pk) if o.can_claim]
    if not offers:
        return []
    templates = coupon_selectors.templates_by_id(
        mall_group_id=member.mall_group_id, ids=[o.template_id for o in offers]
    )
    merchants = merchant_options(mall_group_id=member.mall_group_id).in_bulk(
        [t.merchant_id for t in templates.values() if t.merchant_id]
    )
    order = {m: i for i, m in enumerate(merchant_ids)}
    picks: list[tuple[int, CouponPick]] = []
    for o in offers:
        t = templates.get(o.template_id)
        if t is None or t.merchant_id not in order:
            continue
        merchant = merchants.get(t.merchant_id)
        picks.append(
            (
                order[t.merchant_id],
                CouponPick(
                    template_id=o.template_id,
                    name=o.name,
                    merchant_id=t.merchant_id,
                    merchant=merchant.name if merchant else "",
                    claim_method=o.claim_method,
                    claim_points=o.claim_points,
                    claim_price_fen=o.claim_price_fen,
                ),
            )
        )
    picks.sort(key=lambda p: (p[0], p[1].template_id))
    return [p for _o, p in picks[:limit]]


def events_for(*, member: Member, at: dt.datetime | None = None, limit: int = 3) -> list[EventPick]:
    """Upcoming published events of the member's group that are open for registration now and that the member's
    tier may register for, soonest first."""
    at = at or timeutil.now()
    rank = _tier_rank(member.pk) or 0
    out: list[EventPick] = []
    for e in event_selectors.events_for_members(mall_group_id=member.mall_group_id, at=at).select_related("min_tier"):
        if e.registration_opens_at and at < e.registration_opens_at:
            continue
        if e.registration_closes_at and at >= e.registration_closes_at:
            continue
        if e.starts_at <= at or e.seats_taken >= e.capacity:
            continue
        if e.tier_mode == "tier_only" and e.min_tier is not None and rank < e.min_tier.rank:
            continue
        out.append(EventPick(event_id=e.pk, title=e.title, starts_at=e.starts_at, place=e.place))
        if len(out) >= limit:
            break
    return out


def shop_suggestions(*, member: Member, merchant_id: int, limit: int = 3) -> tuple[list[str], list[CouponPick]]:
    """For the merchant counter: the member's top categories (across the group: categories only, never other
    merchants' names or amounts) and this shop's coupons the member may claim. Empty when the member switched
    personalisation off."""
    if not is_personalised(member_id=member.pk):
        return [], []
    recent = sales_reads.member_recent_merchants(
        member_id=member.pk, since=timeutil.now() - dt.timedelta(days=RECENT_DAYS), limit=50
    )
    merchants = merchant_options(mall_group_id=member.mall_group_id).in_bulk([m for m, _n, _a in recent])
    by_category: dict[str, int] = {}
    for m, n, _at in recent:
        merchant = merchants.get(m)
        if merchant is not None:
            by_category[merchant.category] = by_category.get(merchant.category, 0) + n
    categories = [c for c, _n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
    return categories, coupons_for(member=member, merchant_ids=[merchant_id], limit=limit)


# ------------------------------------------------------------------------------------------------ training reads


def training_purchases(
    *, mall_group_id: int, since: dt.datetime, until: dt.datetime, batch: int = 20000
) -> Iterator[tuple[int, int, dt.datetime]]:
    """(member id, merchant id, sold at) of the group's shopping in [since, until), in keyset pages, leaving out
    the members who switched personalised recommendations off."""
    excluded = consent_withdrawn_ids(mall_group_id=mall_group_id, purpose=PURPOSE)
    after = 0
    while True:
        page = sales_reads.purchases_for_training(
            mall_group_id=mall_group_id, since=since, until=until, after_id=after, limit=batch
        )
        if not page:
            return
        for _id, member_id, merchant_id, at, _total in page:
            if member_id not in excluded and isinstance(at, dt.datetime):
                yield member_id, merchant_id, at
        after = page[-1][0]


def excluded_count(*, mall_group_id: int) -> int:
    return len(consent_withdrawn_ids(mall_group_id=mall_group_id, purpose=PURPOSE))


def member_attributes(*, mall_group_id: int, member_ids: Sequence[int]) -> dict[int, tuple[dt.date | None, int, int]]:
    """{member id: (birthday, join mall id, tier rank)} of these members (in pages of 5,000)."""
    out: dict[int, tuple[dt.date | None, int, int]] = {}
    ids = list(member_ids)
    for start in range(0, len(ids), 5000):
        rows = (
            members_active(mall_group_id=mall_group_id)
            .filter(pk__in=ids[start : start + 5000])
            .values_list("pk", "birthday", "join_mall_id", "tier__level__rank")
        )
        for pk, birthday, mall_id, rank in rows:
            out[int(pk)] = (birthday, int(mall_id), int(rank or 0))
    return out
