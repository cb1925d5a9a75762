"""Values of the reconcile app that other layers read: outcomes, finding and share states, and what a run or a
share plan returns (docs/reconcile.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

GATEWAY_TZ = "Asia/Shanghai"  # both gateways date their bills in Beijing time, whatever the mall's time zone


class Outcome(models.TextChoices):
    """How one transaction compares between the gateway's bill and Galleria's records."""

    MATCHED = "matched", _("Matched")
    AMOUNT_MISMATCH = "amount", _("Amount differs")
    MISSING = "missing", _("Missing at the gateway")
    EXTRA = "extra", _("Not known here")
    STATE_MISMATCH = "state", _("Paid at the gateway, not here")


FINDING_OUTCOMES = (Outcome.AMOUNT_MISMATCH, Outcome.MISSING, Outcome.EXTRA, Outcome.STATE_MISMATCH)


class LineKind(models.TextChoices):
    PAYMENT = "payment", pgettext_lazy("bill line", "Payment")
    REFUND = "refund", pgettext_lazy("bill line", "Refund")


class FindingState(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding state", "Open")
    FIXED = "fixed", pgettext_lazy("finding state", "Fixed")  # an automatic action made it right
    RESOLVED = "resolved", pgettext_lazy("finding state", "Resolved")  # a person explained it


class RunStatus(models.TextChoices):
    DONE = "done", pgettext_lazy("reconciliation run", "Done")
    FAILED = "failed", pgettext_lazy("reconciliation run", "Could not download the bill")


class FixAction(models.TextChoices):
    """The automatic fix-up a finding offers (besides resolving it with a note)."""

    NONE = "", _("None: explain and resolve")
    SYNC = "sync", _("Ask the gateway and apply the payment")
    REFUND_SYNC = "refund_sync", _("Ask the gateway about the refund and apply it")
    REFUND_SEND = "refund_send", _("Send the refund to the gateway again")
    QUERY = "query", _("Ask the gateway what it holds")


class ShareState(models.TextChoices):
    """A 分账 order: pending (planned, not yet accepted) → processing (accepted) → finished | closed (the receiver
    could not be paid); refused (the gateway said no, with its reason); skipped (nothing to share: see reason)."""

    PENDING = "pending", pgettext_lazy("profit sharing", "Pending")
    PROCESSING = "processing", pgettext_lazy("profit sharing", "Processing at the gateway")
    FINISHED = "finished", pgettext_lazy("profit sharing", "Finished")
    CLOSED = "closed", pgettext_lazy("profit sharing", "Closed: the receiver was not paid")
    REFUSED = "refused", pgettext_lazy("profit sharing", "Refused by the gateway")
    SKIPPED = "skipped", pgettext_lazy("profit sharing", "Nothing to share")


SHARE_OPEN_STATES = (ShareState.PENDING, ShareState.PROCESSING)


class CapReason(models.TextChoices):
    """Why less than the merchant's part was shared (the rest is paid with the monthly statement, by transfer)."""

    NONE = "", _("Not capped")
    LIMIT = "limit", _("The gateway's profit-sharing limit")
    UNSPLIT = "unsplit", _("Less left to share at the gateway (refunded or shared already)")


class SkipReason(models.TextChoices):
    NONE = "", "—"
    NO_RECEIVER = "no_receiver", _("The merchant has no profit-sharing receiver")
    REFUNDED = "refunded", _("Refunded before it could be shared")
    NOTHING = "nothing", _("The merchant's part is zero")
    LIMIT_ZERO = "limit_zero", _("Nothing may be shared within the limit")
    UNSPLIT = "unsplit", _("Nothing left to share at the gateway")


@dataclass(frozen=True)
class SharePlan:
    """What to share of one payment (rules.share_plan): every figure in fen."""

    base_fen: int  # paid minus refunded
    commission_bp: int
    commission_fen: int
    part_fen: int  # the merchant's part: base − commission
    limit_bp: int
    limit_fen: int  # what the gateway's limit allows in all for this payment
    amount_fen: int  # what to ask the gateway to share now
    capped_fen: int  # part − amount: left for the statement (bank transfer)
    cap_reason: str
    skip_reason: str = ""


@dataclass(frozen=True)
class RunResult:
    run_id: int
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    open_findings: int = 0
    error: str = ""


@dataclass(frozen=True)
class DayTotals:
    """Sums of one day's bill and of our records, as a run stores them."""

    bill_payment_count: int = 0
    bill_payment_fen: int = 0
    bill_refund_count: int = 0
    bill_refund_fen: int = 0
    fee_fen: int = 0
    our_payment_count: int = 0
    our_payment_fen: int = 0
    our_refund_count: int = 0
    our_refund_fen: int = 0


@dataclass(frozen=True)
class SweepResult:
    created: int = 0
    sent: int = 0
    finished: int = 0
    failed: int = 0
    unfrozen: int = 0
    recover_flagged: int = 0
