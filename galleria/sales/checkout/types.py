"""Values that travel between the steps of the checkout pipeline. Frozen where a step only reads them.

`Channel` (sales.types) names the adapter a sale came through; `CheckoutContext` is what resolve settled (who,
where, when, configuration token); `Buyer` is what lock holds (member accounts, tier row); `Priced` is the pure
result of pricing a basket — the same value for the quote and for the sale, which is what keeps quote ≡ sale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from galleria.ledger.models import Account, AccountKind
from galleria.merchants.models import Merchant, Store
from galleria.tiers.models import MemberTier
from galleria.tiers.types import TierView

from ..types import Channel, SaleIn

__all__ = ["Buyer", "Channel", "CheckoutContext", "Discounts", "Priced"]


@dataclass(frozen=True)
class CheckoutContext:
    """Resolved once per sale, before any lock: the sale's input, its merchant and store (with mall and group),
    the group's configuration token, the server's `now`, the member (joined now for 'pay = join') and the total."""

    data: SaleIn
    merchant: Merchant
    store: Store
    token: str
    now: dt.datetime
    member_id: int | None
    joined: bool
    total_fen: int
    wallet_fen: int
    joined_card_no: str | None = None  # pay = join: the card number the new member got

    @property
    def group_id(self) -> int:
        return self.merchant.mall.group_id

    @property
    def tz_name(self) -> str:
        return self.merchant.mall.timezone


@dataclass
class Buyer:
    """What the lock step holds for a member's sale: the member (the survivor when the card's member was merged
    meanwhile), their locked accounts (points, and the wallet's when the sale pays from it) and tier row."""

    member_id: int | None
    accounts: dict[str, Account] = field(default_factory=dict)
    tier_row: MemberTier | None = None
    tier: TierView | None = None

    @property
    def points_account(self) -> Account | None:
        return self.accounts.get(AccountKind.MEMBER_POINTS)


@dataclass(frozen=True)
class Discounts:
    """The coupons and promotions evaluation (galleria/coupons/rules.py) as pricing reads it: the total and the
    discount of each line, in line order (their sum is the total)."""

    total_fen: int
    line_fen: tuple[int, ...]


@dataclass(frozen=True)
class Priced:
    """A priced basket. total = discount + points value + paid; the per-line splits add up to their totals."""

    total_fen: int
    discount_fen: int
    line_discount_fen: tuple[int, ...]
    points_used: int
    points_value_fen: int
    due_fen: int  # total less discounts: what money and points must cover
    paid_fen: int  # money (every payment method, wallet included)
    line_paid_fen: tuple[int, ...]
    line_points_spent: tuple[int, ...]
    points_earned: int
    line_points_earned: tuple[int, ...]
    explanation: dict[str, object] = field(default_factory=dict)
