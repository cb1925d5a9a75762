"""Benefits that reduce a parking fee (what the caller passes in) and the lines that say what each one took off.

The order they apply in, and why hours come off the end of the stay, are in docs/parking.md, section "Benefits and
the order they apply in"; `fees.calculate_fee` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import FeeError
from .tariff import check_count, check_fen

__all__ = [
    "NO_BENEFITS",
    "BenefitKind",
    "BenefitLine",
    "Benefits",
    "Funder",
    "MerchantGrant",
    "ParkingCoupon",
    "spend_hours",
]

MAX_BENEFIT_HOURS = 24 * 31


class Funder(StrEnum):
    MALL = "mall"
    MERCHANT = "merchant"


class BenefitKind(StrEnum):
    TIER_HOURS = "tier_hours"
    SPEND_HOURS = "spend_hours"
    MERCHANT_GRANT = "merchant_grant"
    COUPON_HOURS = "coupon_hours"
    COUPON_AMOUNT = "coupon_amount"


def _check_id(value: object, field: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise FeeError("parking.benefit", f"{field} is a string of 1 to 64 characters", field=field)


def spend_step(spend_today_fen: int, steps: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """The (threshold_fen, hours) step with the highest threshold the spend reaches; validates every step."""
    best: tuple[int, int] | None = None
    for step in steps:
        if len(step) != 2:
            raise FeeError("parking.spend_steps", "a step is (threshold_fen, hours)", field="spend_steps")
        threshold, hours = step
        check_fen(threshold, "spend_steps.threshold_fen")
        check_count(hours, "spend_steps.hours", low=0, high=MAX_BENEFIT_HOURS)
        if threshold <= spend_today_fen and (best is None or threshold > best[0]):
            best = (threshold, hours)
    return best


def spend_hours(spend_today_fen: int, steps: Iterable[tuple[int, int]]) -> int:
    """Hours earned by today's spend: the step with the highest threshold ≤ spend (exact fen, `>=`), else 0."""
    check_fen(spend_today_fen, "spend_today_fen")
    best = spend_step(spend_today_fen, steps)
    return best[1] if best else 0


@dataclass(frozen=True)
class MerchantGrant:
    """Hours a merchant granted to the visitor's plate; billed to `merchant_id` for what they actually covered."""

    grant_id: str
    merchant_id: str
    hours: int

    def __post_init__(self) -> None:
        _check_id(self.grant_id, "grant_id")
        _check_id(self.merchant_id, "merchant_id")
        check_count(self.hours, "hours", low=1, high=MAX_BENEFIT_HOURS)


@dataclass(frozen=True)
class ParkingCoupon:
    """A parking coupon: free hours, or an amount off (exactly one). `funder` says who pays for what it covers."""

    coupon_id: str
    hours: int = 0
    amount_fen: int = 0
    funder: Funder = Funder.MALL
    funder_id: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.coupon_id, "coupon_id")
        check_count(self.hours, "hours", low=0, high=MAX_BENEFIT_HOURS)
        check_fen(self.amount_fen, "amount_fen")
        if (self.hours > 0) == (self.amount_fen > 0):
            raise FeeError("parking.coupon", "a parking coupon gives hours or an amount", field="coupon_id")
        object.__setattr__(self, "funder", Funder(self.funder))
        if self.funder_id is not None:
            _check_id(self.funder_id, "funder_id")


@dataclass(frozen=True)
class Benefits:
    """Everything that may reduce one stay's fee. Hours are given for this stay (the caller applies any daily quota).

    `spend_steps` are (threshold_fen, hours): the highest threshold the member's spend today reaches gives its hours.
    Merchant grants and coupons are applied in the order given.
    """

    tier_hours: int = 0
    spend_today_fen: int = 0
    spend_steps: tuple[tuple[int, int], ...] = ()
    merchant_grants: tuple[MerchantGrant, ...] = ()
    coupons: tuple[ParkingCoupon, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "spend_steps", tuple(tuple(step) for step in self.spend_steps))
        object.__setattr__(self, "merchant_grants", tuple(self.merchant_grants))
        object.__setattr__(self, "coupons", tuple(self.coupons))
        check_count(self.tier_hours, "tier_hours", low=0, high=MAX_BENEFIT_HOURS)
        check_fen(self.spend_today_fen, "spend_today_fen")
        spend_step(self.spend_today_fen, self.spend_steps)  # validates the steps
        if not all(isinstance(g, MerchantGrant) for g in self.merchant_grants):
            raise FeeError("parking.benefit", "merchant_grants are MerchantGrant values", field="merchant_grants")
        if not all(isinstance(c, ParkingCoupon) for c in self.coupons):
            raise FeeError("parking.benefit", "coupons are ParkingCoupon values", field="coupons")
        if len({g.grant_id for g in self.merchant_grants}) != len(self.merchant_grants):
            raise FeeError("parking.benefit_duplicate", "a merchant grant is given twice", field="merchant_grants")
        if len({c.coupon_id for c in self.coupons}) != len(self.coupons):
            raise FeeError("parking.benefit_duplicate", "a coupon is given twice", field="coupons")


NO_BENEFITS = Benefits()


@dataclass(frozen=True)
class BenefitLine:
    """What one benefit took off. `fen` is what its funder is billed; a line with `fen == 0` was not needed."""

    kind: BenefitKind
    source_id: str | None  # grant id / coupon id
    funder: Funder
    funder_id: str | None  # the merchant for merchant-funded lines
    minutes_offered: int
    minutes_used: int
    fen: int
    key: str
    params: Mapping[str, int | str]

    @property
    def is_used(self) -> bool:
        return self.fen > 0
