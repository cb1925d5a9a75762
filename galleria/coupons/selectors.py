"""Coupon reads: a member's coupons, the claim centre, the read-only quote, template stats, code checks.

Business dates and hours are in the mall's time zone (core.timeutil): the redeeming merchant's mall at the till,
the template's mall (else its merchant's, else the group's first mall) for claims and daily limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeAlias

from django.db.models import Count, Q, QuerySet, Sum

from galleria.core import configcache, sql, timeutil
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.merchants.models import Merchant
from galleria.tiers.models import MemberTier

from . import exceptions, rules
from . import sql as coupons_sql
from .models import (
    ClaimMethod,
    Coupon,
    CouponRedemption,
    CouponStatus,
    CouponStockShard,
    CouponTemplate,
    Promotion,
    RedemptionStatus,
    TemplateStatus,
)
from .types import (
    BasketLine,
    CartCouponSplit,
    CartPartLines,
    ClaimOffer,
    CouponCheck,
    CouponOption,
    CouponQuote,
    OfferSpec,
    ParkingCouponOption,
    PromotionOption,
    TemplateStats,
)

# ------------------------------------------------------------------------------------------------- specs


def _ints(values: Iterable[object]) -> tuple[int, ...]:
    return tuple(int(v) for v in values if isinstance(v, int | str) and str(v).lstrip("-").isdigit())


def _strs(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def template_spec(template: CouponTemplate, coupon: Coupon | None = None) -> OfferSpec:
    """The pure view of a template (and, for a held coupon, its key and rank)."""
    key = f"coupon:{coupon.pk}" if coupon is not None else f"template:{template.pk}"
    rank = (1, int(coupon.valid_until.timestamp()), coupon.pk) if coupon is not None else (1, 0, template.pk)
    return OfferSpec(
        key=key,
        kind=template.kind,
        name=template.name,
        is_coupon=True,
        template_key=f"template:{template.pk}",
        rank=rank,
        value_fen=template.value_fen,
        percent_off_bp=template.percent_off_bp,
        max_discount_fen=template.max_discount_fen,
        threshold_fen=template.threshold_fen,
        min_items=template.min_items,
        unit_price_fen=template.unit_price_fen,
        max_units=template.max_units,
        scope_kind=template.scope_kind,
        owner_merchant_id=template.merchant_id,
        scope_categories=_strs(template.scope_categories or ()),
        scope_merchant_ids=_ints(template.scope_merchant_ids or ()),
        excluded_merchant_ids=_ints(template.excluded_merchant_ids or ()),
        scope_skus=_strs(template.scope_skus or ()),
        excluded_skus=_strs(template.excluded_skus or ()),
        excluded_line_categories=_strs(template.excluded_line_categories or ()),
        stacking_group=template.stacking_group,
        is_exclusive=template.is_exclusive,
        max_per_sale=template.max_per_sale,
        funder=template.funder,
        merchant_share_bp=template.merchant_share_bp,
        on_threshold_loss=template.on_threshold_loss,
    )


def promotion_spec(promotion: Promotion, *, tier_discount_bp: int = 0) -> OfferSpec | None:
    """The pure view of a promotion; None when it gives nothing to this member (tier discount of 0)."""
    kind: str
    percent = promotion.percent_off_bp
    if promotion.kind == Promotion.Kind.SPEND_THRESHOLD:
        kind = rules.PER_THRESHOLD if promotion.is_per_step else rules.THRESHOLD
    elif promotion.kind == Promotion.Kind.N_ITEMS:
        kind = rules.N_ITEMS
    elif promotion.kind in (Promotion.Kind.PER_ITEM, Promotion.Kind.UNIT_PRICE):
        kind = str(promotion.kind)
    else:
        kind = rules.PERCENT
        if promotion.kind == Promotion.Kind.TIER_DISCOUNT and not percent:
            percent = tier_discount_bp
        if percent <= 0:
            return None
    return OfferSpec(
        key=f"promotion:{promotion.pk}",
        kind=kind,
        name=promotion.name,
        is_coupon=False,
        template_key=f"promotion:{promotion.pk}",
        rank=(0, promotion.pk),
        value_fen=promotion.value_fen,
        percent_off_bp=percent,
        max_discount_fen=promotion.max_discount_fen,
        threshold_fen=promotion.threshold_fen,
        min_items=promotion.min_items,
        unit_price_fen=promotion.unit_price_fen,
        max_units=promotion.max_units,
        scope_kind=promotion.scope_kind,
        owner_merchant_id=promotion.merchant_id,
        scope_categories=_strs(promotion.scope_categories or ()),
        scope_merchant_ids=_ints(promotion.scope_merchant_ids or ()),
        excluded_merchant_ids=_ints(promotion.excluded_merchant_ids or ()),
        scope_skus=_strs(promotion.scope_skus or ()),
        excluded_skus=_strs(promotion.excluded_skus or ()),
        excluded_line_categories=_strs(promotion.excluded_line_categories or ()),
        stacking_group=promotion.stacking_group,
        is_exclusive=promotion.is_exclusive,
        funder=promotion.funder,
        merchant_share_bp=promotion.merchant_share_bp,
        on_threshold_loss=promotion.on_threshold_loss,
    )


# ------------------------------------------------------------------------------------------------- time zones


def template_tz(template: CouponTemplate, *, token: str | None = None) -> str | None:
    """The time zone of the template's mall (of its merchant's mall; else of the group's first mall). With the
    group's config token, a template of a mall or of the whole group reads it from the per-process configuration
    cache (malls are configuration: a database trigger changes the token when one changes)."""
    if template.mall_id is not None:
        mall_id = template.mall_id
        return configcache.cached(
            f"coupons.mall_tz.{mall_id}",
            template.mall_group_id,
            token,
            lambda: Mall.objects.filter(pk=mall_id).values_list("timezone", flat=True).first(),
        )
    if template.merchant_id is not None:
        return Merchant.objects.filter(pk=template.merchant_id).values_list("mall__timezone", flat=True).first()
    group_id = template.mall_group_id
    return configcache.cached(
        "coupons.group_tz",
        group_id,
        token,
        lambda: Mall.objects.filter(group_id=group_id).order_by("pk").values_list("timezone", flat=True).first(),
    )


def member_tier(*, member_id: int | None) -> tuple[int, int]:
    """(rank, discount_bp) of the member's tier; (0, 0) without one."""
    if member_id is None:
        return 0, 0
    row = MemberTier.objects.filter(member_id=member_id).values_list("level__rank", "level__discount_bp").first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


# ------------------------------------------------------------------------------------------------- checks


def channel_ok(allowed: str, channel: str) -> bool:
    return allowed == "both" or allowed == channel


def is_held(coupon: Coupon, *, at: dt.datetime) -> bool:
    """Whether a pending online checkout holds the coupon at `at` (a hold past `hold_until` no longer counts)."""
    return bool(coupon.hold_key) and (coupon.hold_until is None or coupon.hold_until > at)


def coupon_problem(
    *,
    coupon: Coupon,
    template: CouponTemplate,
    merchant: Merchant | None,
    at: dt.datetime,
    tz_name: str | None,
    channel: str,
    member_id: int | None = None,
    hold_key: str = "",
) -> str:
    """'' when the coupon may be used now at this merchant, else the stable reason code. A coupon held by a
    pending online checkout (`hold_key`, until `hold_until`) is `coupon.held` for everyone but that checkout
    (`hold_key` = its number)."""
    if member_id is not None and coupon.member_id != member_id:
        return "coupon.wrong_member"
    if coupon.status == CouponStatus.USED:
        return "coupon.used"
    if coupon.status == CouponStatus.VOID:
        return "coupon.void"
    if coupon.status == CouponStatus.EXPIRED or at >= coupon.valid_until:
        return "coupon.expired"
    if is_held(coupon, at=at) and coupon.hold_key != hold_key:
        return "coupon.held"
    if at < coupon.valid_from:
        return "coupon.not_yet_valid"
    if not channel_ok(template.channel, channel):
        return "coupon.not_applicable"
    local = timeutil.local(at, tz_name)
    if not rules.usable_at_local(
        local,
        days_of_week=_ints(template.days_of_week or ()),
        hours_from=template.hours_from,
        hours_until=template.hours_until,
    ):
        return "coupon.time_restricted"
    if merchant is not None or template.merchant_id is not None:
        spec = template_spec(template, coupon)
        if not rules.merchant_in_scope(
            spec, merchant_id=merchant.pk if merchant else None, merchant_category=merchant.category if merchant else ""
        ):
            return "coupon.not_applicable"
    return ""


def promotion_active(promotion: Promotion, *, at: dt.datetime, tz_name: str | None, channel: str) -> bool:
    if promotion.status != TemplateStatus.ACTIVE or not promotion.starts_at <= at < promotion.ends_at:
        return False
    if not channel_ok(promotion.channel, channel):
        return False
    local = timeutil.local(at, tz_name)
    days_of_month = _ints(promotion.days_of_month or ())
    if days_of_month and local.day not in days_of_month:
        return False
    return rules.usable_at_local(
        local,
        days_of_week=_ints(promotion.days_of_week or ()),
        hours_from=promotion.hours_from,
        hours_until=promotion.hours_until,
    )


def active_promotions(*, mall_group_id: int, token: str | None = None) -> tuple[Promotion, ...]:
    """The group's active promotions (any time window). With the group's config token they come from the
    per-process cache: promotions are configuration (a database trigger changes the token on every edit)."""
    return configcache.cached(
        "coupons.promotions",
        mall_group_id,
        token,
        lambda: tuple(
            Promotion.objects.filter(mall_group_id=mall_group_id, status=TemplateStatus.ACTIVE).order_by("pk")
        ),
    )


def promotions_for(
    *,
    merchant: Merchant,
    member_id: int | None,
    at: dt.datetime,
    channel: str,
    tz_name: str | None,
    token: str | None = None,
    tier: tuple[int, int] | None = None,
) -> list[OfferSpec]:
    """The promotions in force for this shopper at this merchant and time (members-only ones need a member).
    `token`: the group's config token (no query when nothing is active); `tier`: the member's (rank,
    discount_bp) when the caller has it (the sale has the tier row locked)."""
    rows = [
        p for p in active_promotions(mall_group_id=merchant.mall.group_id, token=token) if p.starts_at <= at < p.ends_at
    ]
    if not rows:
        return []
    rank, tier_bp = tier if tier is not None else member_tier(member_id=member_id)
    specs = []
    for promo in rows:
        if promo.members_only and member_id is None:
            continue
        if member_id is not None and rank < promo.min_tier_rank:
            continue
        if not promotion_active(promo, at=at, tz_name=tz_name, channel=channel):
            continue
        spec = promotion_spec(promo, tier_discount_bp=tier_bp)
        if spec is None or not rules.merchant_in_scope(
            spec, merchant_id=merchant.pk, merchant_category=merchant.category
        ):
            continue
        specs.append(spec)
    return specs


# ------------------------------------------------------------------------------------------------- lists


def parking_coupons(*, member_id: int, at: dt.datetime | None = None) -> list[ParkingCouponOption]:
    """The member's parking coupons usable at `at` (available, within validity), soonest to expire first."""
    at = at or timeutil.now()
    rows = (
        Coupon.objects.filter(
            member_id=member_id,
            status="available",
            valid_from__lte=at,
            valid_until__gt=at,
            template__kind=rules.PARKING,
        )
        .select_related("template")
        .order_by("valid_until", "pk")
    )
    return [
        ParkingCouponOption(
            coupon_id=c.pk,
            code=c.code,
            name=c.template.name,
            hours=c.template.parking_hours,
            value_fen=0 if c.template.parking_hours else c.template.value_fen,
            funder=c.template.funder,
            merchant_id=c.template.merchant_id,
            valid_until=c.valid_until,
        )
        for c in rows
        if c.template.parking_hours or c.template.value_fen
    ]


def coupon_list(*, member_id: int, status: str | None = None) -> QuerySet[Coupon]:
    """A member's coupons (newest first), optionally of one status. Expired-but-not-yet-swept coupons are
    reported as expired: `available` means usable now."""
    qs = Coupon.objects.filter(member_id=member_id).select_related("template").order_by("-issued_at", "-pk")
    now = timeutil.now()
    if status == CouponStatus.AVAILABLE:
        return qs.filter(status=CouponStatus.AVAILABLE, valid_until__gt=now)
    if status == CouponStatus.EXPIRED:
        return qs.filter(Q(status=CouponStatus.EXPIRED) | Q(status=CouponStatus.AVAILABLE, valid_until__lte=now))
    if status:
        return qs.filter(status=status)
    return qs


def coupon_get(*, coupon_id: int, mall_group_id: int | None = None) -> Coupon | None:
    qs = Coupon.objects.select_related("template").filter(pk=coupon_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def coupon_get_by_code(*, code: str, mall_group_id: int | None = None) -> Coupon | None:
    qs = Coupon.objects.select_related("template").filter(code=rules.normalize_code(code))
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def template_get(*, template_id: int, mall_group_id: int | None = None) -> CouponTemplate | None:
    qs = CouponTemplate.objects.filter(pk=template_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def template_list(*, mall_group_id: int, status: str | None = None) -> QuerySet[CouponTemplate]:
    qs = CouponTemplate.objects.filter(mall_group_id=mall_group_id).order_by("-pk")
    return qs.filter(status=status) if status else qs


def stock_remaining(*, template_id: int) -> int:
    return int(CouponStockShard.objects.filter(template_id=template_id).aggregate(s=Sum("remaining"))["s"] or 0)


def member_issued_counts(
    *, template: CouponTemplate, member_id: int, at: dt.datetime, tz_name: str | None
) -> tuple[int, int]:
    """(all time, today in mall time) coupons of the template issued to the member."""
    start, end = timeutil.local_day_bounds(timeutil.local_date(at, tz_name), tz_name)
    row = Coupon.objects.filter(template=template, member_id=member_id).aggregate(
        total=Count("pk"), today=Count("pk", filter=Q(issued_at__gte=start, issued_at__lt=end))
    )
    return int(row["total"] or 0), int(row["today"] or 0)


def claim_problem(
    *,
    template: CouponTemplate,
    member: Member,
    at: dt.datetime,
    tz_name: str | None,
    tier_rank: int,
    counts: tuple[int, int],
    check_limits: bool = True,
) -> str:
    """'' when the member may receive a coupon of the template now (stock aside), else the reason code."""
    if template.status != TemplateStatus.ACTIVE or template.mall_group_id != member.mall_group_id:
        return "coupon.not_claimable"
    if template.claim_starts_at and at < template.claim_starts_at:
        return "coupon.not_claimable"
    if template.claim_ends_at and at >= template.claim_ends_at:
        return "coupon.not_claimable"
    if template.validity_kind == "fixed" and template.valid_until is not None and at >= template.valid_until:
        return "coupon.not_claimable"
    if not check_limits:
        return ""
    if tier_rank < template.min_tier_rank:
        return "coupon.tier_required"
    if template.new_members_only and at - member.created_at > dt.timedelta(days=template.new_member_days):
        return "coupon.new_members_only"
    total, today = counts
    if template.per_member_limit is not None and total >= template.per_member_limit:
        return "coupon.limit_reached"
    if template.per_member_daily_limit is not None and today >= template.per_member_daily_limit:
        return "coupon.daily_limit_reached"
    return ""


def claim_centre(*, member_id: int, at: dt.datetime | None = None) -> list[ClaimOffer]:
    """The templates the member may see in the claim centre now, with whether they can claim and why not."""
    at = at or timeutil.now()
    member = Member.objects.get(pk=member_id)
    templates = list(
        CouponTemplate.objects.filter(mall_group_id=member.mall_group_id, status="active", is_claimable=True)
        .filter(Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=at))
        .filter(Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=at))
        .order_by("pk")
    )
    if not templates:
        return []
    ids = [t.pk for t in templates]
    remaining = dict(
        CouponStockShard.objects.filter(template_id__in=ids)
        .values("template_id")
        .annotate(s=Sum("remaining"))
        .values_list("template_id", "s")
    )
    rank, _bp = member_tier(member_id=member_id)
    offers = []
    for t in templates:
        tz_name = template_tz(t)
        counts = member_issued_counts(template=t, member_id=member_id, at=at, tz_name=tz_name)
        left = None if t.total_quantity is None else int(remaining.get(t.pk) or 0)
        reason = claim_problem(template=t, member=member, at=at, tz_name=tz_name, tier_rank=rank, counts=counts)
        if not reason and left is not None and left <= 0:
            reason = "coupon.sold_out"
        offers.append(
            ClaimOffer(
                template_id=t.pk,
                name=t.name,
                kind=t.kind,
                claim_method=t.claim_method,
                claim_points=t.claim_points if t.claim_method == ClaimMethod.POINTS else 0,
                claim_price_fen=t.claim_price_fen if t.claim_method == ClaimMethod.PRICE else 0,
                remaining=left,
                claimed_by_member=counts[0],
                can_claim=not reason,
                reason_code=reason,
            )
        )
    return offers


# ------------------------------------------------------------------------------------------------- quote


def templates_by_id(*, mall_group_id: int, ids: Iterable[int], token: str | None = None) -> dict[int, CouponTemplate]:
    """Templates by id. With the group's config token they come from a per-process map that is filled on demand
    and dropped when the token changes (a database trigger changes it on every template edit)."""
    wanted = set(ids)
    if not wanted:
        return {}
    if not token:
        return {t.pk: t for t in CouponTemplate.objects.filter(pk__in=wanted, mall_group_id=mall_group_id)}
    known: dict[int, CouponTemplate] = configcache.cached("coupons.templates", mall_group_id, token, dict)
    missing = wanted - known.keys()
    if missing:
        if len(known) > 5_000:
            known.clear()
        known.update({t.pk: t for t in CouponTemplate.objects.filter(pk__in=missing, mall_group_id=mall_group_id)})
    return {i: known[i] for i in wanted if i in known}


# The merchant row type, for the coupons modules that pass merchants through without reading its tables (services
# hand a sale's loaded merchant to the redemption step)
MerchantRow: TypeAlias = Merchant


def cart_coupon_evaluate(
    *,
    coupon: Coupon,
    member_id: int,
    parts: Sequence[CartPartLines],
    at: dt.datetime,
    token: str | None = None,
    hold_key: str = "",
) -> CartCouponSplit:
    """A cross-shop coupon on a cart (docs/design/online-mall.md §5.4): the member's, usable online at `at` (the
    checkout's own hold allowed), of a cross-shop kind, then `rules.cart_coupon_split` over the sub-orders'
    residual lines. The quote passes the coupon as read, the payment as locked; the reason when it does not apply."""
    templates = templates_by_id(mall_group_id=coupon.mall_group_id, ids=[coupon.template_id], token=token)
    template = templates[coupon.template_id]
    reason = coupon_problem(
        coupon=coupon,
        template=template,
        merchant=None,
        at=at,
        tz_name=template_tz(template, token=token),
        channel="online",
        member_id=member_id,
        hold_key=hold_key,
    )
    if reason:
        return CartCouponSplit(0, tuple(() for _ in parts), reason=reason)
    return rules.cart_coupon_split(template_spec(template, coupon), parts)


def merchants_by_id(*, mall_group_id: int, ids: Iterable[int]) -> dict[int, Merchant]:
    """The group's merchants of these ids, with their mall (one query; none for no ids)."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = Merchant.objects.select_related("mall").filter(pk__in=wanted, mall__group_id=mall_group_id)
    merchants = {m.pk: m for m in found}
    if len(merchants) != len(wanted):
        raise exceptions.CouponNotApplicableError(extra={"merchant_ids": sorted(wanted - set(merchants))})
    return merchants


def held_coupons(*, member_id: int, at: dt.datetime, mall_group_id: int, token: str | None = None) -> list[Coupon]:
    """The member's coupons usable by date at `at` (soonest to expire first, at most 200), with their templates.
    Fixed SQL (on every POS quote for a member, galleria/coupons/sql.py) and templates from the cache."""
    rows = coupons_sql.held(member_id=member_id, status=CouponStatus.AVAILABLE, at=at)
    templates = templates_by_id(mall_group_id=mall_group_id, ids=[c.template_id for c in rows], token=token)
    for c in rows:
        c.template = templates[c.template_id]
    return rows


def coupon_quote(
    *,
    member_id: int | None,
    merchant: Merchant,
    lines: Sequence[BasketLine],
    at: dt.datetime | None = None,
    channel: str = "offline",
    max_coupons: int = rules.MAX_COUPONS_PER_SALE,
    token: str | None = None,
    tier: tuple[int, int] | None = None,
    coupon_ids: Sequence[int] | None = None,
    hold_key: str = "",
) -> CouponQuote:
    """Read-only: the member's held coupons with each one's discount alone on this basket (or why it does not
    apply), the promotions in force, and the best combination under the stacking rules. With `coupon_ids` (the
    till's choice) `best` is what the sale would apply: those coupons plus the compatible promotions; a chosen
    coupon that does not apply is in `unmet` with its reason (the sale would refuse it)."""
    at = at or timeutil.now()
    tz_name = merchant.mall.timezone
    promos = promotions_for(
        merchant=merchant, member_id=member_id, at=at, channel=channel, tz_name=tz_name, token=token, tier=tier
    )
    held: list[Coupon] = []
    if member_id is not None:
        held = held_coupons(member_id=member_id, at=at, mall_group_id=merchant.mall.group_id, token=token)
    options: list[CouponOption] = []
    specs: list[OfferSpec] = list(promos)
    coupon_keys: dict[str, int] = {}
    for c in held:
        spec = template_spec(c.template, c)
        reason = coupon_problem(
            coupon=c, template=c.template, merchant=merchant, at=at, tz_name=tz_name, channel=channel, hold_key=hold_key
        )
        discount = 0
        if not reason:
            if c.template.kind in rules.STANDALONE_KINDS:
                reason = rules.STANDALONE
            else:
                alone = rules.evaluate(lines, [spec])
                discount = alone.total_discount_fen
                reason = alone.unmet[0][1] if alone.unmet else ""
        if not reason:
            specs.append(spec)
            coupon_keys[spec.key] = c.pk
        options.append(
            CouponOption(
                coupon_id=c.pk,
                template_id=c.template_id,
                name=c.template.name,
                kind=c.template.kind,
                valid_until=c.valid_until,
                is_applicable=not reason,
                discount_fen=discount,
                reason_code=reason,
            )
        )
    promo_options = []
    for p in promos:
        alone = rules.evaluate(lines, [p])
        promo_options.append(
            PromotionOption(
                promotion_id=int(p.key.split(":")[1]), name=p.name, kind=p.kind, discount_fen=alone.total_discount_fen
            )
        )
    if coupon_ids is None:
        best = rules.best_combination(lines, specs, max_coupons=max_coupons)
    else:
        wanted = set(coupon_ids)
        by_id = {o.coupon_id: o for o in options}
        reasons = {cid: o.reason_code for cid, o in by_id.items() if not o.is_applicable}
        missing = wanted - set(by_id)
        if missing:  # not held and usable now: say why (used, expired, someone else's…)
            found = {
                row.pk: row
                for row in Coupon.objects.select_related("template").filter(
                    pk__in=missing, mall_group_id=merchant.mall.group_id
                )
            }
            for cid in missing:
                row = found.get(cid)
                problem = ""
                if row is not None:
                    problem = coupon_problem(
                        coupon=row,
                        template=row.template,
                        merchant=merchant,
                        at=at,
                        tz_name=tz_name,
                        channel=channel,
                        member_id=member_id,
                        hold_key=hold_key,
                    )
                reasons[cid] = problem or "coupon.not_found"
        unmet = [(f"coupon:{cid}", reasons[cid]) for cid in sorted(wanted) if cid in reasons]
        keys = [k for k, cid in coupon_keys.items() if cid in wanted]
        chosen_specs = [sp for sp in specs if sp.key in keys or sp.key.startswith("promotion:")]
        best = rules.best_combination(lines, chosen_specs, required_keys=keys, max_coupons=max_coupons)
        if unmet:
            best = replace(best, unmet=(*unmet, *best.unmet))
    chosen = [a.key for a in best.applied]
    return CouponQuote(
        coupons=tuple(options),
        promotions=tuple(promo_options),
        best=best,
        best_coupon_ids=tuple(coupon_keys[k] for k in chosen if k in coupon_keys),
        best_promotion_ids=tuple(int(k.split(":")[1]) for k in chosen if k.startswith("promotion:")),
    )


def coupon_check(
    *, code: str, mall_group_id: int, merchant: Merchant | None, at: dt.datetime | None = None, channel: str = "offline"
) -> CouponCheck | None:
    """Merchant staff scan a code: who holds it and whether it can be used here now (no write)."""
    coupon = coupon_get_by_code(code=code, mall_group_id=mall_group_id)
    if coupon is None:
        return None
    at = at or timeutil.now()
    t = coupon.template
    tz_name = merchant.mall.timezone if merchant is not None else template_tz(t)
    reason = coupon_problem(coupon=coupon, template=t, merchant=merchant, at=at, tz_name=tz_name, channel=channel)
    return CouponCheck(
        coupon_id=coupon.pk,
        code=coupon.code,
        kind=t.kind,
        name=t.name,
        member_id=coupon.member_id,
        status=coupon.status,
        valid_until=coupon.valid_until,
        is_usable=not reason,
        reason_code=reason,
        exchange_item=t.exchange_item,
        parking_hours=t.parking_hours,
        value_fen=t.value_fen,
    )


# ------------------------------------------------------------------------------------------------- stats


def template_stats(*, template_id: int) -> TemplateStats:
    """Stock, the funnel issued → used / expired / void, the redemption rate (used ÷ issued, basis points) and
    the net discount given (after refunds) by funder."""
    template = CouponTemplate.objects.get(pk=template_id)
    now = timeutil.now()
    row = Coupon.objects.filter(template_id=template_id).aggregate(
        issued=Count("pk"),
        used=Count("pk", filter=Q(status=CouponStatus.USED)),
        void=Count("pk", filter=Q(status=CouponStatus.VOID)),
        expired=Count(
            "pk", filter=Q(status=CouponStatus.EXPIRED) | Q(status=CouponStatus.AVAILABLE, valid_until__lte=now)
        ),
        available=Count("pk", filter=Q(status=CouponStatus.AVAILABLE, valid_until__gt=now)),
    )
    money = CouponRedemption.objects.filter(
        template_id=template_id, status__in=list(RedemptionStatus.values)
    ).aggregate(
        d=Sum("discount_fen"),
        m=Sum("mall_fen"),
        me=Sum("merchant_fen"),
        rd=Sum("refunded_fen"),
        rm=Sum("refunded_mall_fen"),
        rme=Sum("refunded_merchant_fen"),
    )
    issued = int(row["issued"] or 0)
    used = int(row["used"] or 0)

    def net(a: str, b: str) -> int:
        return int(money[a] or 0) - int(money[b] or 0)

    return TemplateStats(
        template_id=template_id,
        total_quantity=template.total_quantity,
        remaining=None if template.total_quantity is None else stock_remaining(template_id=template_id),
        issued=issued,
        available=int(row["available"] or 0),
        used=used,
        expired=int(row["expired"] or 0),
        void=int(row["void"] or 0),
        redemption_rate_bp=(used * 10_000 // issued) if issued else 0,
        discount_fen=net("d", "rd"),
        mall_fen=net("m", "rm"),
        merchant_fen=net("me", "rme"),
    )


def merchant_redemptions_count(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> int:
    """Coupons redeemed at a merchant in [since, until) — at the till or on their own — not reversed by a refund
    (promotions applied without a coupon are not counted)."""
    return CouponRedemption.objects.filter(
        merchant_id=merchant_id,
        coupon__isnull=False,
        redeemed_at__gte=since,
        redeemed_at__lt=until,
        status=RedemptionStatus.ACTIVE,
    ).count()


def segment_members_with_coupons(*, template_ids: list[int], state: str, now: dt.datetime) -> sql.Fragment:
    """Members holding / having used / having let expire a coupon of these templates: a segment condition."""
    return coupons_sql.members_with_coupons(template_ids, state=state, now=now)


def grant_batch_outcome(*, batch_id: int) -> dict[str, int]:
    """What a batch grant's coupons became: issued, used, and the discount they gave (fen, net of refunds) and who
    funded it (mall / merchants) — a campaign's cost."""
    coupons = Coupon.objects.filter(source_key__startswith=f"grant-batch:{batch_id}:")
    issued = coupons.count()
    used = coupons.filter(status="used").count()
    money = CouponRedemption.objects.filter(coupon__in=coupons, status=RedemptionStatus.ACTIVE).aggregate(
        discount=Sum("discount_fen"),
        refunded=Sum("refunded_fen"),
        mall=Sum("mall_fen"),
        mall_back=Sum("refunded_mall_fen"),
    )
    return {
        "issued": issued,
        "used": used,
        "discount_fen": int(money["discount"] or 0) - int(money["refunded"] or 0),
        "mall_fen": int(money["mall"] or 0) - int(money["mall_back"] or 0),
    }
