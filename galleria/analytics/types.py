from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Period:
    """Mall-local days [start, end] (both included)."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class RefreshResult:
    slices: int
    last_sale_id: int
    last_refund_id: int
    points_days: int = 0


@dataclass
class Totals:
    sales: int = 0
    gross_fen: int = 0
    refunded_fen: int = 0
    refunds: int = 0
    discount_fen: int = 0
    points_value_fen: int = 0
    paid_fen: int = 0
    points_earned: int = 0
    points_used: int = 0
    member_sales: int = 0
    member_gross_fen: int = 0
    member_refunded_fen: int = 0

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refunded_fen

    @property
    def member_net_fen(self) -> int:
        return self.member_gross_fen - self.member_refunded_fen

    @property
    def member_share_bp(self) -> int | None:
        """Member net sales ÷ all net sales, in basis points (None without sales)."""
        return None if self.net_fen <= 0 else round(self.member_net_fen * 10000 / self.net_fen)

    @property
    def basket_fen(self) -> int | None:
        return None if not self.sales else round(self.gross_fen / self.sales)

    @property
    def member_basket_fen(self) -> int | None:
        return None if not self.member_sales else round(self.member_gross_fen / self.member_sales)

    @property
    def guest_basket_fen(self) -> int | None:
        n = self.sales - self.member_sales
        return None if not n else round((self.gross_fen - self.member_gross_fen) / n)


@dataclass
class SalesOverview:
    period: Period
    compare: Period | None
    totals: Totals
    compare_totals: Totals | None
    by_channel: list[tuple[str, int, int]] = field(default_factory=list)  # (channel, sales, net fen)
    daily: list[tuple[dt.date, int, int]] = field(default_factory=list)  # (day, member net fen, guest net fen)
    top_merchants: list[tuple[int, int, int]] = field(default_factory=list)  # (merchant id, sales, net fen)


@dataclass
class PointsTotals:
    issued: int = 0
    adjusted: int = 0
    redeemed: int = 0
    expired: int = 0

    @property
    def breakage_bp(self) -> int | None:
        """Expired ÷ (redeemed + expired): of the points that left members' hands in the period, the share that
        expired unused (basis points; None when none left)."""
        gone = self.redeemed + self.expired
        return None if gone <= 0 else round(self.expired * 10000 / gone)
