"""Wallet (储值): top-up bonus rules, top-ups, payments from the wallet and their refunds.

The money itself lives in the ledger: the member's MEMBER_WALLET (principal, their own money) and
MEMBER_WALLET_BONUS (the mall's gift) accounts, against the system accounts WALLET_FLOAT (cash received),
WALLET_BONUS_FUND (bonus granted) and WALLET_SPENT (per merchant). The rows here are the business records that
explain those movements; each points at its ledger transaction.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.ledger.models import Transaction
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant

from .types import BalanceRefundPayout as BalanceRefundPayout
from .types import BalanceRefundStatus as BalanceRefundStatus
from .types import RefundChannel as RefundChannel
from .types import TopUpStatus as TopUpStatus


class TopUpBonusRule(models.Model):
    """Top up at least `min_amount_fen`, get `bonus_fen`. The best single tier applies (no stacking)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="topup_bonus_rules")
    name = models.CharField(_("name"), max_length=80)
    min_amount_fen = models.BigIntegerField(_("minimum top-up (fen)"))
    bonus_fen = models.BigIntegerField(_("bonus (fen)"))
    starts_on = models.DateField(_("first day"), null=True, blank=True)
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("top-up bonus rule")
        verbose_name_plural = _("top-up bonus rules")
        constraints = [
            models.CheckConstraint(condition=Q(min_amount_fen__gt=0), name="topup_rule_min_positive"),
            models.CheckConstraint(
                condition=Q(bonus_fen__gt=0, bonus_fen__lte=F("min_amount_fen")), name="topup_rule_bonus_range"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="topup_rule_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["mall_group", "is_active"])]

    def __str__(self) -> str:
        return self.name


class TopUp(models.Model):
    """A member putting money into the wallet through a payment gateway. The bonus is fixed when it starts.

    Cash taken at the service desk (services.cash, gateway "cash") records who took it (`requested_by`) and the
    desk's `note`. Above GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN it waits (status pending, `approval_required`,
    `decided_at` empty) until a second person approves it (credited) or rejects it (status cancelled: the desk
    gives the cash back); `decided_by` / `decided_at` / `decision_note` record that. A top-up credited at once at
    the desk has `decided_at` set and no `decided_by`.
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="topups")
    amount_fen = models.BigIntegerField(_("amount"))
    bonus_fen = models.BigIntegerField(_("bonus"), default=0)
    bonus_rule = models.ForeignKey(
        TopUpBonusRule, null=True, blank=True, on_delete=models.PROTECT, related_name="topups"
    )
    status = models.CharField(_("status"), max_length=20, choices=TopUpStatus.choices, default=TopUpStatus.PENDING)
    gateway = models.CharField(_("payment gateway"), max_length=20)
    reference = models.CharField(_("our reference"), max_length=32, unique=True)  # out-trade-number
    gateway_ref = models.CharField(_("gateway reference"), max_length=64, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_tx = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    bonus_clawed_back_fen = models.BigIntegerField(_("bonus clawed back"), default=0)
    bonus_shortfall_fen = models.BigIntegerField(_("bonus already spent when refunded"), default=0)
    requested_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cash taken by"),
    )
    approval_required = models.BooleanField(_("needs a second approval"), default=False)
    decided_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0, bonus_fen__gte=0), name="topup_amounts_valid"),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0, refunded_fen__lte=F("amount_fen")), name="topup_refund_max"
            ),
            models.CheckConstraint(
                condition=Q(bonus_clawed_back_fen__gte=0, bonus_shortfall_fen__gte=0)
                & Q(bonus_clawed_back_fen__lte=F("bonus_fen") - F("bonus_shortfall_fen")),
                name="topup_clawback_max",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "cancelled"]) | Q(paid_at__isnull=False, paid_tx__isnull=False),
                name="topup_paid_has_time_and_tx",
            ),
            models.CheckConstraint(  # only a desk top-up is cancelled: decided, never credited
                condition=~Q(status="cancelled") | Q(gateway="cash", paid_tx__isnull=True, decided_at__isnull=False),
                name="topup_cancelled_unpaid",
            ),
            models.CheckConstraint(
                condition=Q(approval_required=False) | Q(gateway="cash"), name="topup_approval_only_at_desk"
            ),
            models.CheckConstraint(  # the four-eyes rule, backed by the database
                condition=Q(decided_by__isnull=True) | Q(requested_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="topup_decided_by_another",
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="topup_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["mall_group", "status", "-created_at"]),
            models.Index(fields=["mall_group", "-decided_at"], condition=Q(gateway="cash"), name="topup_desk_decided"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_awaiting_approval(self) -> bool:
        """Cash taken at the desk above the threshold, not yet approved or rejected: no gateway may credit it."""
        return self.status == TopUpStatus.PENDING and self.approval_required and self.decided_at is None


class TopUpRefund(models.Model):
    """Cash back from a top-up, with the bonus clawed back in proportion (and any shortfall).

    `channel` gateway: the money goes back through the top-up's gateway (a refund under `refund_reference`, sent
    after the booking commits; `sent_at` / `gateway_refund_ref` once the gateway accepted it). `channel` cash: paid
    out at the service desk (posted to WALLET_CASH_PAYOUT instead of the float). `balance_refund` links the parts of
    a service-desk wallet refund.
    """

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    balance_refund = models.ForeignKey(
        "BalanceRefund", null=True, blank=True, on_delete=models.PROTECT, related_name="topup_refunds"
    )
    channel = models.CharField(
        _("paid back by"), max_length=10, choices=RefundChannel.choices, default=RefundChannel.GATEWAY
    )
    refund_reference = models.CharField(_("our refund reference"), max_length=32, blank=True)
    gateway_refund_ref = models.CharField(_("gateway refund reference"), max_length=64, blank=True)
    sent_at = models.DateTimeField(_("accepted by the gateway at"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    send_error = models.CharField(_("last gateway error"), max_length=200, blank=True)
    amount_fen = models.BigIntegerField(_("amount"))
    bonus_clawed_back_fen = models.BigIntegerField(_("bonus clawed back"), default=0)
    bonus_shortfall_fen = models.BigIntegerField(_("bonus shortfall"), default=0)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("refunded at"))
    created_at = models.DateTimeField(auto_now_add=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("top-up refund")
        verbose_name_plural = _("top-up refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="topup_refund_positive"),
            models.UniqueConstraint(
                fields=["topup", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="topup_refund_key_unique",
            ),
            models.UniqueConstraint(
                fields=["refund_reference"], condition=~Q(refund_reference=""), name="topup_refund_reference_unique"
            ),
        ]


class WalletPayment(models.Model):
    """A payment from the wallet at a merchant (or the mall itself when `merchant` is empty, e.g. parking).

    `source` names what was paid ("sale:123", "order:9"); it is unique per mall group when given, so the same
    purchase cannot be paid twice.
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="wallet_payments")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField(_("amount"))
    principal_fen = models.BigIntegerField(_("from own money"))
    bonus_fen = models.BigIntegerField(_("from bonus"))
    refunded_principal_fen = models.BigIntegerField(_("principal refunded"), default=0)
    refunded_bonus_fen = models.BigIntegerField(_("bonus refunded"), default=0)
    source = models.CharField(_("source"), max_length=60, blank=True)
    occurred_at = models.DateTimeField(_("paid at"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("wallet payment")
        verbose_name_plural = _("wallet payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0, principal_fen__gte=0, bonus_fen__gte=0)
                & Q(amount_fen=F("principal_fen") + F("bonus_fen")),
                name="wallet_payment_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_principal_fen__gte=0, refunded_principal_fen__lte=F("principal_fen"))
                & Q(refunded_bonus_fen__gte=0, refunded_bonus_fen__lte=F("bonus_fen")),
                name="wallet_payment_refund_max",
            ),
            models.UniqueConstraint(
                fields=["mall_group", "source"], condition=~Q(source=""), name="wallet_payment_source_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-occurred_at"]),
            models.Index(fields=["merchant", "-occurred_at"]),
        ]

    @property
    def refunded_fen(self) -> int:
        return self.refunded_principal_fen + self.refunded_bonus_fen


class WalletRefund(models.Model):
    """Money of a wallet payment given back to the wallet (split back over principal and bonus)."""

    payment = models.ForeignKey(WalletPayment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField(_("amount"))
    principal_fen = models.BigIntegerField(_("to own money"))
    bonus_fen = models.BigIntegerField(_("to bonus"))
    source = models.CharField(_("source"), max_length=60, blank=True)
    occurred_at = models.DateTimeField(_("refunded at"))
    created_at = models.DateTimeField(auto_now_add=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("wallet refund")
        verbose_name_plural = _("wallet refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0, principal_fen__gte=0, bonus_fen__gte=0)
                & Q(amount_fen=F("principal_fen") + F("bonus_fen")),
                name="wallet_refund_parts_add_up",
            ),
            models.UniqueConstraint(
                fields=["payment", "source"], condition=~Q(source=""), name="wallet_refund_source_unique"
            ),
        ]


class BalanceRefund(models.Model):
    """Wallet money (principal) given back to the member at the service desk, e.g. before the account is erased.

    Above GALLERIA_WALLET_REFUND_APPROVAL_FEN it waits for a second person's approval (status pending, nothing
    moved). When carried out, the amount is split over the member's paid top-ups, newest first (rules.
    allocate_balance_refund): each part is a TopUpRefund of that top-up (bonus clawed back in proportion), paid back
    through the top-up's gateway where it has one, else in cash; money no top-up explains is paid out in cash
    (`cash_transaction`, WALLET −x / WALLET_CASH_PAYOUT +x).
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="balance_refunds")
    amount_fen = models.BigIntegerField(_("amount"))
    payout = models.CharField(
        _("pay back"), max_length=10, choices=BalanceRefundPayout.choices, default=BalanceRefundPayout.ORIGINAL
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=BalanceRefundStatus.choices)
    idempotency_key = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("requested by")
    )
    decided_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    done_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    to_gateway_fen = models.BigIntegerField(_("to the original channel"), default=0)
    in_cash_fen = models.BigIntegerField(_("in cash"), default=0)
    bonus_clawed_back_fen = models.BigIntegerField(_("bonus clawed back"), default=0)
    bonus_shortfall_fen = models.BigIntegerField(_("bonus shortfall"), default=0)
    cash_transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("wallet balance refund")
        verbose_name_plural = _("wallet balance refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="balance_refund_positive"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(amount_fen=F("to_gateway_fen") + F("in_cash_fen")),
                name="balance_refund_parts_add_up",
            ),
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="balance_refund_one_pending"
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="balance_refund_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["mall_group", "status", "-created_at"]),
            models.Index(fields=["member", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.amount_fen}"
