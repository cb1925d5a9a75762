"""Gateway notifications and queries: what the gateway says about a payment or a refund, applied exactly once.

`notice_receive` verifies a notification with the adapter (a forged one is logged and refused, nothing changes)
and applies it in one durable transaction: the notice row (unique per provider and event id: a redelivery
finds it), then the attempt row under lock — its state, not the notice id, is what makes a payment count once,
whatever order or how many times notifications arrive — then what the payment was for, in the same transaction:
the wallet top-up is credited, or the pay-at-store sale is recorded through the checkout pipeline (channel
`pay_at_store`), or — for a purpose of an app above payments (parking) — that app's registered fulfiler
(fulfilment.py). A basket the pipeline (or the fulfiler) can no longer honour (points spent meanwhile, a coupon gone,
a parking fee that stepped up) is refunded in full at the gateway, never half-recorded. An unknown order is
acknowledged and changes nothing. The e-receipt and the merchant's share (分账) are task rows written in that same
transaction (see `_paid_tasks`).

It runs on every notification, so its own statements are fixed SQL (payments/sql.py; docs/performance.md): the
credential, the notice row in one `INSERT … ON CONFLICT DO NOTHING` (a redelivery stops there), the attempt locked
by its trade number, and the attempt's new state written with the notice's outcome.

`attempt_sync` asks the gateway (trade query) about an attempt still waiting, and applies the answer through the
same path: a member back from the cashier before the notification arrived sees the result at once.
`attempts_expire` closes attempts nobody paid after their expiry (querying first: a late payment is applied)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db import DatabaseBackend

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue, enqueue_many
from galleria.sales.services import sale_commit_in_tx
from galleria.sales.types import Channel, PaymentIn, SaleIn
from galleria.wallet.services import wallet_topup_confirm_in_tx

from .. import sql as payments_sql
from ..gateways.base import (
    ForgedNoticeError,
    GatewayError,
    Notice,
    NoticeAck,
    NoticeKind,
    RefundState,
    TradeState,
)
from ..models import (
    AttemptState,
    Fulfilment,
    NoticeOutcome,
    PaymentAttempt,
    PaymentNotice,
    PaymentRefund,
    Purpose,
)
from ..models import RefundState as OurRefundState
from ..types import PaidAttempt
from ._gateway import credential_read, gateway_of
from .fulfilment import fulfiler_for
from .mall_points import mall_notice_apply_in_tx
from .starts import store_lines

log = logging.getLogger("galleria.payments")
RECEIPT_TASK = "galleria.payments.tasks.payment_receipt_task"
REFUND_TASK = "galleria.payments.tasks.refund_send_task"
STORE_PAID = "payment.store_fulfilled"  # the event a fulfilled pay-at-store payment publishes (分账 starts)


def notice_receive(*, provider: str, credential_id: int, headers: Mapping[str, str], body: bytes) -> NoticeAck:
    """A notification as it arrived over HTTP → the answer the gateway expects."""
    credential = credential_read(credential_id=credential_id, provider=provider)
    if credential is None:
        _log_forged(provider=provider, mall_group_id=None, reason="unknown_credential", body=body)
        return NoticeAck(status=404, content_type="text/plain", body=b"unknown")
    gateway = gateway_of(credential)
    try:
        notice = gateway.notice_parse(headers=headers, body=body, now=timezone.now())
    except ForgedNoticeError as exc:
        _log_forged(provider=provider, mall_group_id=credential.mall_group_id, reason=exc.code, body=body)
        return gateway.notice_ack(ok=False)
    notice_apply(notice=notice, mall_group_id=credential.mall_group_id)
    return gateway.notice_ack(ok=True)


def _log_forged(*, provider: str, mall_group_id: int | None, reason: str, body: bytes) -> None:
    log.warning("payments: refused a %s notification that did not verify (%s)", provider, reason)
    PaymentNotice.objects.create(
        mall_group_id=mall_group_id,
        provider=provider,
        verified=False,
        outcome=NoticeOutcome.FORGED,
        detail={"reason": reason, "size": len(body), "head": body[:200].decode("utf-8", "replace")},
    )


def notice_apply(*, notice: Notice, mall_group_id: int) -> str:
    """Apply one verified notice (or a query's answer shaped as one); returns the outcome. Idempotent."""
    with transaction.atomic(durable=True):
        # the notice row first, in one statement: a redelivery (or a concurrent delivery of the same event, which
        # this waits for) writes nothing and learns it here — the event's first delivery decided
        notice_id = payments_sql.notice_insert_verified(
            mall_group_id=mall_group_id,
            provider=notice.provider,
            event_id=notice.event_id[:80],
            kind=notice.kind,
            outcome=NoticeOutcome.IGNORED,
            out_trade_no=(notice.out_trade_no or notice.transaction_id)[:64],
            detail=_json(notice.raw),
            at=timezone.now(),
        )
        if notice_id is None:
            return NoticeOutcome.DUPLICATE
        if notice.kind == NoticeKind.PAYMENT:
            return _apply_payment(notice, notice_id=notice_id)
        if notice.kind == NoticeKind.REFUND:
            outcome = _apply_refund(notice)
        else:
            outcome = mall_notice_apply_in_tx(notice=notice, mall_group_id=mall_group_id)
        payments_sql.notice_outcome_set(notice_id, outcome)
        return outcome


def _json(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(k): (v if isinstance(v, str | int | float | bool | dict | list | type(None)) else str(v))
        for k, v in raw.items()
    }


def _apply_payment(notice: Notice, *, notice_id: int) -> str:
    """The payment notice's effect and the notice's outcome (written with the attempt when it changes)."""
    attempt = payments_sql.attempt_lock_by_trade_no(notice.out_trade_no)
    if attempt is None or attempt.provider != notice.provider:
        return _outcome(notice_id, NoticeOutcome.UNKNOWN)
    if notice.trade_state not in (TradeState.SUCCESS, TradeState.REFUND):
        return _outcome(notice_id, NoticeOutcome.IGNORED)
    if attempt.state == AttemptState.PAID:
        return _outcome(notice_id, NoticeOutcome.DUPLICATE)
    paid = notice.amount_fen
    paid_at = notice.paid_at or timezone.now()
    attempt.state, attempt.paid_at, attempt.paid_fen = AttemptState.PAID, paid_at, paid
    attempt.transaction_id, attempt.payer = notice.transaction_id[:64], notice.payer[:64]
    if paid != attempt.amount_fen:  # money arrived, but not what we asked: nobody is credited, finance reviews
        attempt.fulfilment, attempt.failure = Fulfilment.REVIEW, f"paid {paid} fen, asked {attempt.amount_fen}"
        payments_sql.attempt_paid_save(attempt, notice_id=notice_id, outcome=NoticeOutcome.MISMATCH)
        log.error("payments: %s paid %s fen, expected %s", attempt.out_trade_no, paid, attempt.amount_fen)
        return NoticeOutcome.MISMATCH
    if attempt.purpose == Purpose.TOPUP:
        assert attempt.topup_id is not None
        wallet_topup_confirm_in_tx(topup_id=attempt.topup_id, paid_amount_fen=paid, paid_at=paid_at)
        attempt.fulfilment = Fulfilment.DONE
    elif attempt.purpose == Purpose.STORE:
        _fulfil_store(attempt)
    else:
        _fulfil_registered(attempt)
    payments_sql.attempt_paid_save(attempt, notice_id=notice_id, outcome=NoticeOutcome.APPLIED)
    _paid_tasks(attempt)
    return NoticeOutcome.APPLIED


def _outcome(notice_id: int, outcome: str) -> str:
    payments_sql.notice_outcome_set(notice_id, outcome)
    return outcome


def _paid_tasks(attempt: PaymentAttempt) -> None:
    """What a paid attempt sets off, after its sale or top-up is written: the merchant's share (分账, the handlers of
    `payment.store_fulfilled`) once a store payment is fulfilled, and the member's e-receipt — sent once, and only
    for a committed payment. With the database task backend every task row is written in this transaction, in one
    INSERT (it commits or rolls back with the payment: a transactional outbox); any other backend may run a task
    at once, so the receipt waits for the commit (`on_commit`) there."""
    calls: list[tuple[str, dict[str, Any]]] = []
    if attempt.purpose == Purpose.STORE and attempt.fulfilment == Fulfilment.DONE:
        # what core.events.publish("payment.store_fulfilled", attempt_id=…) enqueues, in the same INSERT
        calls += [(path, {"attempt_id": attempt.pk}) for path in settings.GALLERIA_EVENT_HANDLERS.get(STORE_PAID, ())]
    attempt_id = attempt.pk
    if _outbox_in_transaction():
        enqueue_many([*calls, (RECEIPT_TASK, {"attempt_id": attempt_id})])
        return
    enqueue_many(calls)
    transaction.on_commit(lambda: enqueue(RECEIPT_TASK, attempt_id=attempt_id))


def _outbox_in_transaction() -> bool:
    """Whether the receipt task's backend writes its rows in the caller's database transaction."""
    return isinstance(import_string(RECEIPT_TASK).get_backend(), DatabaseBackend)


def _fulfil_store(attempt: PaymentAttempt) -> None:
    """Record the pay-at-store sale through the checkout pipeline; a basket it refuses is refunded in full."""
    order = attempt.order
    assert attempt.merchant_id is not None and attempt.store_id is not None
    data = SaleIn(
        merchant_id=attempt.merchant_id,
        store_id=attempt.store_id,
        terminal_id=None,
        pos_sale_id=f"pay:{attempt.out_trade_no}",
        occurred_at=timezone.now(),
        lines=store_lines(store_name=str(order["name"]), total_fen=int(order["total_fen"])),
        payments=(PaymentIn(method=attempt.provider, amount_fen=attempt.amount_fen),),
        member_id=attempt.member_id,
        points_to_use=int(order.get("points", 0)),
        coupon_ids=tuple(int(c) for c in order.get("coupons", [])),
        channel=Channel.PAY_AT_STORE,
    )
    try:
        with transaction.atomic():
            result = sale_commit_in_tx(data=data, actor=Actor.system("payments:pay-at-store"))
    except ApplicationError as exc:
        _refund_in_full(attempt, code=exc.code, reason="basket_changed")
        return
    attempt.sale_id, attempt.fulfilment = result.sale_id, Fulfilment.DONE


def _fulfil_registered(attempt: PaymentAttempt) -> None:
    """A purpose another app fulfils (services/fulfilment.py), in a savepoint: its ApplicationError → the payment
    is refunded in full, as a refused pay-at-store basket. No fulfiler registered: finance reviews it."""
    fulfil = fulfiler_for(attempt.purpose)
    if fulfil is None:
        attempt.fulfilment, attempt.failure = Fulfilment.REVIEW, f"no fulfiler for {attempt.purpose}"[:200]
        log.error("payments: %s paid, but nothing fulfils %s", attempt.out_trade_no, attempt.purpose)
        return
    paid = PaidAttempt(
        attempt_id=attempt.pk,
        out_trade_no=attempt.out_trade_no,
        purpose=attempt.purpose,
        provider=attempt.provider,
        amount_fen=attempt.amount_fen,
        member_id=attempt.member_id,
        mall_group_id=attempt.mall_group_id,
        order=dict(attempt.order),
        paid_at=attempt.paid_at or timezone.now(),
        transaction_id=attempt.transaction_id,
    )
    try:
        with transaction.atomic():
            done = fulfil(paid)
    except ApplicationError as exc:
        _refund_in_full(attempt, code=exc.code, reason="not_honoured")
        return
    attempt.sale_id, attempt.fulfilment = done.sale_id, Fulfilment.DONE


def _refund_in_full(attempt: PaymentAttempt, *, code: str, reason: str) -> None:
    """The paid attempt could not be honoured (`code`): all of it goes back at the gateway (the refund row now, in
    this transaction; sent by a task after commit)."""
    attempt.fulfilment, attempt.failure = Fulfilment.REFUNDED, code[:200]
    refund = PaymentRefund.objects.create(
        attempt=attempt,
        out_refund_no=f"R{attempt.out_trade_no}"[:64],
        amount_fen=attempt.amount_fen,
        reason=reason,
        origin=f"auto:{code}"[:60],
    )
    attempt.refunded_fen = attempt.amount_fen
    enqueue(REFUND_TASK, refund_id=refund.pk)
    log.warning("payments: %s could not be recorded (%s): refunded in full", attempt.out_trade_no, code)


def _apply_refund(notice: Notice) -> str:
    found = PaymentRefund.objects.filter(out_refund_no=notice.out_refund_no).first()
    if found is None:
        return NoticeOutcome.UNKNOWN
    refund = lock_one(PaymentRefund.objects.filter(pk=found.pk))
    if refund.state in (OurRefundState.SUCCEEDED, OurRefundState.FAILED):
        return NoticeOutcome.DUPLICATE
    if notice.refund_state == RefundState.SUCCESS:
        refund.state, refund.succeeded_at = OurRefundState.SUCCEEDED, timezone.now()
    elif notice.refund_state in (RefundState.CLOSED, RefundState.ABNORMAL):
        refund.state, refund.last_error = OurRefundState.FAILED, str(notice.refund_state)
    else:
        return NoticeOutcome.IGNORED
    refund.refund_id = refund.refund_id or notice.refund_id[:64]
    refund.save(update_fields=["state", "succeeded_at", "last_error", "refund_id"])
    return NoticeOutcome.APPLIED


# ---------------------------------------------------------------------------------------------------- queries


def attempt_sync(*, attempt_id: int) -> str:
    """Ask the gateway about an attempt still waiting and apply what it says (outside any lock first)."""
    attempt = PaymentAttempt.objects.select_related("credential").filter(pk=attempt_id).first()
    if attempt is None or attempt.state not in (AttemptState.PAYING, AttemptState.CREATED):
        return attempt.state if attempt else ""
    try:
        trade = gateway_of(attempt.credential).trade_query(out_trade_no=attempt.out_trade_no)
    except GatewayError:
        return attempt.state
    if trade is None or trade.state not in (TradeState.SUCCESS, TradeState.REFUND):
        return attempt.state
    notice = Notice(
        provider=attempt.credential.provider,  # type: ignore[arg-type]
        kind=NoticeKind.PAYMENT,
        event_id=f"query:{trade.transaction_id or attempt.out_trade_no}",
        out_trade_no=attempt.out_trade_no,
        transaction_id=trade.transaction_id,
        trade_state=trade.state,
        amount_fen=trade.paid_fen if trade.paid_fen is not None else trade.amount_fen,
        paid_at=trade.paid_at,
        payer=trade.payer,
        raw={"source": "trade_query"},
    )
    notice_apply(notice=notice, mall_group_id=attempt.mall_group_id)
    attempt.refresh_from_db(fields=["state"])
    return attempt.state


# an attempt the gateway cannot be asked about is left for the next run, but not for ever: this long after its expiry
# it is closed here anyway (the caller may then cancel what it paid for; a payment arriving later is refunded in
# full, as any payment its fulfiler refuses)
GIVE_UP_AFTER = dt.timedelta(minutes=30)


def attempt_finish(*, out_trade_no: str, now: dt.datetime | None = None) -> str:
    """Settle one attempt past its expiry, outside any transaction (docs/design/online-mall.md §10): ask the
    gateway and apply a late payment (through its fulfiler, like a notification), else close it at the gateway
    and here. Returns the attempt's state after: `paid`, `closed`, or — the gateway unreachable — still `paying`
    / `created` (try again later; `closed` regardless once GIVE_UP_AFTER has passed since its expiry). An attempt
    already settled returns its state; "" when there is no such attempt."""
    moment = now or timezone.now()
    found = PaymentAttempt.objects.filter(out_trade_no=out_trade_no).values_list("pk", flat=True).first()
    if found is None:
        return ""
    if attempt_sync(attempt_id=found) == AttemptState.PAID:
        return AttemptState.PAID
    attempt = PaymentAttempt.objects.select_related("credential").get(pk=found)
    if attempt.state not in (AttemptState.CREATED, AttemptState.PAYING):
        return attempt.state
    try:
        if attempt.state == AttemptState.PAYING:
            gateway_of(attempt.credential).trade_close(out_trade_no=attempt.out_trade_no)
    except GatewayError:
        if attempt.expires_at is None or moment < attempt.expires_at + GIVE_UP_AFTER:
            return attempt.state
        log.warning("payments: %s unreachable at the gateway since its expiry: closed here", out_trade_no)
    closed = PaymentAttempt.objects.filter(pk=attempt.pk, state__in=(AttemptState.CREATED, AttemptState.PAYING)).update(
        state=AttemptState.CLOSED, closed_at=moment
    )
    if closed:
        return AttemptState.CLOSED
    attempt.refresh_from_db(fields=["state"])  # a notification won meanwhile
    return attempt.state


def attempts_expire(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Close attempts past their expiry that nobody paid (the scheduler runs this every few minutes)."""
    moment = now or timezone.now()
    counts = {"paid": 0, "closed": 0, "errors": 0}
    due = PaymentAttempt.objects.filter(
        state__in=(AttemptState.CREATED, AttemptState.PAYING), expires_at__lt=moment
    ).values_list("out_trade_no", flat=True)[:limit]
    for out_trade_no in list(due):
        state = attempt_finish(out_trade_no=out_trade_no, now=moment)
        if state == AttemptState.PAID:
            counts["paid"] += 1
        elif state == AttemptState.CLOSED:
            counts["closed"] += 1
        elif state in (AttemptState.CREATED, AttemptState.PAYING):
            counts["errors"] += 1
    return counts
