"""Post: the movements a committed sale causes in the apps below sales, each through that app's own service.

Wallet payment, points spent and points earned (balanced ledger legs, points lots), the behaviour award for a
first purchase at the merchant, the tier spend (and an upgrade at once), and spend-triggered coupons (消费返券).
Only for a member's sale; all inside the sale's transaction, on the rows the lock step holds; every movement
carries the source "sale:<id>" (a refund finds them by it). Messages are enqueued by those services in the same
transaction, never sent from inside the lock."""

from __future__ import annotations

from dataclasses import dataclass

from galleria.coupons import services as coupon_services
from galleria.coupons.types import IssuedCoupon
from galleria.ledger.models import Account
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services
from galleria.points.models import PointsPolicy
from galleria.points.types import EarnConfig
from galleria.tiers.models import TierChange
from galleria.tiers.services import tier_record_spend_in_tx
from galleria.wallet import services as wallet_services

from ..models import Sale
from .types import Buyer, CheckoutContext, Priced


@dataclass(frozen=True)
class Posted:
    tier_change: TierChange | None
    issued: tuple[IssuedCoupon, ...]


def _post_payments(
    ctx: CheckoutContext, buyer: Buyer, account: Account, priced: Priced, *, member_id: int, sale_id: int
) -> None:
    """Money from the wallet and points spent as payment."""
    data = ctx.data
    if ctx.wallet_fen:
        wallet_services.wallet_pay_in_tx(
            mall_group_id=ctx.group_id,
            member_id=member_id,
            accounts=buyer.accounts,
            amount_fen=ctx.wallet_fen,
            merchant_id=ctx.merchant.pk,
            occurred_at=data.occurred_at,
            source=f"sale:{sale_id}",
        )
    if data.points_to_use:
        points_services.points_spend_in_tx(
            mall_group_id=ctx.group_id,
            member_id=member_id,
            points_account=account,
            points=data.points_to_use,
            merchant_id=ctx.merchant.pk,
            occurred_at=data.occurred_at,
            source=f"sale:{sale_id}",
            explanation={"sale": sale_id, "value_fen": priced.points_value_fen},
        )


def _post_earn(
    ctx: CheckoutContext,
    account: Account,
    priced: Priced,
    *,
    member_id: int,
    sale_id: int,
    policy: PointsPolicy,
    earn: EarnConfig,
) -> None:
    """The points earned, then the first-purchase-at-this-merchant award when the group has that rule."""
    data = ctx.data
    points_services.points_credit_in_tx(
        policy=policy,
        member_id=member_id,
        points_account=account,
        points=priced.points_earned,
        kind="earn",
        funder=earn.rate.funder,
        merchant_share_bp=earn.rate.merchant_share_bp,
        merchant_id=ctx.merchant.pk,
        occurred_at=data.occurred_at,
        tz_name=ctx.tz_name,
        source=f"sale:{sale_id}",
        explanation=priced.explanation,
        memo=f"{ctx.merchant.name} {data.pos_sale_id}",
    )
    rule = points_selectors.behaviour_rule_active(
        mall_group_id=ctx.group_id, event="first_purchase_at_merchant", token=ctx.token
    )
    if rule is None or Sale.objects.filter(member_id=member_id, merchant=ctx.merchant).exclude(pk=sale_id).exists():
        return
    points_services.behaviour_award_in_tx(
        mall_group_id=ctx.group_id,
        member_id=member_id,
        event="first_purchase_at_merchant",
        occasion=f"merchant:{ctx.merchant.pk}",
        at=data.occurred_at,
        tz_name=ctx.tz_name,
        merchant_id=ctx.merchant.pk,
        config_token=ctx.token,
    )


def post_sale(
    ctx: CheckoutContext, buyer: Buyer, priced: Priced, *, sale_id: int, policy: PointsPolicy, earn: EarnConfig
) -> Posted:
    """Everything a member's sale moves below sales (nothing for a sale without a member)."""
    account = buyer.points_account
    member_id = buyer.member_id
    if account is None or member_id is None:
        return Posted(tier_change=None, issued=())
    _post_payments(ctx, buyer, account, priced, member_id=member_id, sale_id=sale_id)
    _post_earn(ctx, account, priced, member_id=member_id, sale_id=sale_id, policy=policy, earn=earn)
    tier_change = tier_record_spend_in_tx(
        member_id=member_id,
        mall_group_id=ctx.group_id,
        amount_fen=priced.paid_fen,
        points=priced.points_earned,
        occurred_at=ctx.data.occurred_at,
        source=f"sale:{sale_id}",
        config_token=ctx.token,
        new_source=True,
        locked=buyer.tier_row,
    )
    # 消费返券: spend-triggered coupons (from the configuration cache: no query when the group has none)
    issued = coupon_services.coupons_issue_for_sale_in_tx(
        mall_group_id=ctx.group_id,
        member_id=member_id,
        merchant=ctx.merchant,
        sale_id=sale_id,
        eligible_paid_fen=priced.paid_fen,
        occurred_at=ctx.data.occurred_at,
        token=ctx.token,
    )
    return Posted(tier_change=tier_change, issued=tuple(issued))
