"""Enums and frozen values that cross the parking app's boundary (docs/parking.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class GateDirection(models.TextChoices):
    ENTRY = "entry", pgettext_lazy("parking gate", "Entry")
    EXIT = "exit", pgettext_lazy("parking gate", "Exit")
    BOTH = "both", pgettext_lazy("parking gate", "Entry and exit")


class SessionState(models.TextChoices):
    PARKED = "parked", _("Parked")
    EXITED = "exited", _("Left")
    CLOSED = "closed", _("Closed as an exception")


class SessionException(models.TextChoices):
    NONE = "", _("None")
    NO_ENTRY = "no_entry", _("Exit without an entry")
    NO_EXIT = "no_exit", _("Entry without an exit")
    UNPAID_EXIT = "unpaid_exit", _("Left without paying")
    LOST_TICKET = "lost_ticket", _("Lost ticket")
    PLATE_CORRECTED = "plate_corrected", _("Plate corrected")


class EventKind(models.TextChoices):
    ENTRY = "entry", pgettext_lazy("parking event", "Entry")
    EXIT_REQUEST = "exit_request", pgettext_lazy("parking event", "Exit request")
    EXIT = "exit", pgettext_lazy("parking event", "Exit")
    PAYMENT = "payment", pgettext_lazy("parking event", "Payment elsewhere")
    PLATE_CORRECTION = "plate_correction", pgettext_lazy("parking event", "Plate correction")


class EventOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    DUPLICATE = "duplicate", _("Duplicate (already applied)")
    REPAIRED = "repaired", _("Applied late (out of order)")
    EXCEPTION = "exception", _("Recorded as an exception")
    IGNORED = "ignored", _("Ignored")


class PaymentSource(models.TextChoices):
    APP = "app", _("Member app")
    AUTO = "auto", _("Frictionless exit")
    THIRD_PARTY = "third_party", _("Paid at the car park")


class ClaimStatus(models.TextChoices):
    """A member's proof that a plate is theirs (a vehicle licence photo), reviewed at the service desk."""

    PENDING = "pending", pgettext_lazy("plate claim", "Waiting for review")
    APPROVED = "approved", pgettext_lazy("plate claim", "Verified")
    REJECTED = "rejected", pgettext_lazy("plate claim", "Not accepted")
    WITHDRAWN = "withdrawn", pgettext_lazy("plate claim", "Withdrawn")
    EXPIRED = "expired", pgettext_lazy("plate claim", "Expired unreviewed")


class Decision(models.TextChoices):
    OPEN = "open", _("Open the barrier")
    PAY = "pay", _("Pay first")


@dataclass(frozen=True)
class FeeView:
    """A stay's fee now, explained (parking.selectors.session_fee): what the interfaces show and the API returns."""

    session_id: int
    plate: str
    entry_at: dt.datetime | None
    at: dt.datetime
    stay_minutes: int
    gross_fen: int
    benefits_fen: int
    net_fen: int  # the fee after benefits, for the whole stay
    paid_fen: int  # already paid for this stay
    due_fen: int  # what is still to pay now (0 within the leave-by window after a payment)
    leave_by: dt.datetime | None
    tariff_code: str
    segments: tuple[dict[str, object], ...] = ()
    benefits: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class ExitDecision:
    decision: str  # Decision value
    session_id: int | None
    plate: str
    due_fen: int
    reason: str  # a key: "paid" | "free" | "auto_paid" | "within_grace" | "unpaid" | "unknown_plate" | …
    fee: FeeView | None = None
    auto_paid_fen: int = 0
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayTender:
    """Money a payment gateway took for a stay: `method` is the provider ("wechat" / "alipay", the sale's payment
    method, as pay at store names it), `reference` our trade number at the gateway."""

    method: str
    amount_fen: int
    reference: str
