"""Reconciliation with the gateways' daily bills and WeChat Pay 分账 (profit sharing), docs/reconcile.md.

- `ReconcileRun`: one mall group, provider and bill date (Beijing time), with the day's totals and the count of
  each outcome; re-running the date updates it in place.
- `Finding`: one transaction that did not match (amount differs, missing at the gateway, not known here, paid at
  the gateway but not here), open until an automatic fix-up made it right (fixed) or a person explained it
  (resolved: who, when, the note). A re-run replaces the open findings of its date and keeps the others.
- `ShareReceiver`: a receiver added at the gateway once per group account (分账接收方).
- `ShareOrder`: the one 分账 order of a pay-at-store payment the mall collected: what was planned (the merchant's
  part after commission, the gateway's limit, the cap and why), what the gateway answered, and what must be
  recovered from the merchant when the payment is refunded after the share.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.merchants.models import Merchant
from galleria.payments.models import PaymentAttempt, PaymentRefund
from galleria.payments.types import ProviderChoice

from .types import CapReason as CapReason
from .types import FindingState as FindingState
from .types import FixAction as FixAction
from .types import LineKind as LineKind
from .types import Outcome as Outcome
from .types import RunStatus as RunStatus
from .types import ShareState as ShareState
from .types import SkipReason as SkipReason


class ReconcileRun(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    provider = models.CharField(_("provider"), max_length=10, choices=ProviderChoice.choices)
    bill_date = models.DateField(_("bill date"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.DONE)
    error = models.CharField(_("error"), max_length=300, blank=True)
    bill_payment_count = models.PositiveIntegerField(default=0)
    bill_payment_fen = models.BigIntegerField(_("payments on the bill"), default=0)
    bill_refund_count = models.PositiveIntegerField(default=0)
    bill_refund_fen = models.BigIntegerField(_("refunds on the bill"), default=0)
    fee_fen = models.BigIntegerField(_("gateway fees"), default=0)
    our_payment_count = models.PositiveIntegerField(default=0)
    our_payment_fen = models.BigIntegerField(_("our payments"), default=0)
    our_refund_count = models.PositiveIntegerField(default=0)
    our_refund_fen = models.BigIntegerField(_("our refunds"), default=0)
    counts = models.JSONField(default=dict, blank=True)  # {outcome: lines} of the last run
    runs = models.PositiveIntegerField(default=0)
    first_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_run_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "provider", "bill_date"], name="reconcile_run_once_per_day")
        ]
        indexes = [models.Index(fields=["mall_group", "-bill_date"], name="reconcile_run_group_date_idx")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.bill_date}"


class Finding(models.Model):
    run = models.ForeignKey(ReconcileRun, on_delete=models.CASCADE, related_name="findings")
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    provider = models.CharField(_("provider"), max_length=10, choices=ProviderChoice.choices)
    bill_date = models.DateField(_("bill date"))
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    state = models.CharField(_("state"), max_length=10, choices=FindingState.choices, default=FindingState.OPEN)
    out_trade_no = models.CharField(_("our trade number"), max_length=64)
    out_refund_no = models.CharField(_("our refund number"), max_length=64, blank=True)
    transaction_id = models.CharField(_("gateway transaction"), max_length=64, blank=True)
    gateway_refund_id = models.CharField(_("gateway refund"), max_length=64, blank=True)
    attempt = models.ForeignKey(PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey(PaymentRefund, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    gateway_fen = models.BigIntegerField(_("at the gateway"), null=True, blank=True)
    our_fen = models.BigIntegerField(_("here"), null=True, blank=True)
    fee_fen = models.BigIntegerField(_("fee"), default=0)
    occurred_at = models.DateTimeField(_("time"), null=True, blank=True)
    fix = models.CharField(_("automatic fix-up"), max_length=12, choices=FixAction.choices, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # what was done about it, oldest first: {"at", "by", "action", "result", "note"}
    history = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=100, blank=True)
    resolved_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reconciliation finding")
        verbose_name_plural = _("reconciliation findings")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "out_trade_no", "out_refund_no"],
                condition=Q(state="open"),
                name="finding_open_once_per_line",
            ),
            models.CheckConstraint(
                condition=Q(state="open") | Q(resolved_at__isnull=False), name="finding_closed_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["mall_group", "state", "-bill_date"], name="finding_group_state_idx"),
            models.Index(fields=["run", "outcome"], name="finding_run_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}:{self.out_refund_no or self.out_trade_no}"


class ShareReceiver(models.Model):
    """A 分账 receiver added at the group's WeChat Pay account (added once; a changed name is added again)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    provider = models.CharField(max_length=10, choices=ProviderChoice.choices, default=ProviderChoice.WECHAT)
    mch_id = models.CharField(max_length=32, blank=True)  # the group's own merchant number the receiver was added to
    receiver_type = models.CharField(max_length=20)
    account = models.CharField(max_length=64)
    name_digest = models.CharField(max_length=64, blank=True)  # SHA-256 of the full name sent, never the name
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("profit-sharing receiver")
        verbose_name_plural = _("profit-sharing receivers")
        constraints = [
            models.UniqueConstraint(
                fields=["mall_group", "provider", "mch_id", "receiver_type", "account", "name_digest"],
                name="share_receiver_added_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.receiver_type}:{self.account}"


class ShareOrder(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    attempt = models.OneToOneField(PaymentAttempt, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    out_trade_no = models.CharField(_("our trade number"), max_length=64)
    transaction_id = models.CharField(_("gateway transaction"), max_length=64)
    out_order_no = models.CharField(_("our profit-sharing number"), max_length=64, unique=True)
    round_no = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(_("state"), max_length=12, choices=ShareState.choices, default=ShareState.PENDING)
    skip_reason = models.CharField(_("why nothing"), max_length=12, choices=SkipReason.choices, blank=True)
    cap_reason = models.CharField(_("why capped"), max_length=12, choices=CapReason.choices, blank=True)
    paid_fen = models.BigIntegerField(_("paid"))
    refunded_fen = models.BigIntegerField(_("refunded when planned"), default=0)
    base_fen = models.BigIntegerField(_("base"))
    commission_bp = models.PositiveIntegerField(_("commission (basis points)"))
    commission_fen = models.BigIntegerField(_("commission"))
    part_fen = models.BigIntegerField(_("merchant's part"))
    limit_bp = models.PositiveIntegerField(_("limit (basis points)"))
    limit_fen = models.BigIntegerField(_("limit"))
    amount_fen = models.BigIntegerField(_("shared"))
    capped_fen = models.BigIntegerField(_("left for the statement"), default=0)
    receiver_type = models.CharField(max_length=20, blank=True)
    receiver_account = models.CharField(_("receiver"), max_length=64, blank=True)
    receiver_name = models.CharField(max_length=80, blank=True)
    description = models.CharField(max_length=80, blank=True)
    order_id = models.CharField(_("gateway order"), max_length=64, blank=True)
    receiver_result = models.CharField(_("receiver result"), max_length=12, blank=True)
    fail_reason = models.CharField(_("failure"), max_length=200, blank=True)
    refusal = models.CharField(_("gateway's refusal"), max_length=500, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker sending it holds it until then
    unfrozen_at = models.DateTimeField(_("rest unfrozen"), null=True, blank=True)
    unfreeze_error = models.CharField(max_length=300, blank=True)
    recover_fen = models.BigIntegerField(_("to recover from the merchant"), default=0)
    refund_seen_fen = models.BigIntegerField(default=0)  # the payment's refunds when recover_fen was computed
    history = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profit-sharing order")
        verbose_name_plural = _("profit-sharing orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0) & Q(capped_fen__gte=0) & Q(recover_fen__gte=0),
                name="share_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["mall_group", "-created_at"], name="share_group_created_idx"),
            models.Index(fields=["state", "updated_at"], name="share_state_idx"),
        ]

    def __str__(self) -> str:
        return self.out_order_no
