"""The sale: resolve -> lock -> price -> persist -> post, in the caller's transaction.

`checkout_sale_in_tx` is the one entry every channel adapter calls with a `SaleIn` (its `channel` says which
adapter); sales.services.sale_commit_in_tx is this function under its old name. The coupons step sits between lock
and price: coupons_redeem_for_sale_in_tx locks the chosen coupons (after the accounts and tier row), evaluates them
with the promotions in force through galleria/coupons/rules.py — the evaluation the quote runs too — and records the
redemptions; pricing then reads that evaluation like the quote reads its own. The post step ends with the sale's
settlement legs (post.post_settlement, docs/settlement.md), for every sale with something to settle."""

from __future__ import annotations

from dataclasses import replace

from galleria.audit.types import Actor
from galleria.coupons import services as coupon_services
from galleria.coupons.types import SaleDiscounts
from galleria.merchants.models import Merchant, Store
from galleria.points import selectors as points_selectors
from galleria.points.models import PointsPolicy
from galleria.points.types import EarnConfig, RedeemConfig

from ..types import PAID_ELSEWHERE_CHANNELS, SERVICE_CHANNELS, Channel, SaleIn, SaleResult
from .lock import lock_buyer
from .persist import persist_sale
from .post import post_sale, post_settlement
from .pricing import basket_lines, discounts_of, price
from .resolve import resolve_sale
from .types import Buyer, CheckoutContext


def coupons_channel(channel: str) -> str:
    """The coupons engine's channel of a sales channel: `online` for an online order, else `offline` (in store)."""
    return "online" if channel == Channel.ONLINE else "offline"


def _redeem(ctx: CheckoutContext, buyer: Buyer) -> SaleDiscounts:
    """The chosen coupons and the promotions in force, in the documented order; without either this costs no
    query (promotions come from the configuration cache). A sale paid elsewhere (receipt photo, payment-linked
    points) gets no promotion and no tier discount: what was paid cannot change."""
    tier = buyer.tier
    assert tier is not None
    paid_elsewhere = ctx.data.channel in PAID_ELSEWHERE_CHANNELS or ctx.data.channel in SERVICE_CHANNELS
    return coupon_services.coupons_redeem_for_sale_in_tx(
        sale_id=None,
        merchant=ctx.merchant,
        member_id=buyer.member_id,
        lines=basket_lines(ctx.data.lines),
        coupon_ids=ctx.data.coupon_ids,
        occurred_at=ctx.data.occurred_at,
        channel=coupons_channel(ctx.data.channel),
        apply_promotions=not paid_elsewhere,
        token=ctx.token,
        tier=(tier.rank, 0 if paid_elsewhere else tier.discount_bp),
    )


def redeem_config_for(ctx: CheckoutContext, policy: PointsPolicy) -> RedeemConfig:
    """The group's rules for paying with points; a mall service (parking) may be paid with points in full."""
    config = points_selectors.redeem_config(policy=policy)
    return replace(config, max_share_bp=10_000) if ctx.data.channel in SERVICE_CHANNELS else config


def earn_inputs(
    ctx: CheckoutContext, buyer: Buyer, policy: PointsPolicy, *, quote: bool = False
) -> tuple[EarnConfig | None, int]:
    """The earn configuration for the member at the sale's time and what already counts toward the daily cap
    (per day of the sale and per day of crediting: a backdated sale). None for a sale without a member."""
    member_id = buyer.member_id
    if member_id is None and not quote:
        return None, 0
    earn = points_selectors.earn_config(
        policy=policy,
        merchant=ctx.merchant,
        member_id=member_id,
        at=ctx.data.occurred_at,
        tz_name=ctx.tz_name,
        token=ctx.token,
        tier=buyer.tier,
    )
    if ctx.data.channel in SERVICE_CHANNELS:  # a mall service earns nothing: every line is excluded
        earn = replace(earn, excluded_skus=earn.excluded_skus | {line.sku for line in ctx.data.lines})
    earned_today = 0
    if member_id is not None and earn.daily_cap is not None:
        earned_today = points_selectors.earned_toward_daily_cap(
            member_id=member_id,
            at=ctx.data.occurred_at,
            now=ctx.now,
            tz_name=ctx.tz_name,
            lookback_days=ctx.merchant.mall.group.sale_offline_window_days + 1,
        )
    return earn, earned_today


def spendable(buyer: Buyer) -> int:
    """Points the locked buyer may spend: the balance less what open holds reserve (a held point is not spendable
    at a till either, docs/design/online-mall.md §5.3)."""
    account = buyer.points_account
    return max((account.balance or 0) - account.held, 0) if account is not None else 0


def checkout_sale_in_tx(
    *, data: SaleIn, actor: Actor, merchant: Merchant | None = None, store: Store | None = None
) -> SaleResult:
    """Commit a sale. `merchant` and `store` may be passed already loaded (with mall and group, and a current
    config token), as the POS API has them from the terminal's key; otherwise they are read."""
    ctx = resolve_sale(data=data, actor=actor, merchant=merchant, store=store)
    buyer = lock_buyer(ctx)
    policy = points_selectors.policy_get(mall_group_id=ctx.group_id, token=ctx.token)
    discounts = _redeem(ctx, buyer)
    return commit_sale(ctx, buyer, policy, discounts, redeem=redeem_config_for(ctx, policy))


def commit_sale(
    ctx: CheckoutContext, buyer: Buyer, policy: PointsPolicy, discounts: SaleDiscounts, *, redeem: RedeemConfig
) -> SaleResult:
    """Price -> persist -> post one sale whose buyer is locked and whose coupons are redeemed (a till sale, or one
    sub-order of an online cart, sales/checkout/cart.py)."""
    data = ctx.data
    earn, earned_today = earn_inputs(ctx, buyer, policy)
    account = buyer.points_account
    priced = price(
        lines=data.lines,
        total_fen=ctx.total_fen,
        discounts=discounts_of(discounts),
        points_to_use=data.points_to_use,
        balance=spendable(buyer),
        redeem=redeem,
        payments=data.payments,
        earn=earn,
        earned_today=earned_today,
    )
    sale_id = persist_sale(ctx, member_id=buyer.member_id, priced=priced)
    if discounts.applied:
        coupon_services.coupons_attach_sale_in_tx(
            redemption_ids=[a.redemption_id for a in discounts.applied if a.redemption_id is not None],
            sale_id=sale_id,
        )
    posted = None
    if earn is not None:
        posted = post_sale(ctx, buyer, priced, sale_id=sale_id, policy=policy, earn=earn)
    post_settlement(  # what the sale moves between the mall and the merchant (nothing for a plain till sale)
        ctx, priced, discounts.applied, sale_id=sale_id, member_id=buyer.member_id, earn=earn, policy=policy
    )
    return SaleResult(
        sale_id=sale_id,
        member_id=buyer.member_id,
        member_joined=ctx.joined,
        member_card_no=ctx.joined_card_no,
        points_earned=priced.points_earned,
        points_used=data.points_to_use,
        points_balance=account.balance if account is not None else None,
        explanation=priced.explanation,
        tier_upgraded_to=posted.tier_change.to_level.code if posted and posted.tier_change else None,
        discount_fen=priced.discount_fen,
        applied=discounts.applied,
        coupons_issued=posted.issued if posted else (),
    )
