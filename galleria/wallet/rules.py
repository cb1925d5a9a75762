"""Pure wallet rules (no database): top-up bonus tiers, how a payment splits over principal and bonus, and how
refunds split back.

Rules written out:
- Bonus: of the tiers that are active on the (mall-local) day and whose minimum the top-up meets (exact fen, `>=`),
  the one with the largest bonus applies — one tier, never stacked. Ties go to the higher minimum, then the lower id.
- Paying: the member's own money (principal) first, the mall's gift (bonus) last.
- Refunding a wallet payment: proportional and cumulative. After a refund the payment's refunded total is R; the
  bonus refunded so far must be round-half-up(bonus paid × R / amount paid) and the principal refunded so far is R
  minus that. Each refund takes the cumulative due minus what earlier refunds took, so partial refunds always add
  up to exactly what was paid, and a full refund returns exactly the principal and bonus that were spent.
- Refunding a top-up (cash back): the bonus that came with it is clawed back in proportion, cumulatively in the same
  way (refund half the top-up → lose half its bonus), but never more than what is left in the bonus account; the
  rest is a shortfall that is recorded, never a negative balance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from galleria.core.money import ratio_round

from .exceptions import WalletAmountInvalidError, WalletInsufficientError
from .types import BonusChoice, BonusTier, Split

MIN_TOPUP_FEN = 100  # ¥1
MAX_TOPUP_FEN = 5_000_000  # ¥50,000 per top-up; a sanity bound, not a regulatory limit


def is_tier_open(tier: BonusTier, on: dt.date | None) -> bool:
    if not tier.is_active:
        return False
    if on is None:
        return True
    if tier.starts_on is not None and on < tier.starts_on:
        return False
    return not (tier.ends_on is not None and on > tier.ends_on)


def bonus_for(amount_fen: int, rules: Iterable[BonusTier], *, on: dt.date | None = None) -> BonusChoice:
    """The bonus a top-up of `amount_fen` earns: the best single tier it meets (see the module docstring).

    `on` is the mall-local day of the top-up; tiers outside their window (or inactive) are ignored. With `on=None`
    only `is_active` is checked.
    """
    best: BonusTier | None = None
    for tier in rules:
        if tier.bonus_fen <= 0 or amount_fen < tier.min_amount_fen or not is_tier_open(tier, on):
            continue
        if best is None or _better(tier, best):
            best = tier
    if best is None:
        return BonusChoice(bonus_fen=0, rule_id=None)
    return BonusChoice(bonus_fen=best.bonus_fen, rule_id=best.id)


def _better(a: BonusTier, b: BonusTier) -> bool:
    if a.bonus_fen != b.bonus_fen:
        return a.bonus_fen > b.bonus_fen
    if a.min_amount_fen != b.min_amount_fen:
        return a.min_amount_fen > b.min_amount_fen
    return (a.id if a.id is not None else 0) < (b.id if b.id is not None else 0)


def check_topup_amount(amount_fen: int) -> None:
    if not MIN_TOPUP_FEN <= amount_fen <= MAX_TOPUP_FEN:
        raise WalletAmountInvalidError(
            extra={"min_fen": MIN_TOPUP_FEN, "max_fen": MAX_TOPUP_FEN, "amount_fen": amount_fen}
        )


def split_payment(amount_fen: int, *, principal_available_fen: int, bonus_available_fen: int) -> Split:
    """Principal first, bonus last. Raises WalletInsufficientError when both together do not cover the amount."""
    if amount_fen <= 0:
        raise WalletAmountInvalidError(extra={"amount_fen": amount_fen})
    available = principal_available_fen + bonus_available_fen
    if amount_fen > available:
        raise WalletInsufficientError(extra={"available_fen": available, "requested_fen": amount_fen})
    principal = min(amount_fen, principal_available_fen)
    return Split(principal_fen=principal, bonus_fen=amount_fen - principal)


def refund_split(*, paid: Split, refunded: Split, amount_fen: int) -> Split:
    """How a refund of `amount_fen` on a payment splits back (proportional, cumulative; see the module docstring).

    `paid` is what the payment took, `refunded` what earlier refunds already gave back.
    """
    paid_total = paid.principal_fen + paid.bonus_fen
    refunded_total = refunded.principal_fen + refunded.bonus_fen
    if amount_fen <= 0 or refunded_total + amount_fen > paid_total:
        raise ValueError("refund out of range")
    after = refunded_total + amount_fen
    bonus_cum = ratio_round(paid.bonus_fen, after, paid_total)
    bonus = bonus_cum - refunded.bonus_fen
    return Split(principal_fen=amount_fen - bonus, bonus_fen=bonus)


def topup_bonus_clawback(
    *,
    topup_amount_fen: int,
    topup_bonus_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    bonus_settled_before_fen: int,
    bonus_available_fen: int,
) -> tuple[int, int]:
    """(bonus to claw back now, shortfall now) for refunding `refund_fen` of a top-up.

    `bonus_settled_before_fen` = bonus clawed back + shortfall recorded by earlier refunds of this top-up.
    """
    if refund_fen <= 0 or refunded_before_fen + refund_fen > topup_amount_fen:
        raise ValueError("refund out of range")
    due_cum = ratio_round(topup_bonus_fen, refunded_before_fen + refund_fen, topup_amount_fen)
    due = max(0, due_cum - bonus_settled_before_fen)
    take = min(due, max(0, bonus_available_fen))
    return take, due - take
