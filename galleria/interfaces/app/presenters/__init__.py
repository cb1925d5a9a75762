"""What the member app shows about points, tiers, the wallet and purchases, in plain words.

Read-only: these functions call the domain selectors and turn their answers into rows for the app's pages and its
JSON API (both show the same words). Every lookup is scoped to the signed-in member; a page costs a fixed number
of queries whatever its length (merchant names are fetched for the whole page at once).
"""

from __future__ import annotations

from .common import PAGE_SIZE, Paging, multiplier, percent, signed_cny, signed_points, yuan_short
from .points import (
    EXPIRING_WITHIN_DAYS,
    CheckinState,
    EarnExplanation,
    ExpiringLot,
    PointsRow,
    PointsSummary,
    checkin_state,
    explain_earn,
    points_history,
    points_summary,
    tier_names,
)
from .purchases import PurchaseRow, purchases, recent_purchases
from .tiers import BenefitRow, TierHistoryRow, TierPage, current_tier, tier_benefits, tier_page
from .wallet import BonusOffer, PendingTopUp, WalletRow, bonus_offers, member_topup, pending_topups, wallet_rows

__all__ = [
    "EXPIRING_WITHIN_DAYS",
    "PAGE_SIZE",
    "BenefitRow",
    "BonusOffer",
    "CheckinState",
    "EarnExplanation",
    "ExpiringLot",
    "Paging",
    "PendingTopUp",
    "PointsRow",
    "PointsSummary",
    "PurchaseRow",
    "TierHistoryRow",
    "TierPage",
    "WalletRow",
    "bonus_offers",
    "checkin_state",
    "current_tier",
    "explain_earn",
    "member_topup",
    "multiplier",
    "pending_topups",
    "percent",
    "points_history",
    "points_summary",
    "purchases",
    "recent_purchases",
    "signed_cny",
    "signed_points",
    "tier_benefits",
    "tier_names",
    "tier_page",
    "wallet_rows",
    "yuan_short",
]
