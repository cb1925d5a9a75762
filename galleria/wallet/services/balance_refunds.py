"""Refunding a member's wallet balance at the service desk (e.g. so that the account can be erased).

`wallet_balance_refund_request` refunds the member's own money (principal) — all of it or an amount — at once up to
GALLERIA_WALLET_REFUND_APPROVAL_FEN, and above it leaves the request pending for a second person
(`wallet_balance_refund_decide`; the requester cannot approve their own request), as points adjustments do. At most
one request per member is pending. Nothing moves while it waits; approval re-checks the balance under the lock.

Carrying it out follows rules.plan_balance_refund: the amount is taken from the member's paid top-ups newest first;
each part is a top-up refund (services.topups.topup_refund_post_in_tx: bonus clawed back in proportion, shortfall
recorded) paid back through the top-up's gateway where it can refund, else in cash; money no top-up explains is paid
out in cash (WALLET −x / WALLET_CASH_PAYOUT +x, source `wallet_refund:<id>`). Locks: the member's wallet accounts,
then the request row, then the member's top-ups (primary-key order), like every wallet use case. Audited.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_one, lock_rows
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, TransactionKind
from galleria.ledger.types import Leg

from .. import exceptions, rules
from ..models import BalanceRefund, BalanceRefundPayout, BalanceRefundStatus, TopUp
from ..selectors import REFUNDABLE_STATUSES, refund_approval_threshold_fen, topup_snapshots
from ..types import BalanceRefundPlan
from ._common import active_member, request_key_check, wallet_accounts_check, wallet_lock
from .topups import topup_refund_post_in_tx

REASON_MAX = 200


def _locked_plan(
    *, member_id: int, amount_fen: int, principal: Account, bonus: Account, payout: str
) -> tuple[BalanceRefundPlan, dict[int, TopUp]]:
    """The plan from the member's top-ups, locked (after the wallet accounts the caller holds)."""
    topups = lock_rows(TopUp.objects.filter(member_id=member_id, status__in=REFUNDABLE_STATUSES))
    plan = rules.plan_balance_refund(
        amount_fen=amount_fen,
        principal_fen=principal.balance or 0,
        bonus_fen=bonus.balance or 0,
        topups=topup_snapshots(topups),
        cash_only=payout == BalanceRefundPayout.CASH,
    )
    return plan, {t.pk: t for t in topups}


def _carry_out_in_tx(*, refund: BalanceRefund, accounts: dict[str, Account], when: dt.datetime) -> None:
    principal, bonus = wallet_accounts_check(accounts, mall_group_id=refund.mall_group_id, member_id=refund.member_id)
    plan, topups = _locked_plan(
        member_id=refund.member_id, amount_fen=refund.amount_fen, principal=principal, bonus=bonus, payout=refund.payout
    )
    for part in plan.parts:
        if part.topup is None:  # money no top-up explains: paid out in cash
            refund.cash_transaction = ledger.post(
                mall_group_id=refund.mall_group_id,
                kind=TransactionKind.REFUND,
                legs=[
                    Leg(principal.pk, Asset.CNY, -part.amount_fen),
                    Leg(
                        ledger.system_account_id(
                            mall_group_id=refund.mall_group_id, kind=AccountKind.WALLET_CASH_PAYOUT
                        ),
                        Asset.CNY,
                        part.amount_fen,
                    ),
                ],
                member_accounts={principal.pk: principal, bonus.pk: bonus},
                occurred_at=when,
                source=f"wallet_refund:{refund.pk}",
                memo=refund.reason,
                explanation={"balance_refund": refund.pk, "refund_fen": part.amount_fen, "channel": "cash"},
            )
            continue
        topup_refund_post_in_tx(
            topup=topups[part.topup.id],
            amount_fen=part.amount_fen,
            bonus_clawed_back_fen=part.bonus_clawed_back_fen,
            bonus_shortfall_fen=part.bonus_shortfall_fen,
            channel=part.channel,
            principal=principal,
            bonus=bonus,
            occurred_at=when,
            reason=refund.reason,
            balance_refund_id=refund.pk,
        )
    refund.status = BalanceRefundStatus.DONE
    refund.done_at = when
    refund.to_gateway_fen = plan.to_gateway_fen
    refund.in_cash_fen = plan.in_cash_fen
    refund.bonus_clawed_back_fen = plan.bonus_clawed_back_fen
    refund.bonus_shortfall_fen = plan.bonus_shortfall_fen


def _summary(refund: BalanceRefund) -> dict[str, object]:
    return {
        "refund": refund.pk,
        "amount_fen": refund.amount_fen,
        "status": refund.status,
        "to_gateway_fen": refund.to_gateway_fen,
        "in_cash_fen": refund.in_cash_fen,
        "bonus_clawed_back_fen": refund.bonus_clawed_back_fen,
    }


def wallet_balance_refund_request(
    *,
    member_id: int,
    mall_group_id: int,
    amount_fen: int | None,
    reason: str,
    actor: Actor,
    payout: str = BalanceRefundPayout.ORIGINAL,
    idempotency_key: str = "",
    at: dt.datetime | None = None,
) -> BalanceRefund:
    """Refund `amount_fen` of the member's own wallet money (None: all of it), or leave the request pending for
    approval above the threshold (see the module docstring). With an `idempotency_key`, a repeat returns the first
    request (with another amount: IdempotencyConflictError)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("A reason is required."), code="wallet.reason_required", fields={"reason": "required"})
    if payout not in BalanceRefundPayout.values:
        raise ValidationError(
            _("Choose how the money is paid back."), code="wallet.payout_invalid", fields={"payout": "invalid"}
        )
    key = request_key_check(idempotency_key)
    member = active_member(member_id=member_id, mall_group_id=mall_group_id)
    when = at or timezone.now()
    try:
        with transaction.atomic(durable=True):
            accounts = wallet_lock(mall_group_id=member.mall_group_id, member_id=member.pk)
            if key:
                previous = BalanceRefund.objects.filter(member_id=member.pk, idempotency_key=key).first()
                if previous is not None:
                    if amount_fen is not None and previous.amount_fen != amount_fen:
                        raise exceptions.IdempotencyConflictError(extra={"refund_id": previous.pk})
                    return previous
            if BalanceRefund.objects.filter(member_id=member.pk, status=BalanceRefundStatus.PENDING).exists():
                raise exceptions.BalanceRefundPendingError()
            principal, bonus = wallet_accounts_check(accounts, mall_group_id=member.mall_group_id, member_id=member.pk)
            amount = (principal.balance or 0) if amount_fen is None else amount_fen
            _locked_plan(member_id=member.pk, amount_fen=amount, principal=principal, bonus=bonus, payout=payout)
            refund = BalanceRefund.objects.create(
                mall_group_id=member.mall_group_id,
                member_id=member.pk,
                amount_fen=amount,
                payout=payout,
                reason=reason[:REASON_MAX],
                status=BalanceRefundStatus.PENDING,
                idempotency_key=key,
                requested_by_id=actor.user_id,
            )
            if not rules.refund_needs_approval(amount, threshold_fen=refund_approval_threshold_fen()):
                _carry_out_in_tx(refund=refund, accounts=accounts, when=when)
                refund.decided_at = when
            refund.save()
            audit_record(
                actor=actor,
                action="wallet.refund_request",
                target_type="member",
                target_id=member.pk,
                target_label=member.card_no,
                mall_group_id=member.mall_group_id,
                changes={**_summary(refund), "payout": refund.payout, "reason": reason[:REASON_MAX]},
            )
            return refund
    except IntegrityError as exc:  # a concurrent request for the same member got in first
        if BalanceRefund.objects.filter(member_id=member.pk, status=BalanceRefundStatus.PENDING).exists():
            raise exceptions.BalanceRefundPendingError() from exc
        raise


def wallet_balance_refund_decide(
    *, refund_id: int, mall_group_id: int | None, approve: bool, actor: Actor, note: str = ""
) -> BalanceRefund:
    """Approve (carry out) or reject a pending request. The requester cannot decide their own request. Approval
    re-plans from the balance now: if the member no longer has the money, it fails and the request stays pending
    (reject it and request again)."""
    found = BalanceRefund.objects.select_related("member").filter(pk=refund_id).first()
    if found is None or (mall_group_id is not None and found.mall_group_id != mall_group_id):
        raise exceptions.BalanceRefundNotFoundError()
    when = timezone.now()
    with transaction.atomic(durable=True):
        # approving moves money: the wallet accounts first (refused if the member was merged or erased meanwhile)
        accounts = wallet_lock(mall_group_id=found.mall_group_id, member_id=found.member_id) if approve else {}
        refund = lock_one(BalanceRefund.objects.filter(pk=found.pk))
        if refund.status != BalanceRefundStatus.PENDING:
            raise exceptions.BalanceRefundDecidedError()
        if actor.user_id is not None and actor.user_id == refund.requested_by_id:
            raise exceptions.BalanceRefundSamePersonError()
        if approve:
            _carry_out_in_tx(refund=refund, accounts=accounts, when=when)
        else:
            refund.status = BalanceRefundStatus.REJECTED
        refund.decided_by_id = actor.user_id
        refund.decision_note = (note or "").strip()[:200]
        refund.decided_at = when
        refund.save()
        audit_record(
            actor=actor,
            action="wallet.refund_" + ("approve" if approve else "reject"),
            target_type="member",
            target_id=refund.member_id,
            target_label=found.member.card_no,
            mall_group_id=refund.mall_group_id,
            changes=_summary(refund),
        )
        return refund
