"""Reads of payments for reconciliation and 分账 (galleria.reconcile, docs/reconcile.md).

Payments' tables are private to payments: the reconcile app (above payments in the layering) reads attempts and
refunds only through these functions, as frozen records. Every read is scoped to one mall group and provider, and
lookups by our numbers run in chunks so that a day with many thousands of bill rows stays a few queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q

from .models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund, Purpose, RefundState

CHUNK = 500  # numbers per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class TradeRecord:
    """One payment attempt as reconciliation sees it."""

    attempt_id: int
    mall_group_id: int
    provider: str
    purpose: str
    out_trade_no: str
    state: str
    fulfilment: str
    amount_fen: int  # what we asked (what the sale or top-up records)
    paid_fen: int | None  # what the gateway said was paid
    refunded_fen: int  # booked refunds (requested or done)
    transaction_id: str
    paid_at: dt.datetime | None
    merchant_id: int | None
    sale_id: int | None


@dataclass(frozen=True)
class RefundRecord:
    """One refund we booked at the gateway under our out_refund_no."""

    refund_pk: int
    attempt_id: int
    out_trade_no: str
    out_refund_no: str
    amount_fen: int
    state: str
    gateway_refund_id: str
    created_at: dt.datetime
    succeeded_at: dt.datetime | None
    last_error: str


_TRADE_FIELDS = (
    "pk",
    "mall_group_id",
    "provider",
    "purpose",
    "out_trade_no",
    "state",
    "fulfilment",
    "amount_fen",
    "paid_fen",
    "refunded_fen",
    "transaction_id",
    "paid_at",
    "merchant_id",
    "sale_id",
)
_REFUND_FIELDS = (
    "pk",
    "attempt_id",
    "attempt__out_trade_no",
    "out_refund_no",
    "amount_fen",
    "state",
    "refund_id",
    "created_at",
    "succeeded_at",
    "last_error",
)


def _trade(row: tuple[object, ...]) -> TradeRecord:
    return TradeRecord(*row)  # type: ignore[arg-type]


def _refund(row: tuple[object, ...]) -> RefundRecord:
    return RefundRecord(*row)  # type: ignore[arg-type]


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def trades_paid_between(
    *, mall_group_id: int, provider: str, since: dt.datetime, until: dt.datetime
) -> list[TradeRecord]:
    """Attempts we hold as paid whose payment time (the gateway's success time) lies in [since, until)."""
    rows = (
        PaymentAttempt.objects.filter(
            mall_group_id=mall_group_id,
            provider=provider,
            state=AttemptState.PAID,
            paid_at__gte=since,
            paid_at__lt=until,
        )
        .order_by("paid_at", "pk")
        .values_list(*_TRADE_FIELDS)
    )
    return [_trade(row) for row in rows]


def trades_by_number(*, mall_group_id: int, provider: str, numbers: Collection[str]) -> dict[str, TradeRecord]:
    """Our attempts of the group at the provider, by out_trade_no, among `numbers` (unknown numbers are absent)."""
    found: dict[str, TradeRecord] = {}
    for batch in _chunks(sorted({n for n in numbers if n})):
        rows = PaymentAttempt.objects.filter(
            mall_group_id=mall_group_id, provider=provider, out_trade_no__in=batch
        ).values_list(*_TRADE_FIELDS)
        for row in rows:
            record = _trade(row)
            found[record.out_trade_no] = record
    return found


def trade_record(*, attempt_id: int) -> TradeRecord | None:
    row = PaymentAttempt.objects.filter(pk=attempt_id).values_list(*_TRADE_FIELDS).first()
    return _trade(row) if row is not None else None


def trades_by_ids(*, attempt_ids: Collection[int]) -> dict[int, TradeRecord]:
    found: dict[int, TradeRecord] = {}
    ids = sorted(set(attempt_ids))
    for start in range(0, len(ids), CHUNK):
        for row in PaymentAttempt.objects.filter(pk__in=ids[start : start + CHUNK]).values_list(*_TRADE_FIELDS):
            record = _trade(row)
            found[record.attempt_id] = record
    return found


def _refunds(mall_group_id: int, provider: str) -> Q:
    return Q(attempt__mall_group_id=mall_group_id, attempt__provider=provider)


def refunds_succeeded_between(
    *, mall_group_id: int, provider: str, since: dt.datetime, until: dt.datetime
) -> list[RefundRecord]:
    """Refunds we hold as done (succeeded) whose success we recorded in [since, until)."""
    rows = (
        PaymentRefund.objects.filter(
            _refunds(mall_group_id, provider),
            state=RefundState.SUCCEEDED,
            succeeded_at__gte=since,
            succeeded_at__lt=until,
        )
        .order_by("succeeded_at", "pk")
        .values_list(*_REFUND_FIELDS)
    )
    return [_refund(row) for row in rows]


def refunds_not_accepted_between(
    *, mall_group_id: int, provider: str, since: dt.datetime, until: dt.datetime
) -> list[RefundRecord]:
    """Refunds booked in [since, until) that the gateway has not accepted: still to send (requested) or refused
    (failed). The member is owed this money and the gateway's bill cannot show it."""
    rows = (
        PaymentRefund.objects.filter(
            _refunds(mall_group_id, provider),
            state__in=(RefundState.REQUESTED, RefundState.FAILED),
            created_at__gte=since,
            created_at__lt=until,
        )
        .order_by("created_at", "pk")
        .values_list(*_REFUND_FIELDS)
    )
    return [_refund(row) for row in rows]


def refunds_by_number(*, mall_group_id: int, provider: str, numbers: Collection[str]) -> dict[str, RefundRecord]:
    found: dict[str, RefundRecord] = {}
    for batch in _chunks(sorted({n for n in numbers if n})):
        rows = PaymentRefund.objects.filter(_refunds(mall_group_id, provider), out_refund_no__in=batch).values_list(
            *_REFUND_FIELDS
        )
        for row in rows:
            record = _refund(row)
            found[record.out_refund_no] = record
    return found


def refund_record(*, refund_pk: int) -> RefundRecord | None:
    row = PaymentRefund.objects.filter(pk=refund_pk).values_list(*_REFUND_FIELDS).first()
    return _refund(row) if row is not None else None


def store_trades_to_share(
    *, provider: str, paid_since: dt.datetime, after_id: int = 0, limit: int = 500
) -> list[TradeRecord]:
    """Pay-at-store payments the mall collected that are paid and recorded as a sale (fulfilment done), paid since
    `paid_since`, in id order after `after_id`: the candidates of the 分账 sweep (it skips those it already has)."""
    rows = (
        PaymentAttempt.objects.filter(
            provider=provider,
            purpose=Purpose.STORE,
            state=AttemptState.PAID,
            fulfilment=Fulfilment.DONE,
            paid_at__gte=paid_since,
            pk__gt=after_id,
        )
        .exclude(transaction_id="")
        .order_by("pk")
        .values_list(*_TRADE_FIELDS)[:limit]
    )
    return [_trade(row) for row in rows]
