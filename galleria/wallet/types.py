"""Values that cross the wallet's boundary (frozen; no model instances)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class BonusTier:
    """A top-up bonus rule as the pure rule sees it: top up at least `min_amount_fen`, get `bonus_fen`."""

    id: int | None
    min_amount_fen: int
    bonus_fen: int
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    is_active: bool = True


@dataclass(frozen=True)
class BonusChoice:
    bonus_fen: int
    rule_id: int | None


class Split(NamedTuple):
    """An amount in two parts: the member's own money (principal) and the mall's gift (bonus)."""

    principal_fen: int
    bonus_fen: int


class WalletBalance(NamedTuple):
    principal_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True)
class PaymentNotice:
    """What a gateway tells us about a paid intent (for the sandbox: what `SandboxGateway.pay` returns)."""

    gateway: str
    gateway_ref: str
    reference: str
    amount_fen: int


@dataclass(frozen=True)
class TopUpIntent:
    """Returned by `wallet_topup_start`: the caller has the member pay `gateway_ref` at `gateway`."""

    topup_id: int
    reference: str  # our out-trade-number, sent to the gateway
    gateway: str
    gateway_ref: str  # the gateway's payment intent id
    amount_fen: int
    bonus_fen: int
    bonus_rule_id: int | None


@dataclass(frozen=True)
class TopUpResult:
    """Returned by `wallet_topup_confirm`; identical for every confirmation of the same top-up."""

    topup_id: int
    member_id: int
    amount_fen: int
    bonus_fen: int
    paid_at: dt.datetime
    transaction_id: int


@dataclass(frozen=True)
class WalletPaymentResult:
    payment_id: int
    member_id: int
    merchant_id: int | None
    amount_fen: int
    principal_fen: int
    bonus_fen: int
    transaction_id: int
    source: str


@dataclass(frozen=True)
class WalletRefundResult:
    refund_id: int
    payment_id: int
    amount_fen: int
    principal_fen: int
    bonus_fen: int
    transaction_id: int


@dataclass(frozen=True)
class TopUpRefundResult:
    refund_id: int
    topup_id: int
    amount_fen: int
    bonus_clawed_back_fen: int
    bonus_shortfall_fen: int  # bonus the member no longer had (already spent): recorded, never taken below zero
    transaction_id: int
    status: str


@dataclass(frozen=True)
class HistoryItem:
    """One ledger transaction as it touched the member's wallet (principal and bonus deltas, signed fen)."""

    transaction_id: int
    occurred_at: dt.datetime
    kind: str
    source: str
    memo: str
    principal_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True)
class PrepaidLiability:
    """What the mall group owes wallet holders, derived from ledger legs (no cached balance is read).

    `principal_fen` / `bonus_fen` aggregate the legs of the member wallet accounts; `system_total_fen` is the same
    liability seen from the system side: −(cash float + bonus funding + spent at merchants). The two always agree
    because every CNY transaction balances; `is_consistent` says so.
    """

    principal_fen: int
    bonus_fen: int
    float_fen: int  # WALLET_FLOAT + WALLET_CASH_PAYOUT legs (negative: cash received net of all money paid back)
    bonus_fund_fen: int  # WALLET_BONUS_FUND legs (negative: bonus granted net of bonus clawed back)
    spent_fen: int  # WALLET_SPENT legs (positive: paid to merchants net of refunds)
    cash_paid_out_fen: int = 0  # of float_fen: WALLET_CASH_PAYOUT legs (paid back in cash at the service desk)

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen

    @property
    def system_total_fen(self) -> int:
        return -(self.float_fen + self.bonus_fund_fen + self.spent_fen)

    @property
    def is_consistent(self) -> bool:
        return self.total_fen == self.system_total_fen


@dataclass(frozen=True)
class TopUpSnapshot:
    """A paid top-up as the refund plan sees it (rules.plan_balance_refund)."""

    id: int
    reference: str
    gateway: str
    paid_at: dt.datetime | None
    amount_fen: int
    bonus_fen: int
    refunded_fen: int
    bonus_settled_fen: int  # bonus clawed back + shortfall recorded by earlier refunds of this top-up
    gateway_refunds: bool  # its gateway can refund it (else it is paid back in cash)

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen


@dataclass(frozen=True)
class RefundPart:
    """One part of a wallet balance refund: from one top-up (`topup` set) or the cash remainder (`topup` None)."""

    topup: TopUpSnapshot | None
    channel: str  # RefundChannel: gateway | cash
    amount_fen: int
    bonus_clawed_back_fen: int = 0
    bonus_shortfall_fen: int = 0


@dataclass(frozen=True)
class BalanceRefundPlan:
    """What refunding `amount_fen` of the wallet does: the parts, where the money goes, the bonus taken back."""

    amount_fen: int
    principal_fen: int  # the member's own money before the refund
    bonus_fen: int  # the bonus before the refund
    parts: tuple[RefundPart, ...]

    @property
    def to_gateway_fen(self) -> int:
        return sum(p.amount_fen for p in self.parts if p.channel == "gateway")

    @property
    def in_cash_fen(self) -> int:
        return sum(p.amount_fen for p in self.parts if p.channel == "cash")

    @property
    def bonus_clawed_back_fen(self) -> int:
        return sum(p.bonus_clawed_back_fen for p in self.parts)

    @property
    def bonus_shortfall_fen(self) -> int:
        return sum(p.bonus_shortfall_fen for p in self.parts)

    @property
    def principal_after_fen(self) -> int:
        return self.principal_fen - self.amount_fen

    @property
    def bonus_after_fen(self) -> int:
        return self.bonus_fen - self.bonus_clawed_back_fen


CASH_GATEWAY = "cash"
"""The gateway name of money taken at the service desk (services.CashDesk; services.cash records who took it)."""


class TopUpStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    # a cash top-up at the service desk that a second person rejected: never credited, the cash given back
    CANCELLED = "cancelled", pgettext_lazy("top-up", "Cancelled")


class RefundChannel(models.TextChoices):
    """How the money of a top-up refund goes back to the member."""

    GATEWAY = "gateway", _("Original payment channel")
    CASH = "cash", _("Cash at the service desk")


class BalanceRefundPayout(models.TextChoices):
    ORIGINAL = "original", _("To the original payment channel where possible, the rest in cash")
    CASH = "cash", _("All in cash at the service desk")


class BalanceRefundStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    DONE = "done", _("Refunded")
    REJECTED = "rejected", _("Rejected")
