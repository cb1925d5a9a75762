"""Pure points arithmetic. Rounding: earned points are FLOORED once, after every multiplier, on the exact
rational value base_fen × points / unit_fen × tier_bp/10000 × campaign_bp/10000. Splits use largest remainder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError
from galleria.core.money import allocate

from .types import EarnConfig, EarnLine, EarnResult, ExpiryConfig, LotView, RedeemConfig

BP = 10000


def earn(*, lines: Sequence[EarnLine], config: EarnConfig, earned_today: int = 0) -> EarnResult:
    """Points for a basket. `lines[i].paid_fen` is what the member paid (cash, card, gateway, wallet) for line i."""
    eligible = [
        line.category not in config.excluded_categories and line.sku not in config.excluded_skus for line in lines
    ]
    base = sum(line.paid_fen for line, ok in zip(lines, eligible, strict=True) if ok and line.paid_fen > 0)
    campaign_bp = config.campaign.multiplier_bp if config.campaign else BP
    exact = (
        Fraction(base * config.rate.points, config.rate.unit_fen)
        * Fraction(config.tier_multiplier_bp, BP)
        * Fraction(campaign_bp, BP)
    )
    raw = int(exact)  # floor (exact is non-negative)
    points = raw
    capped_by = None
    if base < config.min_spend_fen:
        points, capped_by = 0, "min_spend"
    if config.per_sale_cap is not None and points > config.per_sale_cap:
        points, capped_by = config.per_sale_cap, "per_sale_cap"
    if config.daily_cap is not None and points > max(config.daily_cap - earned_today, 0):
        points, capped_by = max(config.daily_cap - earned_today, 0), "daily_cap"
    weights = [line.paid_fen if ok and line.paid_fen > 0 else 0 for line, ok in zip(lines, eligible, strict=True)]
    line_points = allocate(points, weights) if any(weights) else [0] * len(lines)
    explanation: dict[str, object] = {
        "base_fen": base,
        "rate": {
            "points": config.rate.points,
            "per_fen": config.rate.unit_fen,
            "source": config.rate.source,
            "scope": config.rate.scope,
        },
        "tier": {"code": config.tier_code, "multiplier_bp": config.tier_multiplier_bp},
        "campaign": (
            {"id": config.campaign.id, "name": config.campaign.name, "multiplier_bp": campaign_bp}
            if config.campaign
            else None
        ),
        "excluded_lines": [i for i, ok in enumerate(eligible) if not ok],
        "uncapped": raw,
        "capped_by": capped_by,
        "points": points,
        "funder": config.rate.funder,
    }
    return EarnResult(points=points, base_fen=base, line_points=tuple(line_points), explanation=explanation)


def funding_split(*, points: int, funder: str, merchant_share_bp: int) -> tuple[int, int]:
    """(mall part, merchant part); a split gives the merchant floor(points × share) and the mall the rest."""
    if funder == "merchant":
        return 0, points
    if funder == "split":
        merchant_part = points * merchant_share_bp // BP
        return points - merchant_part, merchant_part
    return points, 0


def redeem_value_fen(*, points: int, config: RedeemConfig) -> int:
    """The money value of `points` used as payment; points must be whole multiples, so the value is exact."""
    return points * 100 // config.points_per_yuan


def check_redemption(*, points: int, sale_total_fen: int, balance: int, config: RedeemConfig) -> int:
    """Validate points used as payment and return their value in fen. Over-limit requests are errors, never capped."""
    if points <= 0:
        raise ValidationError(_("Points to use must be positive."), code="points.invalid_amount")
    if points < config.min_points:
        raise ValidationError(
            _("At least %(n)s points must be used at once.") % {"n": config.min_points},
            code="points.below_minimum",
            extra={"min_points": config.min_points},
        )
    if points % config.multiple:
        raise ValidationError(
            _("Points are used in whole multiples of %(n)s.") % {"n": config.multiple},
            code="points.not_multiple",
            extra={"multiple": config.multiple},
        )
    if (points * 100) % config.points_per_yuan:
        raise ValidationError(_("These points are not worth a whole number of fen."), code="points.not_multiple")
    value = redeem_value_fen(points=points, config=config)
    max_value = sale_total_fen * config.max_share_bp // BP
    if value > max_value:
        raise ValidationError(
            _("Points can pay at most %(pct)s%% of this sale.") % {"pct": config.max_share_bp / 100},
            code="points.over_max_share",
            extra={"max_points": max_points(sale_total_fen=sale_total_fen, config=config)},
        )
    if points > balance:
        raise ValidationError(_("Not enough points."), code="points.insufficient", extra={"balance": balance})
    return value


def max_points(*, sale_total_fen: int, config: RedeemConfig, balance: int | None = None) -> int:
    """The most points usable on a sale: bounded by the share, the balance, rounded down to the multiple."""
    by_share = sale_total_fen * config.max_share_bp // BP * config.points_per_yuan // 100
    limit = by_share if balance is None else min(by_share, balance)
    limit -= limit % config.multiple
    return limit if limit >= config.min_points else 0


def expiry_date(*, earned_on: dt.date, config: ExpiryConfig) -> dt.date | None:
    """Mall-local last day on which the points are still valid."""
    if config.policy == "never":
        return None
    if config.policy == "days_after_earn":
        return earned_on + dt.timedelta(days=config.days)
    return dt.date(earned_on.year + 1, 12, 31)


def fifo(lots: Sequence[LotView], points: int) -> list[tuple[int, int]]:
    """Take `points` from lots ordered soonest-expiry first (never-expiring last), oldest first within a date.
    Returns [(lot id, points taken)]. Raises if the lots cannot cover it."""
    ordered = sorted(lots, key=lambda lot: (lot.expires_on is None, lot.expires_on or dt.date.max, lot.id))
    taken: list[tuple[int, int]] = []
    left = points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot.id, take))
            left -= take
    if left:
        raise ValueError("lots do not cover the points")
    return taken


def proportional(total: int, part: int, whole: int) -> int:
    """round-half-up(total × part / whole): the cumulative share of `total` for `part` of `whole`."""
    if whole <= 0:
        return 0
    return (total * part * 2 + whole) // (2 * whole)
