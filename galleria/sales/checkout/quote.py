"""The quote: read-only — resolve -> load (no locks) -> the same `pricing.price` the sale runs.

What a basket would earn and what the member may use; nothing is written. Coupons and promotions: with
`coupon_ids` (the till's choice) the quote applies exactly what the sale would (those coupons plus the compatible
promotions, through the same galleria/coupons/rules.py evaluation) and refuses a chosen coupon that does not
apply, with its reason; without, it applies the best combination of the member's coupons and the promotions.
Either way it lists every coupon the member holds with its discount alone (or why it does not apply here).
sales/tests/test_checkout_properties.py checks quote ≡ sale over random baskets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.errors import NotFoundError, ValidationError
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons.exceptions import error_for
from galleria.coupons.types import Applied, AppliedDiscount, CouponQuote, LineDiscount
from galleria.merchants.models import Merchant
from galleria.points import rules as points_rules
from galleria.points import selectors as points_selectors
from galleria.points.types import RedeemConfig
from galleria.tiers.selectors import member_tier
from galleria.tiers.types import TierView

from .. import rules
from ..types import LineIn, PaymentIn, Quote
from .pricing import basket_lines, discounts_of, price
from .types import Priced


def _merchant(merchant_id: int, merchant: Merchant | None) -> Merchant:
    if merchant is None or merchant.pk != merchant_id:  # the POS API passes the terminal's merchant, loaded
        merchant = Merchant.objects.select_related("mall__group").filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFoundError(_("Unknown merchant."), code="sale.merchant_unknown")
    return merchant


def _offers(
    *,
    merchant: Merchant,
    member_id: int | None,
    lines: Sequence[LineIn],
    at: dt.datetime,
    tier: TierView | None,
    coupon_ids: Sequence[int] | None,
) -> CouponQuote:
    """The coupons and promotions evaluation; a chosen coupon that does not apply raises its error."""
    if coupon_ids and member_id is None:
        raise ValidationError(_("Coupons can only be used by a member."), code="coupon.member_required")
    offers = coupon_selectors.coupon_quote(
        member_id=member_id,
        merchant=merchant,
        lines=basket_lines(lines),
        at=at,
        token=merchant.mall.group.config_token,
        tier=(tier.rank, tier.discount_bp) if tier else (0, 0),
        coupon_ids=coupon_ids,
    )
    if coupon_ids is not None:
        for key, reason in offers.best.unmet:
            if key.startswith("coupon:"):
                raise error_for(reason, coupon_id=int(key.split(":")[1]))
    return offers


def _applied(a: Applied) -> AppliedDiscount:
    return AppliedDiscount(
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


def _earned_today(*, merchant: Merchant, member_id: int | None, at: dt.datetime, daily_cap: int | None) -> int:
    if not member_id or daily_cap is None:  # as the sale counts it: per day of sale and of crediting
        return 0
    return points_selectors.earned_toward_daily_cap(
        member_id=member_id,
        at=at,
        now=timeutil.now(),
        tz_name=merchant.mall.timezone,
        lookback_days=merchant.mall.group.sale_offline_window_days + 1,
    )


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
    """What a basket would earn and what the member may use — read-only, nothing is written."""
    merchant = _merchant(merchant_id, merchant)
    moment = at or timeutil.now()
    group_id, token = merchant.mall.group_id, merchant.mall.group.config_token
    policy = points_selectors.policy_get(mall_group_id=group_id, token=token)
    redeem = points_selectors.redeem_config(policy=policy)
    balance = points_selectors.points_available(member_id=member_id) if member_id else 0  # balance − held
    total = rules.validate_lines(lines)
    tier = member_tier(member_id=member_id, mall_group_id=group_id, token=token) if member_id else None
    offers = _offers(merchant=merchant, member_id=member_id, lines=lines, at=moment, tier=tier, coupon_ids=coupon_ids)
    earn = points_selectors.earn_config(
        token=token,
        policy=policy,
        merchant=merchant,
        member_id=member_id,
        at=moment,
        tz_name=merchant.mall.timezone,
        tier=tier,
    )
    priced = price(
        lines=lines,
        total_fen=total,
        discounts=discounts_of(offers.best),
        points_to_use=points_to_use,
        balance=balance,
        redeem=redeem,
        payments=payments or None,
        earn=earn,
        earned_today=_earned_today(merchant=merchant, member_id=member_id, at=moment, daily_cap=earn.daily_cap),
    )
    return _quote(
        priced, offers=offers, tier=tier, member_id=member_id, balance=balance, redeem=redeem, coupon_ids=coupon_ids
    )


def _quote(
    priced: Priced,
    *,
    offers: CouponQuote,
    tier: TierView | None,
    member_id: int | None,
    balance: int,
    redeem: RedeemConfig,
    coupon_ids: Sequence[int] | None,
) -> Quote:
    return Quote(
        total_fen=priced.total_fen,
        paid_fen=priced.paid_fen,
        points_value_fen=priced.points_value_fen,
        points_to_earn=priced.points_earned if member_id else 0,
        explanation=priced.explanation,
        points_balance=balance,
        max_points_usable=points_rules.max_points(sale_total_fen=priced.due_fen, config=redeem, balance=balance)
        if member_id
        else 0,
        tier_code=tier.code if tier else "",
        tier_name=tier.name if tier else "",
        tier_discount_bp=tier.discount_bp if tier else 0,
        free_parking_hours=tier.free_parking_hours if tier else 0,
        discount_fen=priced.discount_fen,
        applied=tuple(_applied(a) for a in offers.best.applied),
        coupons=offers.coupons,
        promotions=offers.promotions,
        best_coupon_ids=offers.best_coupon_ids if coupon_ids is None else tuple(coupon_ids),
        order_of_application=offers.best.order,
        line_discounts=priced.line_discount_fen,
    )
