"""Values of the payments app that other layers read: states, purposes and what a started payment returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProviderChoice(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class Purpose(models.TextChoices):
    TOPUP = "topup", _("Wallet top-up")
    STORE = "store", _("Pay at store")
    PARKING = "parking", _("Parking")
    EXCHANGE = "exchange", _("Points mall exchange")  # fulfilled by galleria.commerce (services_gateway.py)
    ONLINE = "online", _("Online mall order")  # one attempt per online checkout (docs/design/online-mall.md)
    EVENT = "event", _("Event registration")  # fulfilled by galleria.events (services_gateway.py)


class AttemptState(models.TextChoices):
    """created → paying → paid | failed | closed. A paid attempt stays paid; refunds are PaymentRefund rows."""

    CREATED = "created", pgettext_lazy("payment state", "Created")
    PAYING = "paying", pgettext_lazy("payment state", "Waiting for the payer")
    PAID = "paid", pgettext_lazy("payment state", "Paid")
    FAILED = "failed", pgettext_lazy("payment state", "Failed")
    CLOSED = "closed", pgettext_lazy("payment state", "Closed unpaid")


class Fulfilment(models.TextChoices):
    """What a paid attempt did on our side."""

    PENDING = "pending", _("Not yet")
    DONE = "done", _("Done")
    REFUNDED = "refunded", _("Could not be honoured: refunded in full")
    REVIEW = "review", _("Needs review")


class RefundState(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("refund state", "Requested")
    PROCESSING = "processing", pgettext_lazy("refund state", "Processing at the gateway")
    SUCCEEDED = "succeeded", pgettext_lazy("refund state", "Refunded")
    FAILED = "failed", pgettext_lazy("refund state", "Failed")


class NoticeOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    DUPLICATE = "duplicate", _("Already applied (redelivery)")
    UNKNOWN = "unknown", _("Unknown order: acknowledged, nothing changed")
    MISMATCH = "mismatch", _("Amount does not match: flagged for review")
    IGNORED = "ignored", _("Nothing to do")
    FORGED = "forged", _("Did not verify: refused, nothing changed")


@dataclass(frozen=True)
class PaymentStarted:
    """A started payment: where to send the payer (`pay_kind` + `payload`, see gateways.base.PayStart)."""

    attempt_id: int
    out_trade_no: str
    provider: str
    amount_fen: int
    pay_kind: str
    payload: Mapping[str, str]
    expires_at: dt.datetime


@dataclass(frozen=True)
class PaidAttempt:
    """What a fulfiler of another app (services/fulfilment.py) is told about a paid attempt: the money arrived,
    exactly `amount_fen`, at `paid_at`; `order` is what its start kept on the attempt."""

    attempt_id: int
    out_trade_no: str
    purpose: str
    provider: str
    amount_fen: int
    member_id: int | None
    mall_group_id: int
    order: Mapping[str, object]
    paid_at: dt.datetime
    transaction_id: str


@dataclass(frozen=True)
class Fulfilled:
    """What a fulfiler did: the sale it recorded through the checkout pipeline, if any."""

    sale_id: int | None = None


@dataclass(frozen=True)
class AttemptView:
    attempt_id: int
    out_trade_no: str
    provider: str
    purpose: str
    state: str
    fulfilment: str
    amount_fen: int
    refunded_fen: int
    created_at: dt.datetime
    paid_at: dt.datetime | None
    member_id: int | None
    merchant_id: int | None
    store_id: int | None
    sale_id: int | None
    topup_id: int | None
    failure: str = ""
    order: Mapping[str, object] = field(default_factory=dict)
