"""Enums and frozen dataclasses of settlement with merchants (docs/settlement.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StatementStatus(models.TextChoices):
    """draft → confirmed | disputed → approved → paid. A disputed statement goes back to draft when finance
    regenerates it, or on to approved when finance settles the dispute; confirmed and later never change."""

    DRAFT = "draft", pgettext_lazy("statement status", "Draft")
    CONFIRMED = "confirmed", pgettext_lazy("statement status", "Confirmed by the merchant")
    DISPUTED = "disputed", pgettext_lazy("statement status", "Disputed")
    APPROVED = "approved", pgettext_lazy("statement status", "Approved")
    PAID = "paid", pgettext_lazy("statement status", "Paid")


# figures of these statements are final: a late posting goes to a supplementary statement of the same period
FROZEN_STATUSES = (StatementStatus.CONFIRMED, StatementStatus.APPROVED, StatementStatus.PAID)
OPEN_STATUSES = (StatementStatus.DRAFT, StatementStatus.DISPUTED)


class EventAction(models.TextChoices):
    GENERATED = "generated", pgettext_lazy("statement event", "Generated")
    REGENERATED = "regenerated", pgettext_lazy("statement event", "Regenerated")
    CONFIRMED = "confirmed", pgettext_lazy("statement event", "Confirmed by the merchant")
    DISPUTED = "disputed", pgettext_lazy("statement event", "Disputed by the merchant")
    APPROVED = "approved", pgettext_lazy("statement event", "Approved by finance")
    PAID = "paid", pgettext_lazy("statement event", "Payment recorded")


class Figure(models.TextChoices):
    """A statement figure whose legs can be listed (the drill-down)."""

    COLLECTED = "collected", _("Money collected for the merchant")
    WALLET = "wallet", _("Wallet payments")
    POINTS_VALUE = "points_value", _("Points redeemed as payment")
    COUPON_MALL = "coupon_mall", _("Mall-funded discounts")
    MERCHANT_POINTS = "merchant_points", _("Merchant-funded points")
    COUPON_MERCHANT = "coupon_merchant", _("Merchant-funded discounts")
    PARKING_GRANTS = "parking_grants", _("Parking granted to customers")
    COMMISSION = "commission", pgettext_lazy("settlement", "Commission")
    PAYOUT = "payout", _("Settlement payment")
    SALES = "sales", _("Sales (commission base)")
    REFUNDS = "refunds", _("Refunds (commission base)")


@dataclass(frozen=True)
class Period:
    """A settlement period: mall-local calendar days [start, end); monthly by default."""

    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        """ "2026-11" for a calendar month, "2026-11-01–2026-11-15" otherwise."""
        if self.start.day == 1 and self.end == next_month(self.start):
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m-%d}–{(self.end - dt.timedelta(days=1)):%Y-%m-%d}"


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class LedgerFigures:
    """One merchant's settlement legs in a period, summed per account kind as the ledger stores them (signed: on a
    merchant's account positive = the mall owes the merchant), and its sales for the commission base."""

    merchant_collected: int = 0
    wallet_spent: int = 0
    points_value_redeemed: int = 0
    coupon_mall_funded: int = 0
    merchant_points_cost: int = 0
    coupon_merchant_funded: int = 0
    parking_grant_cost: int = 0
    sales: int = 0  # sales recorded in the period (count)
    sales_fen: int = 0  # their line amounts (before coupons)
    refunds: int = 0  # refunds made in the period (count)
    refunds_fen: int = 0  # line value refunded

    def minus(self, other: LedgerFigures) -> LedgerFigures:
        return LedgerFigures(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class StatementFigures:
    """A statement's figures in fen, as the merchant reads them (rules.statement_figures)."""

    collected_fen: int  # 1. money the mall collected for the merchant (net of refunds)        + mall owes
    wallet_fen: int  # 2. wallet payments taken at the merchant (net of refunds)                 + mall owes
    points_value_fen: int  # 3. points members paid with at the merchant, at their value         + mall owes
    coupon_mall_fen: int  # 4. mall-funded coupon and promotion discounts                        + mall owes
    merchant_points_fen: int  # 5. points the merchant funds, at their value                     + merchant owes
    coupon_merchant_fen: int  # 5'. merchant-funded discounts: information, no money moves
    parking_grants_fen: int  # 6. parking fees the merchant's grants covered                       + merchant owes
    sales_count: int
    sales_fen: int  # sales recorded in Galleria in the period (line amounts)
    refunds_fen: int  # refunds made in the period (line value)
    commission_base_fen: int  # 7. sales − refunds − merchant-funded discounts
    commission_bp: int
    commission_fen: int  # 7. commission on the base at the rate                                 + merchant owes
    net_fen: int  # 8. 1+2+3+4 − 5 − 6 − 7: positive = the mall pays the merchant, negative = the merchant pays

    @property
    def payable_fen(self) -> int:
        """What the mall owes the merchant before commission and points funding (1+2+3+4)."""
        return self.collected_fen + self.wallet_fen + self.points_value_fen + self.coupon_mall_fen


@dataclass(frozen=True)
class GenerateResult:
    period: Period
    created: int
    regenerated: int
    unchanged: int
    supplements: int
    statement_ids: tuple[int, ...]


@dataclass(frozen=True)
class Leg:
    """One ledger leg behind a figure (the drill-down), or a sale / refund behind the commission base."""

    occurred_at: dt.datetime
    amount_fen: int
    kind: str  # the ledger transaction's kind, or "sale" / "refund"
    source: str  # e.g. "sale:123", "refund:45", "settlement:7", "parking_grant:9"
    memo: str
    transaction_id: int | None
    # a parking grant's leg (figure 6): the plate as the ledger recorded it (masked) and the hours granted; empty
    # for other legs, and in the exports (the memo says the same)
    plate: str = ""
    hours: int | None = None


# The ledger account kinds (galleria.ledger's AccountKind values, stable strings stored in every account row) behind
# each figure; LedgerFigures has one field per kind, named after it. Settlement reads the ledger only through
# ledger.selectors and writes it only through ledger.services (tests/test_rules.py checks these kinds exist).
FIGURE_ACCOUNTS: dict[str, str] = {
    Figure.COLLECTED: "merchant_collected",
    Figure.WALLET: "wallet_spent",
    Figure.POINTS_VALUE: "points_value_redeemed",
    Figure.COUPON_MALL: "coupon_mall_funded",
    Figure.MERCHANT_POINTS: "merchant_points_cost",
    Figure.COUPON_MERCHANT: "coupon_merchant_funded",
    Figure.PARKING_GRANTS: "parking_grant_cost",
}
COMMISSION_ACCOUNT, COMMISSION_INCOME_ACCOUNT = "commission", "commission_income"
PAYOUT_ACCOUNT, BANK_ACCOUNT = "merchant_payout", "settlement_bank"
TX_COMMISSION, TX_PAYOUT = "commission", "payout"  # ledger TransactionKind values
# a merchant's parking grants (docs/parking.md, "Merchant grants"): posted by the parking app when a stay's fee used
# a grant, the merchant's PARKING_GRANT_COST against the group's PARKING_GRANT_INCOME (rules.parking_grant_legs)
PARKING_GRANT_ACCOUNT, PARKING_INCOME_ACCOUNT = "parking_grant_cost", "parking_grant_income"
TX_PARKING_GRANT = "parking_grant"  # ledger TransactionKind value
