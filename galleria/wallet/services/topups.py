"""Top-up: start (pending + gateway intent), confirm (credit principal and bonus, idempotent), refund (cash back,
bonus clawed back in proportion; through the top-up's gateway where it can refund, else paid out in cash)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.errors import NotFoundError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, TransactionKind
from galleria.ledger.types import Leg
from galleria.malls.models import Mall

from .. import exceptions, rules
from ..gateway import PaymentGateway, refund_gateway_get
from ..models import RefundChannel, TopUp, TopUpRefund, TopUpStatus
from ..selectors import bonus_tiers
from ..types import CASH_GATEWAY, TopUpIntent, TopUpRefundResult, TopUpResult
from ._common import active_member, request_key_check, wallet_accounts_check, wallet_lock

SEND_TASK = "galleria.wallet.tasks.topup_refund_send_task"


class CashDesk:
    """The service desk taking cash (or a card at its own terminal) for a top-up: the desk is the 'gateway', and
    the staff member who takes the money confirms the top-up (services.wallet_topup_cash). Nothing to call."""

    name = CASH_GATEWAY

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        return f"cash_{reference}"


def _intent(topup: TopUp) -> TopUpIntent:
    return TopUpIntent(
        topup_id=topup.pk,
        reference=topup.reference,
        gateway=topup.gateway,
        gateway_ref=topup.gateway_ref or "",
        amount_fen=topup.amount_fen,
        bonus_fen=topup.bonus_fen,
        bonus_rule_id=topup.bonus_rule_id,
    )


def wallet_topup_start(
    *,
    mall_id: int,
    member_id: int,
    amount_fen: int,
    gateway: PaymentGateway | None = None,
    idempotency_key: str = "",
    at: dt.datetime | None = None,
) -> TopUpIntent:
    """Create a pending top-up and its payment at the gateway; return the intent the member pays. Without a
    `gateway` the money is taken at the service desk (CashDesk).

    The bonus is decided now, by the rules active on the mall-local day (rules.bonus_for), and kept even if the
    rule ends before the payment arrives. With an `idempotency_key`, starting again with the same key and amount
    returns the first intent (a different amount is IdempotencyConflictError). The gateway is called outside any
    transaction; if it fails the top-up stays pending without a gateway reference and GatewayUnavailableError is
    raised (starting again with the same key retries it).
    """
    gw: PaymentGateway = gateway or CashDesk()
    key = request_key_check(idempotency_key)
    rules.check_topup_amount(amount_fen)
    mall = Mall.objects.filter(pk=mall_id).first()
    if mall is None:
        raise NotFoundError(_("Unknown mall."), code="wallet.mall_unknown")
    active_member(member_id=member_id, mall_group_id=mall.group_id)
    existing = TopUp.objects.filter(member_id=member_id, idempotency_key=key).first() if key else None
    if existing is None:
        day = timeutil.local_date(at or timeutil.now(), mall.timezone)
        choice = rules.bonus_for(amount_fen, bonus_tiers(mall_group_id=mall.group_id), on=day)
        try:
            with transaction.atomic(durable=True):
                existing = TopUp.objects.create(
                    mall_group_id=mall.group_id,
                    mall=mall,
                    member_id=member_id,
                    amount_fen=amount_fen,
                    bonus_fen=choice.bonus_fen,
                    bonus_rule_id=choice.rule_id,
                    gateway=gw.name,
                    reference=f"TU{secrets.token_hex(12)}",
                    idempotency_key=key,
                )
        except IntegrityError:  # a concurrent start with the same key won
            existing = TopUp.objects.filter(member_id=member_id, idempotency_key=key).first()
            if existing is None or not key:
                raise
    topup = existing
    if topup.amount_fen != amount_fen or topup.mall_id != mall.pk or topup.gateway != gw.name:
        raise exceptions.IdempotencyConflictError(extra={"topup_id": topup.pk})
    if topup.gateway_ref:
        return _intent(topup)
    try:
        gateway_ref = gw.create_payment(amount_fen=topup.amount_fen, reference=topup.reference)
    except Exception as exc:  # the adapter's own errors; nothing was credited and the top-up stays pending
        raise exceptions.GatewayUnavailableError(extra={"topup_id": topup.pk}) from exc
    TopUp.objects.filter(pk=topup.pk, gateway_ref__isnull=True).update(gateway_ref=gateway_ref)
    topup.refresh_from_db(fields=["gateway_ref"])
    return _intent(topup)


def _topup_result(topup: TopUp) -> TopUpResult:
    assert topup.paid_at is not None and topup.paid_tx_id is not None
    return TopUpResult(
        topup_id=topup.pk,
        member_id=topup.member_id,
        amount_fen=topup.amount_fen,
        bonus_fen=topup.bonus_fen,
        paid_at=topup.paid_at,
        transaction_id=topup.paid_tx_id,
    )


def wallet_topup_confirm(
    *,
    topup_id: int | None = None,
    gateway_ref: str | None = None,
    paid_amount_fen: int,
    paid_at: dt.datetime | None = None,
) -> TopUpResult:
    """The gateway says the top-up was paid: credit principal and bonus. Idempotent.

    A second confirmation of a top-up that is already paid (or since refunded) posts nothing and returns the same
    TopUpResult, provided the amount matches. Any amount other than the top-up's is TopUpAmountMismatchError and
    nothing is credited (the payment must then be investigated and refunded at the gateway).
    """
    with transaction.atomic(durable=True):
        return wallet_topup_confirm_in_tx(
            topup_id=topup_id, gateway_ref=gateway_ref, paid_amount_fen=paid_amount_fen, paid_at=paid_at
        )


def wallet_topup_confirm_in_tx(
    *,
    topup_id: int | None = None,
    gateway_ref: str | None = None,
    paid_amount_fen: int,
    paid_at: dt.datetime | None = None,
) -> TopUpResult:
    """wallet_topup_confirm inside the caller's transaction (the payments app confirms a top-up in the same
    transaction that records the gateway's notification).

    Cash taken at the service desk above the threshold is credited only by its approval (services.cash records the
    decision on the locked row first, then calls this): while it awaits approval every other caller — a gateway
    notification, a confirmation by reference — gets TopUpAwaitingApprovalError, and a rejected (cancelled) one
    TopUpCancelledError; nothing is credited."""
    if (topup_id is None) == (gateway_ref is None):
        raise ValueError("give exactly one of topup_id or gateway_ref")
    found = (
        TopUp.objects.filter(pk=topup_id).first()
        if topup_id is not None
        else TopUp.objects.filter(gateway_ref=gateway_ref).first()
    )
    if found is None:
        raise exceptions.TopUpNotFoundError()
    accounts = wallet_lock(mall_group_id=found.mall_group_id, member_id=found.member_id)
    topup = lock_one(TopUp.objects.filter(pk=found.pk))
    if topup.is_awaiting_approval:
        raise exceptions.TopUpAwaitingApprovalError(extra={"topup_id": topup.pk})
    if topup.status == TopUpStatus.CANCELLED:
        raise exceptions.TopUpCancelledError(extra={"topup_id": topup.pk})
    if paid_amount_fen != topup.amount_fen:
        raise exceptions.TopUpAmountMismatchError(
            extra={"topup_id": topup.pk, "expected_fen": topup.amount_fen, "paid_fen": paid_amount_fen}
        )
    if topup.status != TopUpStatus.PENDING:
        return _topup_result(topup)
    principal, bonus = wallet_accounts_check(accounts, mall_group_id=topup.mall_group_id, member_id=topup.member_id)
    group_id = topup.mall_group_id
    legs = [
        Leg(principal.pk, Asset.CNY, topup.amount_fen),
        Leg(
            ledger.system_account_id(mall_group_id=group_id, kind=AccountKind.WALLET_FLOAT),
            Asset.CNY,
            -topup.amount_fen,
        ),
    ]
    if topup.bonus_fen:
        legs += [
            Leg(bonus.pk, Asset.CNY, topup.bonus_fen),
            Leg(
                ledger.system_account_id(mall_group_id=group_id, kind=AccountKind.WALLET_BONUS_FUND),
                Asset.CNY,
                -topup.bonus_fen,
            ),
        ]
    when = paid_at or timezone.now()
    tx = ledger.post(
        mall_group_id=group_id,
        kind=TransactionKind.TOPUP,
        legs=legs,
        member_accounts={principal.pk: principal, bonus.pk: bonus},
        occurred_at=when,
        source=f"topup:{topup.pk}",
        memo=topup.reference,
        explanation={
            "topup": topup.pk,
            "amount_fen": topup.amount_fen,
            "bonus_fen": topup.bonus_fen,
            "bonus_rule": topup.bonus_rule_id,
            "gateway": topup.gateway,
            "gateway_ref": topup.gateway_ref,
        },
    )
    topup.status, topup.paid_at, topup.paid_tx = TopUpStatus.PAID, when, tx
    topup.save(update_fields=["status", "paid_at", "paid_tx"])
    return _topup_result(topup)


def _topup_refund_result(refund: TopUpRefund, topup: TopUp) -> TopUpRefundResult:
    return TopUpRefundResult(
        refund_id=refund.pk,
        topup_id=topup.pk,
        amount_fen=refund.amount_fen,
        bonus_clawed_back_fen=refund.bonus_clawed_back_fen,
        bonus_shortfall_fen=refund.bonus_shortfall_fen,
        transaction_id=refund.transaction_id,
        status=topup.status,
    )


def topup_refund_post_in_tx(
    *,
    topup: TopUp,
    amount_fen: int,
    bonus_clawed_back_fen: int,
    bonus_shortfall_fen: int,
    channel: str,
    principal: Account,
    bonus: Account,
    occurred_at: dt.datetime,
    reason: str = "",
    idempotency_key: str = "",
    balance_refund_id: int | None = None,
) -> TopUpRefund:
    """Book the refund of `amount_fen` of a locked, paid `topup` whose claw-back the caller computed by
    rules.topup_bonus_clawback; `principal` / `bonus` are the member's locked wallet accounts (updated in place).

    Posts WALLET −amount / FLOAT +amount (channel gateway: the money goes back through the gateway) or
    WALLET_CASH_PAYOUT +amount (channel cash: paid out at the service desk), and BONUS −claw / BONUS_FUND +claw.
    A gateway refund is sent by a task enqueued here (in the caller's transaction: it commits with the booking);
    `wallet_topup_refund_send` is idempotent per refund reference.
    """
    group_id = topup.mall_group_id
    payout_kind = AccountKind.WALLET_FLOAT if channel == RefundChannel.GATEWAY else AccountKind.WALLET_CASH_PAYOUT
    legs = [
        Leg(principal.pk, Asset.CNY, -amount_fen),
        Leg(ledger.system_account_id(mall_group_id=group_id, kind=payout_kind), Asset.CNY, amount_fen),
    ]
    if bonus_clawed_back_fen:
        legs += [
            Leg(bonus.pk, Asset.CNY, -bonus_clawed_back_fen),
            Leg(
                ledger.system_account_id(mall_group_id=group_id, kind=AccountKind.WALLET_BONUS_FUND),
                Asset.CNY,
                bonus_clawed_back_fen,
            ),
        ]
    explanation: dict[str, object] = {
        "topup": topup.pk,
        "refund_fen": amount_fen,
        "bonus_clawed_back_fen": bonus_clawed_back_fen,
        "bonus_shortfall_fen": bonus_shortfall_fen,
        "channel": channel,
    }
    if balance_refund_id is not None:
        explanation["balance_refund"] = balance_refund_id
    tx = ledger.post(
        mall_group_id=group_id,
        kind=TransactionKind.REFUND,
        legs=legs,
        member_accounts={principal.pk: principal, bonus.pk: bonus},
        occurred_at=occurred_at,
        source=f"topup:{topup.pk}",
        memo=reason[:200],
        explanation=explanation,
    )
    refund = TopUpRefund.objects.create(
        topup=topup,
        amount_fen=amount_fen,
        bonus_clawed_back_fen=bonus_clawed_back_fen,
        bonus_shortfall_fen=bonus_shortfall_fen,
        reason=reason[:200],
        idempotency_key=idempotency_key,
        occurred_at=occurred_at,
        transaction=tx,
        channel=channel,
        refund_reference=f"RF{secrets.token_hex(12)}" if channel == RefundChannel.GATEWAY else "",
        balance_refund_id=balance_refund_id,
    )
    topup.refunded_fen += amount_fen
    topup.bonus_clawed_back_fen += bonus_clawed_back_fen
    topup.bonus_shortfall_fen += bonus_shortfall_fen
    fully = topup.refunded_fen == topup.amount_fen
    topup.status = TopUpStatus.REFUNDED if fully else TopUpStatus.PARTIALLY_REFUNDED
    topup.save(update_fields=["refunded_fen", "bonus_clawed_back_fen", "bonus_shortfall_fen", "status"])
    if channel == RefundChannel.GATEWAY:
        enqueue(SEND_TASK, topup_refund_id=refund.pk)
    return refund


def wallet_topup_refund(
    *,
    topup_id: int,
    amount_fen: int,
    reason: str = "",
    idempotency_key: str = "",
    occurred_at: dt.datetime | None = None,
) -> TopUpRefundResult:
    """Give cash back from a paid top-up: at most what is unrefunded of it AND at most the member's unspent
    principal (money already spent cannot go back as cash).

    The bonus that came with the top-up is clawed back in proportion, cumulatively (rules.topup_bonus_clawback):
    whatever of the due bonus the member no longer has is recorded as shortfall on the TopUp and the refund row,
    never taken below zero. The money goes back through the top-up's gateway when it can refund
    (gateway.refund_gateway_get; sent by a task after the booking commits), else it is recorded as paid out in cash
    (topup_refund_post_in_tx). With an `idempotency_key`, a repeat with the same amount returns the first result.
    The service desk refunds a member's whole wallet through services.balance_refunds, which uses the same rules.
    """
    key = request_key_check(idempotency_key)
    if amount_fen <= 0:
        raise exceptions.WalletAmountInvalidError(extra={"amount_fen": amount_fen})
    found = TopUp.objects.filter(pk=topup_id).first()
    if found is None:
        raise exceptions.TopUpNotFoundError()
    with transaction.atomic(durable=True):
        accounts = wallet_lock(mall_group_id=found.mall_group_id, member_id=found.member_id)
        topup = lock_one(TopUp.objects.filter(pk=found.pk))
        if key:
            previous = TopUpRefund.objects.filter(topup=topup, idempotency_key=key).first()
            if previous is not None:
                if previous.amount_fen != amount_fen:
                    raise exceptions.IdempotencyConflictError(extra={"refund_id": previous.pk})
                return _topup_refund_result(previous, topup)
        if topup.status in (TopUpStatus.PENDING, TopUpStatus.CANCELLED):  # never credited: nothing to give back
            raise exceptions.TopUpNotPaidError()
        principal, bonus = wallet_accounts_check(accounts, mall_group_id=topup.mall_group_id, member_id=topup.member_id)
        left_on_topup = topup.amount_fen - topup.refunded_fen
        refundable = min(left_on_topup, principal.balance or 0)
        if amount_fen > refundable:
            raise exceptions.TopUpRefundExceedsError(
                extra={"refundable_fen": refundable, "left_on_topup_fen": left_on_topup, "requested_fen": amount_fen}
            )
        claw, shortfall = rules.topup_bonus_clawback(
            topup_amount_fen=topup.amount_fen,
            topup_bonus_fen=topup.bonus_fen,
            refunded_before_fen=topup.refunded_fen,
            refund_fen=amount_fen,
            bonus_settled_before_fen=topup.bonus_clawed_back_fen + topup.bonus_shortfall_fen,
            bonus_available_fen=bonus.balance or 0,
        )
        channel = RefundChannel.GATEWAY if refund_gateway_get(topup.gateway) is not None else RefundChannel.CASH
        refund = topup_refund_post_in_tx(
            topup=topup,
            amount_fen=amount_fen,
            bonus_clawed_back_fen=claw,
            bonus_shortfall_fen=shortfall,
            channel=channel,
            principal=principal,
            bonus=bonus,
            occurred_at=occurred_at or timezone.now(),
            reason=reason,
            idempotency_key=key,
        )
        return _topup_refund_result(refund, topup)


def wallet_topup_refund_send(*, topup_refund_id: int) -> bool:
    """Send a booked top-up refund to the top-up's gateway (the task enqueued with the booking runs this; so does
    `galleria wallet_refunds_send` for refunds the gateway has not accepted yet). Idempotent: a refund the gateway
    accepted is not sent again, and the gateway keys the refund on our refund reference. A failure is recorded on
    the row (attempts, last error) and left for the next run. Returns whether the gateway has accepted it."""
    refund = TopUpRefund.objects.select_related("topup").filter(pk=topup_refund_id).first()
    if refund is None or refund.channel != RefundChannel.GATEWAY:
        return False
    if refund.sent_at is not None:
        return True
    rows = TopUpRefund.objects.filter(pk=refund.pk, sent_at__isnull=True)
    gateway = refund_gateway_get(refund.topup.gateway)
    try:
        if gateway is None:
            raise LookupError(f"no refunds at gateway {refund.topup.gateway!r}")
        gateway_refund_ref = gateway.refund(
            gateway_ref=refund.topup.gateway_ref or "",
            amount_fen=refund.amount_fen,
            total_fen=refund.topup.amount_fen,
            refund_reference=refund.refund_reference,
        )
    except Exception as exc:  # the gateway's own errors: recorded, retried by the next run
        rows.update(send_attempts=F("send_attempts") + 1, send_error=f"{type(exc).__name__}: {exc}"[:200])
        return False
    rows.update(
        send_attempts=F("send_attempts") + 1,
        send_error="",
        sent_at=timezone.now(),
        gateway_refund_ref=gateway_refund_ref,
    )
    return True
