"""Lock: the rows a sale or refund changes, through one helper and in one global order.

Order (every use case on this path keeps it, so two sales of one member never deadlock): the member's ledger
accounts (points, then the wallet's when money moves from it; ledger.lock_member_accounts orders them by primary
key) -> the member's tier row -> the chosen coupons (by primary key, inside coupons_redeem_for_sale_in_tx) -> for a
refund, the sale row. Mall-side accounts are never locked (no hot row on the checkout path)."""

from __future__ import annotations

from galleria.ledger import services as ledger
from galleria.ledger.exceptions import AccountClosedError
from galleria.ledger.models import Account, AccountKind
from galleria.members.selectors import member_survivor_id
from galleria.tiers import selectors as tier_selectors
from galleria.tiers.services import tier_lock_in_tx
from galleria.wallet import selectors as wallet_selectors

from .types import Buyer, CheckoutContext


def account_kinds(*, wallet: bool) -> list[str]:
    """The member accounts a sale or refund locks, in one call (one lock order for every use case)."""
    return [AccountKind.MEMBER_POINTS, *wallet_selectors.WALLET_KINDS] if wallet else [AccountKind.MEMBER_POINTS]


def lock_member_accounts(
    *, mall_group_id: int, member_id: int, wallet: bool, allow_closed: bool = False, fresh: bool = False
) -> dict[str, Account]:
    return ledger.lock_member_accounts(
        mall_group_id=mall_group_id,
        member_id=member_id,
        kinds=account_kinds(wallet=wallet),
        allow_closed=allow_closed,
        fresh=fresh,
    )


def lock_buyer(ctx: CheckoutContext) -> Buyer:
    """Lock the member's accounts, then their tier row (read for the earn multiplier, the tier discount of
    promotions and the upgrade check). A sale without a member locks nothing."""
    member_id = ctx.member_id
    if member_id is None:
        return Buyer(member_id=None, tier=tier_selectors.ENTRY)
    wallet = bool(ctx.wallet_fen)
    try:
        accounts = lock_member_accounts(
            mall_group_id=ctx.group_id, member_id=member_id, wallet=wallet, fresh=ctx.joined
        )
    except AccountClosedError:
        # the member was merged into another while this sale waited for its accounts (the till resolved the card
        # a moment before the merge committed): the sale belongs to the survivor, like the card now does. An
        # erased member has no survivor: the sale is refused.
        survivor_id = member_survivor_id(member_id=member_id)
        if survivor_id == member_id:
            raise
        member_id = survivor_id
        accounts = lock_member_accounts(mall_group_id=ctx.group_id, member_id=member_id, wallet=wallet)
    fresh = ctx.joined and member_id == ctx.member_id  # registered by this sale: nothing to look for yet
    tier_row = tier_lock_in_tx(member_id=member_id, mall_group_id=ctx.group_id, config_token=ctx.token, fresh=fresh)
    tier = tier_selectors.ENTRY
    if tier_row is not None:
        tier = tier_selectors.tier_view_of(level_id=tier_row.level_id, mall_group_id=ctx.group_id, token=ctx.token)
    return Buyer(member_id=member_id, accounts=accounts, tier_row=tier_row, tier=tier)
