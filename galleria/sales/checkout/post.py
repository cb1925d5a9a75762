"""Post: the movements a committed sale causes in the apps below sales, each through that app's own service.

Wallet payment, points spent and points earned (balanced ledger legs, points lots), the behaviour award for a
first purchase at the merchant, the tier spend (and an upgrade at once), and spend-triggered coupons (消费返券).
Only for a member's sale; all inside the sale's transaction, on the rows the lock step holds; every movement
carries the source "sale:<id>" (a refund finds them by it). Messages are enqueued by those services in the same
transaction, never sent from inside the lock.

Then, for every sale (a member's or not), `post_settlement`: what the sale moves between the mall and the merchant
(docs/settlement.md; the amounts are settle.py's) as ONE balanced `settlement` transaction on the merchant's CNY
settlement accounts and their group-level counterparts — only when there is something to settle, so a till sale
paid at the merchant's own till with mall-funded points and no coupon writes nothing more. Those system accounts
are never locked or updated (their balances are sums of legs); the refund posts the proportional reversal."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from galleria.coupons import services as coupon_services
from galleria.coupons.types import AppliedDiscount, IssuedCoupon
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Transaction, TransactionKind
from galleria.ledger.types import Leg
from galleria.points import rules as points_rules
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services
from galleria.points.models import PointsPolicy
from galleria.points.types import EarnConfig
from galleria.tiers.models import TierChange
from galleria.tiers.services import tier_record_spend_in_tx
from galleria.wallet import services as wallet_services

from .. import sql as sales_sql
from . import settle
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
    if rule is None or sales_sql.member_bought_at_merchant(
        member_id=member_id, merchant_id=ctx.merchant.pk, other_than=sale_id
    ):
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
        # the row this sale holds locked, as locking it again would return it: the sale's own result reports the
        # balance before the award, as it always has
        points_account=copy.copy(account),
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


# ---------------------------------------------------------------- settlement with the merchant (docs/settlement.md)

# (amount, the merchant's account, its group-level counterpart, sign of the merchant's leg). On a merchant's
# account a positive balance is what the mall owes the merchant (as WALLET_SPENT, which the wallet posts itself);
# the merchant-funded discounts are a memorandum pair outside the statement's net.
SETTLEMENT_PAIRS: tuple[tuple[str, str, str, int], ...] = (
    ("collected_fen", AccountKind.MERCHANT_COLLECTED, AccountKind.GATEWAY_CLEARING, 1),
    ("points_value_fen", AccountKind.POINTS_VALUE_REDEEMED, AccountKind.POINTS_VALUE_FUND, 1),
    ("coupon_mall_fen", AccountKind.COUPON_MALL_FUNDED, AccountKind.COUPON_FUND, 1),
    ("merchant_points_fen", AccountKind.MERCHANT_POINTS_COST, AccountKind.POINTS_COST_RECEIVABLE, -1),
    ("coupon_merchant_fen", AccountKind.COUPON_MERCHANT_FUNDED, AccountKind.COUPON_MERCHANT_MEMO, -1),
)


def post_settlement_legs(
    amounts: settle.SettlementAmounts,
    *,
    mall_group_id: int,
    merchant_id: int,
    reverse: bool,
    occurred_at: dt.datetime,
    source: str,
    memo: str,
    explanation: dict[str, object],
) -> Transaction | None:
    """One balanced `settlement` transaction for `amounts` (the opposite legs when `reverse`); None when empty."""
    if amounts.is_empty:
        return None
    legs: list[Leg] = []
    for name, merchant_kind, group_kind, sign in SETTLEMENT_PAIRS:
        amount = getattr(amounts, name) * sign * (-1 if reverse else 1)
        if amount:
            mine = ledger.system_account_id(mall_group_id=mall_group_id, kind=merchant_kind, merchant_id=merchant_id)
            theirs = ledger.system_account_id(mall_group_id=mall_group_id, kind=group_kind)
            legs += [Leg(mine, Asset.CNY, amount), Leg(theirs, Asset.CNY, -amount)]
    return ledger.post(
        mall_group_id=mall_group_id,
        kind=TransactionKind.SETTLEMENT,
        legs=legs,
        occurred_at=occurred_at,
        source=source,
        memo=memo,
        explanation={**explanation, **amounts.explanation(), "merchant": merchant_id},
    )


def post_settlement(
    ctx: CheckoutContext,
    priced: Priced,
    applied: Sequence[AppliedDiscount],
    *,
    sale_id: int,
    member_id: int | None,
    earn: EarnConfig | None,
    policy: PointsPolicy,
) -> Transaction | None:
    """The sale's settlement legs (no query when there is nothing to settle)."""
    merchant_points = 0
    if member_id is not None and earn is not None and priced.points_earned > 0:
        _mall, merchant_points = points_rules.funding_split(
            points=priced.points_earned, funder=earn.rate.funder, merchant_share_bp=earn.rate.merchant_share_bp
        )
    amounts = settle.sale_amounts(
        channel=ctx.data.channel,
        payments=[(p.method, p.amount_fen) for p in ctx.data.payments],
        points_value_fen=priced.points_value_fen,
        discounts=[(a.mall_fen, a.merchant_fen) for a in applied],
        merchant_points=merchant_points,
        points_per_yuan=policy.redeem_points_per_yuan,
    )
    return post_settlement_legs(
        amounts,
        mall_group_id=ctx.group_id,
        merchant_id=ctx.merchant.pk,
        reverse=False,
        occurred_at=ctx.data.occurred_at,
        source=f"sale:{sale_id}",
        memo=f"{ctx.merchant.name} {ctx.data.pos_sale_id}",
        explanation={"sale": sale_id, "channel": ctx.data.channel, "points_per_yuan": policy.redeem_points_per_yuan},
    )
