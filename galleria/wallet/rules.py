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
- Refunding the wallet balance at the service desk: only the member's own money (principal) is paid back. The amount
  is taken from the member's paid top-ups newest first (money is spent oldest first, so what is left came in last;
  gateways also refund recent payments only), each up to what is still unrefunded of it, and each part follows the
  top-up refund rule above (its bonus clawed back in proportion). Money no top-up explains is paid out in cash.
  Above the approval threshold (exact fen, `>`), a second person approves first.
- Cash taken at the service desk: credited at once up to its own threshold (exact fen); above it (`>`) nothing is
  credited until a second person approves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext_lazy as _

from galleria.core.money import format_cny, ratio_round

from .exceptions import (
    BalanceRefundExceedsError,
    BalanceRefundNothingError,
    WalletAmountInvalidError,
    WalletInsufficientError,
)
from .types import BalanceRefundPlan, BonusChoice, BonusTier, RefundPart, Split, TopUpSnapshot

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


def allocate_balance_refund(amount_fen: int, topups: Sequence[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Split a wallet refund of `amount_fen` over top-ups, given newest first as (top-up id, still refundable fen).

    Returns the parts [(top-up id, fen)] — each at most what is refundable of its top-up, in the order given — and
    the remainder that no top-up covers (paid out in cash). The parts and the remainder add up to `amount_fen`.
    """
    if amount_fen <= 0:
        raise WalletAmountInvalidError(extra={"amount_fen": amount_fen})
    parts: list[tuple[int, int]] = []
    left = amount_fen
    for topup_id, refundable in topups:
        if left == 0:
            break
        take = min(left, max(0, refundable))
        if take:
            parts.append((topup_id, take))
            left -= take
    return parts, left


def plan_balance_refund(
    *,
    amount_fen: int,
    principal_fen: int,
    bonus_fen: int,
    topups: Sequence[TopUpSnapshot],
    cash_only: bool = False,
) -> BalanceRefundPlan:
    """The plan of a service-desk wallet refund (see the module docstring): `topups` are the member's paid top-ups
    newest first. Each part from a top-up goes back through its gateway when `gateway_refunds` (and not
    `cash_only`), else in cash, and claws back its share of that top-up's bonus (topup_bonus_clawback, against the
    bonus still in the wallet after the earlier parts). Raises BalanceRefundNothingError / BalanceRefundExceedsError.
    """
    if principal_fen <= 0:
        raise BalanceRefundNothingError(extra={"available_fen": max(0, principal_fen)})
    if amount_fen <= 0:
        raise WalletAmountInvalidError(extra={"amount_fen": amount_fen}, fields={"amount": _("Enter an amount.")})
    if amount_fen > principal_fen:
        raise BalanceRefundExceedsError(
            extra={"available_fen": principal_fen, "requested_fen": amount_fen},
            fields={"amount": _("At most %(amount)s.") % {"amount": format_cny(principal_fen)}},
        )
    by_id = {t.id: t for t in topups}
    allocated, rest = allocate_balance_refund(amount_fen, [(t.id, t.refundable_fen) for t in topups])
    parts: list[RefundPart] = []
    bonus_left = bonus_fen
    for topup_id, part in allocated:
        topup = by_id[topup_id]
        claw, shortfall = topup_bonus_clawback(
            topup_amount_fen=topup.amount_fen,
            topup_bonus_fen=topup.bonus_fen,
            refunded_before_fen=topup.refunded_fen,
            refund_fen=part,
            bonus_settled_before_fen=topup.bonus_settled_fen,
            bonus_available_fen=bonus_left,
        )
        bonus_left -= claw
        channel = "gateway" if topup.gateway_refunds and not cash_only else "cash"
        parts.append(RefundPart(topup, channel, part, claw, shortfall))
    if rest:
        parts.append(RefundPart(None, "cash", rest))
    return BalanceRefundPlan(
        amount_fen=amount_fen, principal_fen=principal_fen, bonus_fen=bonus_fen, parts=tuple(parts)
    )


def refund_needs_approval(amount_fen: int, *, threshold_fen: int) -> bool:
    """A service-desk wallet refund above the threshold waits for a second person (exactly at it: no)."""
    return amount_fen > max(0, threshold_fen)


def cash_topup_needs_approval(amount_fen: int, *, threshold_fen: int) -> bool:
    """A cash top-up at the service desk above the threshold waits for a second person (exactly at it: no)."""
    return amount_fen > max(0, threshold_fen)
