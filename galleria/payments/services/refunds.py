"""Money back through the gateway: a merchant refunding a pay-at-store payment (the sale is refunded through the
checkout pipeline — points and coupons rolled back in proportion — and the money part goes back at the gateway),
a top-up refunded to its original channel (the wallet books it and calls TopUpRefundGateway), and the automatic
full refund of a payment the pipeline could not honour. Each is a PaymentRefund row under our out_refund_no,
sent by a task after the booking commits (never inside a lock) and retried until the gateway accepts it; the
gateway's refund notification (or query) marks it succeeded."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue
from galleria.sales.selectors import sale_refundable
from galleria.sales.services import sale_refund_in_tx
from galleria.sales.types import RefundLineIn, RefundResult

from .. import exceptions
from ..gateways.base import GatewayRefusedError, GatewayUnavailableError
from ..gateways.base import RefundState as GatewayRefundState
from ..models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund, RefundState
from ._gateway import gateway_of

REFUND_TASK = "galleria.payments.tasks.refund_send_task"


def refund_send(*, refund_id: int) -> bool:
    """Send one booked refund to the gateway (idempotent there per out_refund_no). True once it is accepted."""
    refund = PaymentRefund.objects.select_related("attempt__credential").filter(pk=refund_id).first()
    if refund is None or refund.state != RefundState.REQUESTED:
        return refund is not None
    attempt = refund.attempt
    rows = PaymentRefund.objects.filter(pk=refund.pk, state=RefundState.REQUESTED)
    try:
        answer = gateway_of(attempt.credential).refund_start(
            out_trade_no=attempt.out_trade_no,
            out_refund_no=refund.out_refund_no,
            refund_fen=refund.amount_fen,
            total_fen=attempt.paid_fen or attempt.amount_fen,
            reason=refund.reason,
        )
    except GatewayUnavailableError as exc:
        rows.update(send_attempts=F("send_attempts") + 1, last_error=f"unavailable: {exc}"[:200])
        return False
    except GatewayRefusedError as exc:
        rows.update(
            send_attempts=F("send_attempts") + 1, state=RefundState.FAILED, last_error=f"{exc.code}: {exc}"[:200]
        )
        return False
    done = answer.state == GatewayRefundState.SUCCESS
    rows.update(
        send_attempts=F("send_attempts") + 1,
        last_error="",
        refund_id=answer.refund_id[:64],
        state=RefundState.SUCCEEDED if done else RefundState.PROCESSING,
        succeeded_at=timezone.now() if done else None,
    )
    return True


def refunds_resend(*, limit: int = 200) -> int:
    """Send refunds the gateway has not accepted yet (the scheduler runs this); returns how many were accepted."""
    ids = list(
        PaymentRefund.objects.filter(state=RefundState.REQUESTED).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    return sum(1 for refund_id in ids if refund_send(refund_id=refund_id))


def attempt_refund_book_in_tx(
    *,
    out_trade_no: str,
    amount_fen: int,
    out_refund_no: str,
    merchant_id: int | None = None,
    reason: str = "",
    origin: str = "",
) -> int:
    """Inside the caller's transaction (an online order's return or cancellation, whose sale refund it pays back):
    book `amount_fen` of a paid attempt to go back at its gateway — one PaymentRefund under our `out_refund_no`,
    `merchant_id` naming whose part of a several-merchant payment it is (分账) — and send it by a task after commit.
    The attempt's refunded total grows in one conditional UPDATE (never beyond what was paid: RefundNotAllowedError);
    the attempt row is not locked before (a paid attempt is only ever changed by such UPDATEs). The same
    `out_refund_no` again returns the first booking (idempotent); with other details IdempotencyConflictError.
    Returns the refund's id."""
    if amount_fen <= 0:
        raise exceptions.AmountInvalidError(extra={"amount_fen": amount_fen})
    if not out_refund_no or len(out_refund_no) > 64:
        raise ValueError("out_refund_no has 1-64 characters")
    attempt = PaymentAttempt.objects.filter(out_trade_no=out_trade_no).first()
    if attempt is None:
        raise NotFoundError(code="payments.not_found", extra={"out_trade_no": out_trade_no})
    previous = PaymentRefund.objects.filter(out_refund_no=out_refund_no).first()
    if previous is not None:
        if (previous.attempt_id, previous.amount_fen, previous.merchant_id) != (attempt.pk, amount_fen, merchant_id):
            raise exceptions.IdempotencyConflictError(extra={"out_refund_no": out_refund_no})
        return previous.pk
    grown = PaymentAttempt.objects.filter(
        pk=attempt.pk,
        state=AttemptState.PAID,
        refunded_fen__lte=Coalesce(F("paid_fen"), F("amount_fen")) - amount_fen,
    ).update(refunded_fen=F("refunded_fen") + amount_fen)
    if not grown:
        raise exceptions.RefundNotAllowedError(extra={"state": attempt.state, "amount_fen": amount_fen})
    refund = PaymentRefund.objects.create(
        attempt=attempt,
        out_refund_no=out_refund_no,
        amount_fen=amount_fen,
        merchant_id=merchant_id,
        reason=reason[:80],
        origin=origin[:60],
    )
    enqueue(REFUND_TASK, refund_id=refund.pk)
    return refund.pk


class TopUpRefundGateway:
    """The wallet's RefundGateway (settings.GALLERIA_WALLET_REFUND_GATEWAYS): refund part of a top-up's payment at
    the gateway it was paid through. Called by the wallet's send task, outside any transaction."""

    name = "payments"

    def refund(self, *, gateway_ref: str, amount_fen: int, total_fen: int, refund_reference: str) -> str:
        attempt = PaymentAttempt.objects.filter(out_trade_no=gateway_ref).first()
        if attempt is None or attempt.state != AttemptState.PAID:
            raise LookupError(f"no paid payment {gateway_ref!r}")
        with transaction.atomic():  # a savepoint when a test's immediate task backend runs this inside the booking
            locked = lock_one(PaymentAttempt.objects.filter(pk=attempt.pk))
            refund, created = PaymentRefund.objects.get_or_create(
                out_refund_no=refund_reference,
                defaults={"attempt": locked, "amount_fen": amount_fen, "origin": "topup_refund", "reason": "topup"},
            )
            if created:
                PaymentAttempt.objects.filter(pk=locked.pk).update(refunded_fen=F("refunded_fen") + amount_fen)
        if refund.attempt_id != attempt.pk or refund.amount_fen != amount_fen:
            raise ValueError(f"refund {refund_reference!r} was booked with other details")
        if not refund_send(refund_id=refund.pk):
            refund.refresh_from_db()
            raise RuntimeError(refund.last_error or "refund not accepted")
        refund.refresh_from_db()
        return refund.refund_id or refund.out_refund_no


def _refundable(attempt: PaymentAttempt) -> None:
    if attempt.state != AttemptState.PAID or attempt.fulfilment != Fulfilment.DONE or attempt.sale_id is None:
        raise exceptions.RefundNotAllowedError(extra={"state": attempt.state, "fulfilment": attempt.fulfilment})
    sale = sale_refundable(sale_id=attempt.sale_id)
    if sale is None or sale.left_fen <= 0:
        raise exceptions.RefundNotAllowedError(_("This payment has already been refunded."))


def _sale_lines(amount_fen: int | None) -> list[RefundLineIn] | None:
    """The whole of what is left (None), or part of the bill by amount: a pay-at-store sale is one line, the bill."""
    if amount_fen is None:
        return None
    if amount_fen <= 0:
        raise ValidationError(_("Enter an amount greater than zero."), code="refund.amount_invalid")
    return [RefundLineIn(line_no=1, amount_fen=amount_fen)]


def store_payment_refund_preview(*, attempt_id: int, merchant_id: int, amount_fen: int | None) -> RefundResult:
    """What `store_payment_refund` would give back for this amount of the bill (None: all that is left) — the
    checkout pipeline's own refund, run in a transaction that is rolled back, so the figures (money, points, a
    coupon's threshold lost) are exactly the ones a refund would book now, and its errors are the same."""
    attempt = PaymentAttempt.objects.filter(pk=attempt_id, merchant_id=merchant_id).first()
    if attempt is None:
        raise NotFoundError(code="payments.not_found")
    _refundable(attempt)
    with transaction.atomic():
        result = sale_refund_in_tx(
            merchant_id=merchant_id,
            pos_sale_id=f"pay:{attempt.out_trade_no}",
            pos_refund_id=f"preview:{secrets.token_hex(8)}",
            lines=_sale_lines(amount_fen),
        )
        transaction.set_rollback(True)
    return result


def store_payment_refund(
    *,
    attempt_id: int,
    merchant_id: int,
    actor: Actor,
    idempotency_key: str = "",
    reason: str = "",
    amount_fen: int | None = None,
) -> RefundResult:
    """A merchant refunds a pay-at-store payment, in full (`amount_fen=None`: all that is left) or part of the bill
    (`amount_fen`, in fen of the bill's value — goods returned): the sale through the checkout pipeline (money,
    points earned and spent, coupons rolled back in proportion; partial refunds add up exactly to a full one) and
    the money part at the gateway (sent after commit). Several partial refunds are allowed until nothing is left;
    the same idempotency key again is a ConflictError and changes nothing."""
    found = PaymentAttempt.objects.filter(pk=attempt_id, merchant_id=merchant_id).first()
    if found is None:
        raise NotFoundError(code="payments.not_found")
    key = idempotency_key or secrets.token_hex(8)
    lines = _sale_lines(amount_fen)
    with transaction.atomic(durable=True):
        attempt = lock_one(PaymentAttempt.objects.filter(pk=found.pk))
        _refundable(attempt)
        result = sale_refund_in_tx(
            merchant_id=merchant_id,
            pos_sale_id=f"pay:{attempt.out_trade_no}",
            pos_refund_id=f"payrefund:{key}"[:64],
            lines=lines,
        )
        money = int(result.payments.get(attempt.provider, 0))
        if money > 0:
            out_refund_no = f"R{attempt.out_trade_no}{key}"[:64]
            refund, created = PaymentRefund.objects.get_or_create(
                out_refund_no=out_refund_no,
                defaults={
                    "attempt": attempt,
                    "amount_fen": money,
                    "origin": f"merchant:{actor.user_id or ''}"[:60],
                    "reason": reason[:80],
                },
            )
            if created:
                attempt.refunded_fen += money
                attempt.save(update_fields=["refunded_fen"])
                enqueue(REFUND_TASK, refund_id=refund.pk)
        audit_record(
            actor=actor,
            action="payment.refund",
            target_type="payment",
            target_id=attempt.pk,
            target_label=attempt.out_trade_no,
            mall_group_id=attempt.mall_group_id,
            changes={
                "refunded_fen": money,
                "bill_fen": result.amount_fen,
                "points_returned": result.points_returned,
                "points_clawed_back": result.points_clawed_back,
                "sale_refund_id": result.refund_id,
                "reason": reason[:80],
            },
        )
        return result
