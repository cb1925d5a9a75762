from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.errors import NotFoundError, ValidationError
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons.exceptions import error_for
from galleria.coupons.types import AppliedDiscount, BasketLine, LineDiscount
from galleria.members.models import Member, MemberStatus
from galleria.merchants.models import Merchant
from galleria.points import rules as points_rules
from galleria.points import selectors as points_selectors
from galleria.points.types import EarnLine
from galleria.tiers.selectors import member_tier

from . import rules
from .models import Sale
from .types import LineIn, PaymentIn, Quote


def sale_quote(
    *,
    merchant_id: int,
    member_id: int | None,
    lines: Sequence[LineIn],
    payments: Sequence[PaymentIn],
    points_to_use: int = 0,
    at: dt.datetime | None = None,
    merchant: Merchant | None = None,
    coupon_ids: Sequence[int] | None = None,
) -> Quote:
    """What a basket would earn and what the member may use — read-only, nothing is written.

    Coupons and promotions: with `coupon_ids` (the till's choice) the quote applies exactly what the sale would
    (those coupons plus the compatible promotions) and refuses a chosen coupon that does not apply, with its
    reason; without, it applies the best combination of the member's coupons and the promotions. Either way it
    lists every coupon the member holds with its discount alone (or why it does not apply here)."""
    if merchant is None or merchant.pk != merchant_id:  # the POS API passes the terminal's merchant, loaded
        merchant = Merchant.objects.select_related("mall__group").filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFoundError(_("Unknown merchant."), code="sale.merchant_unknown")
    moment = at or timeutil.now()
    group_id = merchant.mall.group_id
    token = merchant.mall.group.config_token
    policy = points_selectors.policy_get(mall_group_id=group_id, token=token)
    redeem = points_selectors.redeem_config(policy=policy)
    balance = points_selectors.points_balance(member_id=member_id) if member_id else 0
    total = rules.validate_lines(lines)
    tier = member_tier(member_id=member_id, mall_group_id=group_id, token=token) if member_id else None
    if coupon_ids and member_id is None:
        raise ValidationError(_("Coupons can only be used by a member."), code="coupon.member_required")
    offers = coupon_selectors.coupon_quote(
        member_id=member_id,
        merchant=merchant,
        lines=basket_lines(lines),
        at=moment,
        token=token,
        tier=(tier.rank, tier.discount_bp) if tier else (0, 0),
        coupon_ids=coupon_ids,
    )
    best = offers.best
    if coupon_ids is not None:
        for key, reason in best.unmet:
            if key.startswith("coupon:"):
                raise error_for(reason, coupon_id=int(key.split(":")[1]))
    discount = best.total_discount_fen
    line_discount = [d.discount_fen for d in best.line_discounts]
    due = total - discount
    points_value = 0
    if points_to_use:
        points_value = points_rules.check_redemption(
            points=points_to_use, sale_total_fen=due, balance=balance, config=redeem
        )
    if payments:
        rules.validate_payments(payments, total_fen=total, points_value_fen=points_value, discount_fen=discount)
    paid = due - points_value
    config = points_selectors.earn_config(
        token=token,
        policy=policy,
        merchant=merchant,
        member_id=member_id,
        at=moment,
        tz_name=merchant.mall.timezone,
        tier=tier,
    )
    earned_today = 0
    if member_id and config.daily_cap is not None:
        earned_today = points_selectors.earned_on_day(
            member_id=member_id,
            local_day=timeutil.local_date(moment, merchant.mall.timezone),
            tz_name=merchant.mall.timezone,
        )
    result = points_rules.earn(
        lines=[
            EarnLine(sku=ln.sku, category=ln.category, paid_fen=p)
            for ln, p in zip(lines, rules.split_over_lines(paid, lines, line_discount), strict=True)
        ],
        config=config,
        earned_today=earned_today,
    )
    return Quote(
        total_fen=total,
        paid_fen=paid,
        points_value_fen=points_value,
        points_to_earn=result.points if member_id else 0,
        explanation=result.explanation,
        points_balance=balance,
        max_points_usable=points_rules.max_points(sale_total_fen=due, config=redeem, balance=balance)
        if member_id
        else 0,
        tier_code=tier.code if tier else "",
        tier_name=tier.name if tier else "",
        tier_discount_bp=tier.discount_bp if tier else 0,
        free_parking_hours=tier.free_parking_hours if tier else 0,
        discount_fen=discount,
        applied=tuple(
            AppliedDiscount(
                redemption_id=None,
                coupon_id=int(a.key.split(":")[1]) if a.key.startswith("coupon:") else None,
                promotion_id=int(a.key.split(":")[1]) if a.key.startswith("promotion:") else None,
                kind=a.kind,
                name=str(a.explanation.get("name", "")),
                discount_fen=a.discount_fen,
                mall_fen=a.mall_fen,
                merchant_fen=a.merchant_fen,
                lines=tuple(LineDiscount(line_no=ln.line_no, discount_fen=ln.discount_fen) for ln in a.lines),
                explanation=dict(a.explanation),
            )
            for a in best.applied
        ),
        coupons=offers.coupons,
        promotions=offers.promotions,
        best_coupon_ids=offers.best_coupon_ids if coupon_ids is None else tuple(coupon_ids),
        order_of_application=best.order,
    )


def basket_lines(lines: Sequence[LineIn]) -> list[BasketLine]:
    """The sale's lines as the coupons app reads them (line numbers from 1)."""
    return [
        BasketLine(
            line_no=i + 1,
            sku=ln.sku,
            quantity=ln.quantity,
            unit_price_fen=ln.unit_price_fen,
            amount_fen=ln.amount_fen,
            category=ln.category,
        )
        for i, ln in enumerate(lines)
    ]


def sale_list(
    *, member_id: int | None = None, merchant_id: int | None = None, mall_group_id: int | None = None
) -> QuerySet[Sale]:
    qs = Sale.objects.select_related("merchant").order_by("-occurred_at", "-id")
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs


def active_member_count(*, mall_group_id: int | None, since: dt.datetime) -> int:
    """Members active since `since`: they used the app or were identified (last_active_at) or bought something.
    One query; a sale does not touch the member row (it stays off the checkout path)."""
    members = Member.objects.filter(status=MemberStatus.ACTIVE)
    buyers = Sale.objects.filter(occurred_at__gte=since, member__isnull=False)
    if mall_group_id is not None:
        members = members.filter(mall_group_id=mall_group_id)
        buyers = buyers.filter(mall_group_id=mall_group_id)
    return members.filter(Q(last_active_at__gte=since) | Q(pk__in=buyers.values("member_id"))).count()
