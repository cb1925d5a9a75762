from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    """`points` per `unit_fen` paid, funded by `funder` (merchant share in basis points when split)."""

    points: int
    unit_fen: int
    source: str  # "policy" | "rule:<id>"
    scope: str  # "group" | "mall" | "category" | "merchant"
    funder: str
    merchant_share_bp: int


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    multiplier_bp: int


@dataclass(frozen=True)
class EarnLine:
    """A basket line as the earn calculation sees it: what the member paid for it (money, not points)."""

    sku: str
    category: str
    paid_fen: int


@dataclass(frozen=True)
class EarnConfig:
    rate: Rate
    tier_code: str
    tier_multiplier_bp: int
    campaign: Campaign | None
    min_spend_fen: int
    per_sale_cap: int | None
    daily_cap: int | None
    excluded_categories: frozenset[str]
    excluded_skus: frozenset[str]


@dataclass(frozen=True)
class EarnResult:
    points: int
    base_fen: int
    line_points: tuple[int, ...]  # the points split over the lines (largest remainder), excluded lines get 0
    explanation: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RedeemConfig:
    points_per_yuan: int
    min_points: int
    multiple: int
    max_share_bp: int


@dataclass(frozen=True)
class ExpiryConfig:
    policy: str
    days: int


@dataclass(frozen=True)
class LotView:
    id: int
    remaining: int
    expires_on: dt.date | None
