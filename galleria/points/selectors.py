from __future__ import annotations

import datetime as dt

from django.db.models import Sum

from galleria.core import configcache, timeutil
from galleria.ledger import selectors as ledger_selectors
from galleria.ledger.models import Account, AccountKind, Entry, Transaction, TransactionKind
from galleria.merchants.models import Merchant
from galleria.tiers.selectors import TierView, member_tier

from . import sql as points_sql
from .models import BehaviourRule, EarnRule, PointsCampaign, PointsLot, PointsPolicy
from .types import Campaign, EarnConfig, ExpiryConfig, Rate, RedeemConfig


def policy_get(*, mall_group_id: int, token: str | None = None) -> PointsPolicy:
    """The group's policy (defaults if none was saved yet; not written). Cached per config token."""

    def load() -> PointsPolicy:
        policy = PointsPolicy.objects.filter(mall_group_id=mall_group_id).first()
        return policy if policy is not None else PointsPolicy(mall_group_id=mall_group_id)

    return configcache.cached("points.policy", mall_group_id, token, load)


def _active_rules(mall_group_id: int, token: str | None) -> tuple[EarnRule, ...]:
    return configcache.cached(
        "points.rules",
        mall_group_id,
        token,
        lambda: tuple(EarnRule.objects.filter(mall_group_id=mall_group_id, is_active=True).order_by("pk")),
    )


def _active_campaigns(mall_group_id: int, token: str | None) -> tuple[PointsCampaign, ...]:
    return configcache.cached(
        "points.campaigns",
        mall_group_id,
        token,
        lambda: tuple(PointsCampaign.objects.filter(mall_group_id=mall_group_id, is_active=True).order_by("pk")),
    )


def behaviour_rule_active(*, mall_group_id: int, event: str, token: str | None = None) -> BehaviourRule | None:
    rules = configcache.cached(
        "points.behaviour",
        mall_group_id,
        token,
        lambda: {r.event: r for r in BehaviourRule.objects.filter(mall_group_id=mall_group_id, is_active=True)},
    )
    return rules.get(event)


def rate_for(*, policy: PointsPolicy, merchant: Merchant, token: str | None = None) -> Rate:
    rules = [
        r
        for r in _active_rules(policy.mall_group_id, token)
        if (r.scope == "merchant" and r.merchant_id == merchant.pk)
        or (r.scope == "category" and r.category == merchant.category)
        or (r.scope == "mall" and r.mall_id == merchant.mall_id)
    ]
    for scope in ("merchant", "category", "mall"):
        matching = sorted((r for r in rules if r.scope == scope), key=lambda r: r.pk)
        if matching:
            rule = matching[-1]
            return Rate(
                points=rule.earn_points,
                unit_fen=rule.earn_unit_fen,
                source=f"rule:{rule.pk}",
                scope=scope,
                funder=rule.funder,
                merchant_share_bp=rule.merchant_share_bp,
            )
    return Rate(
        points=policy.earn_points,
        unit_fen=policy.earn_unit_fen,
        source="policy",
        scope="group",
        funder=policy.funder,
        merchant_share_bp=policy.merchant_share_bp,
    )


def campaign_for(
    *, mall_group_id: int, merchant: Merchant, local_day: dt.date, token: str | None = None
) -> Campaign | None:
    """The highest multiplier active on the mall-local day for this merchant (campaigns do not stack)."""
    best: PointsCampaign | None = None
    for c in _active_campaigns(mall_group_id, token):
        if not c.starts_on <= local_day <= c.ends_on:
            continue
        if c.weekdays and local_day.isoweekday() not in c.weekdays:
            continue
        if c.month_days and local_day.day not in c.month_days:
            continue
        if c.categories and merchant.category not in c.categories:
            continue
        if c.merchant_ids and merchant.pk not in c.merchant_ids:
            continue
        if best is None or (c.multiplier_bp, -c.pk) > (best.multiplier_bp, -best.pk):
            best = c
    return Campaign(id=best.pk, name=best.name, multiplier_bp=best.multiplier_bp) if best else None


def earned_toward_daily_cap(
    *, member_id: int, at: dt.datetime, now: dt.datetime, tz_name: str, lookback_days: int
) -> int:
    """What counts against the daily cap of points earned by a sale made at `at` and credited `now`: the larger of
    the points credited by sales of `at`'s mall-local day and the points credited on `now`'s mall-local day
    (whatever day their sales are dated). The cap holds per day of sale and per day of crediting, so a sale dated
    in the past (an offline upload, or a POS backdating sales) earns nothing beyond today's cap either.

    One query over the member's points legs since `lookback_days` before today (the furthest back a client may
    date a sale: the group's offline window) or the sale's day, whichever is earlier: fixed SQL (points/sql.py), as
    it runs on every member's sale; its ORM form is the reference in points/tests/test_sql.py."""
    sale_start, sale_end = timeutil.local_day_bounds(timeutil.local_date(at, tz_name), tz_name)
    today_start, today_end = timeutil.local_day_bounds(timeutil.local_date(now, tz_name), tz_name)
    by_sale_day, by_credit_day = points_sql.earned_by_day(
        ledger_models=(Entry, Account, Transaction),
        member_id=member_id,
        account_kind=AccountKind.MEMBER_POINTS,
        transaction_kind=TransactionKind.EARN,
        since=min(sale_start, today_start - dt.timedelta(days=lookback_days)),
        sale_day=(sale_start, sale_end),
        credit_day=(today_start, today_end),
    )
    return max(by_sale_day, by_credit_day)


def earn_config(
    *,
    policy: PointsPolicy,
    merchant: Merchant,
    member_id: int | None,
    at: dt.datetime,
    tz_name: str,
    token: str | None = None,
    tier: TierView | None = None,
) -> EarnConfig:
    """The earn inputs for a basket; pass `tier` when the caller already read the member's tier."""
    if tier is None and member_id:
        tier = member_tier(member_id=member_id, mall_group_id=policy.mall_group_id, token=token)
    return EarnConfig(
        rate=rate_for(policy=policy, merchant=merchant, token=token),
        tier_code=tier.code if tier else "",
        tier_multiplier_bp=tier.points_multiplier_bp if tier else 10000,
        campaign=campaign_for(
            mall_group_id=policy.mall_group_id,
            merchant=merchant,
            local_day=timeutil.local_date(at, tz_name),
            token=token,
        ),
        min_spend_fen=policy.min_spend_fen,
        per_sale_cap=policy.per_sale_cap,
        daily_cap=policy.daily_cap,
        excluded_categories=frozenset(policy.excluded_categories),
        excluded_skus=frozenset(policy.excluded_skus),
    )


def redeem_config(*, policy: PointsPolicy) -> RedeemConfig:
    return RedeemConfig(
        points_per_yuan=policy.redeem_points_per_yuan,
        min_points=policy.redeem_min_points,
        multiple=policy.redeem_multiple,
        max_share_bp=policy.redeem_max_share_bp,
    )


def expiry_config(*, policy: PointsPolicy) -> ExpiryConfig:
    return ExpiryConfig(policy=policy.expiry_policy, days=policy.expiry_days)


def points_balance(*, member_id: int) -> int:
    return ledger_selectors.member_balance(member_id=member_id, kind=AccountKind.MEMBER_POINTS)


def points_available(*, member_id: int) -> int:
    """Points the member may spend now: the balance less what open holds reserve (a pending online checkout's
    points, points earned by an order still in its return window)."""
    return ledger_selectors.member_available(member_id=member_id, kind=AccountKind.MEMBER_POINTS)


def points_expiring(*, member_id: int, until: dt.date) -> int:
    total = PointsLot.objects.filter(member_id=member_id, remaining__gt=0, expires_on__lte=until).aggregate(
        total=Sum("remaining")
    )["total"]
    return int(total or 0)


# ---------------------------------------------------------------- console reads: rules, campaigns, adjustments, history

from django.db.models import QuerySet  # noqa: E402

from .models import AdjustmentStatus, PointsAdjustment  # noqa: E402


def earn_rule_list(*, mall_group_id: int) -> QuerySet[EarnRule]:
    """The group's earn rules, active first, then by scope and name."""
    return (
        EarnRule.objects.filter(mall_group_id=mall_group_id)
        .select_related("mall", "merchant")
        .order_by("-is_active", "scope", "name", "pk")
    )


def earn_rule_get(*, rule_id: int, mall_group_id: int | None) -> EarnRule:
    """One earn rule of the group (any group when `mall_group_id` is None); raises EarnRule.DoesNotExist."""
    qs = EarnRule.objects.select_related("mall", "merchant")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.get(pk=rule_id)


def points_campaign_list(*, mall_group_id: int) -> QuerySet[PointsCampaign]:
    """The group's points campaigns, active first, the latest start first."""
    return PointsCampaign.objects.filter(mall_group_id=mall_group_id).order_by("-is_active", "-starts_on", "-pk")


def points_campaign_get(*, campaign_id: int, mall_group_id: int | None) -> PointsCampaign:
    qs = PointsCampaign.objects.all()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.get(pk=campaign_id)


def behaviour_rule_map(*, mall_group_id: int) -> dict[str, BehaviourRule]:
    """{event: rule} of the group's behaviour rules (events without a rule are absent)."""
    return {rule.event: rule for rule in BehaviourRule.objects.filter(mall_group_id=mall_group_id)}


def points_adjustment_list(
    *, mall_group_id: int | None, pending: bool | None = None, member_id: int | None = None
) -> QuerySet[PointsAdjustment]:
    """Adjustments of a group (every group when None): pending only, decided only (None = all), newest first."""
    qs = PointsAdjustment.objects.select_related("member", "requested_by", "decided_by").order_by("-created_at", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if pending is True:
        qs = qs.filter(status=AdjustmentStatus.PENDING)
    elif pending is False:
        qs = qs.exclude(status=AdjustmentStatus.PENDING).order_by("-decided_at", "-pk")
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    return qs


def points_adjustment_get(*, adjustment_id: int, mall_group_id: int | None) -> PointsAdjustment:
    qs = PointsAdjustment.objects.select_related("member", "requested_by", "decided_by")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.get(pk=adjustment_id)


def points_history(*, member_id: int) -> QuerySet[Entry]:
    """The legs of the member's points account, newest first, each with its transaction (kind, source, why)."""
    return (
        Entry.objects.filter(account__member_id=member_id, account__kind=AccountKind.MEMBER_POINTS)
        .select_related("transaction")
        .order_by("-occurred_at", "-id")
    )
