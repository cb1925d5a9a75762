"""The fix-up workflow of a reconciliation finding (docs/reconcile.md).

A finding is open until an automatic action made it right (`fixed`) or a person explained it (`resolved`, with a
note). The automatic actions go through the payments services, outside any transaction (they own theirs):
`sync` asks the gateway about a payment still waiting here and applies it (`payments.services.attempt_sync`),
`refund_sync` asks about a refund and applies the answer as a notification would (`notice_apply`), `refund_send`
sends a booked refund again (`payments.services.refund_send`), and `query` only asks the gateway what it holds and
writes the answer into the finding's history for the person who will resolve it. Then the finding row is locked,
the attempt and its result appended to the history, and the action audited — a double click finds the finding no
longer open and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one
from galleria.payments import selectors_reconcile as records
from galleria.payments import services as payment_services
from galleria.payments.gateways.base import (
    GatewayError,
    GatewayRefusedError,
    GatewayUnavailableError,
    Notice,
    NoticeKind,
    Provider,
    RefundState,
)

from ..exceptions import FindingClosedError, FindingNotFoundError, NoAutomaticFixError, NoteRequiredError
from ..models import Finding, FindingState, FixAction, LineKind, ReconcileRun
from ._common import MAX_NOTE, entry, group_gateway


def _get(finding_id: int, mall_group_id: int | None) -> Finding:
    qs = Finding.objects.filter(pk=finding_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    found = qs.first()
    if found is None:
        raise FindingNotFoundError()
    return found


def _lock(finding: Finding) -> Finding:
    """Lock the finding's run, then the finding — the order a re-run of the date takes — inside the transaction.
    A finding the re-run replaced meanwhile is gone: FindingNotFoundError."""
    lock_one(ReconcileRun.objects.filter(pk=finding.run_id))
    try:
        return lock_one(Finding.objects.filter(pk=finding.pk))
    except Finding.DoesNotExist as exc:
        raise FindingNotFoundError() from exc


def _close(finding: Finding, *, state: str, actor: Actor, note: str = "") -> None:
    finding.state = state
    finding.resolved_at = timezone.now()
    finding.resolved_by = actor.label[:100]
    finding.resolved_by_user_id = actor.user_id
    if note:
        finding.resolution_note = note


def finding_resolve(*, finding_id: int, mall_group_id: int | None, note: str, actor: Actor) -> Finding:
    """A person explains a finding (what was found and done) and closes it; the note is kept with it."""
    note = (note or "").strip()[:MAX_NOTE]
    if not note:
        raise NoteRequiredError(fields={"note": "required"})
    found = _get(finding_id, mall_group_id)
    with transaction.atomic(durable=True):
        finding = _lock(found)
        if finding.state != FindingState.OPEN:
            raise FindingClosedError()
        finding.history = [*finding.history, entry(actor=actor, action="resolve", note=note)]
        _close(finding, state=FindingState.RESOLVED, actor=actor, note=note)
        finding.save()
        _audit(finding, actor, "reconcile.resolve", {"note": note, "outcome": finding.outcome})
    return finding


def finding_fix(*, finding_id: int, mall_group_id: int | None, actor: Actor) -> tuple[Finding, str]:
    """Run the finding's automatic fix-up; returns the finding and the result (a short code or the gateway's
    answer). The finding becomes `fixed` when our records now agree with the bill."""
    finding = _get(finding_id, mall_group_id)
    if finding.state != FindingState.OPEN:
        raise FindingClosedError()
    if not finding.fix:
        raise NoAutomaticFixError()
    try:
        fixed, result = _ACTIONS[finding.fix](finding)
    except GatewayUnavailableError:
        fixed, result = False, "unavailable"
    except GatewayRefusedError as exc:
        fixed, result = False, f"refused {exc.code}"
    except GatewayError as exc:
        fixed, result = False, f"error {exc.code}"
    with transaction.atomic(durable=True):
        locked = _lock(finding)
        if locked.state != FindingState.OPEN:  # someone else closed it meanwhile: keep theirs
            return locked, result
        locked.history = [*locked.history, entry(actor=actor, action=locked.fix, result=result)]
        if fixed:
            _close(locked, state=FindingState.FIXED, actor=actor)
        locked.save()
        _audit(locked, actor, "reconcile.fix", {"action": locked.fix, "result": result, "fixed": fixed})
    return locked, result


def _audit(finding: Finding, actor: Actor, action: str, changes: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type="finding",
        target_id=finding.pk,
        target_label=f"{finding.bill_date.isoformat()} {finding.out_refund_no or finding.out_trade_no}",
        mall_group_id=finding.mall_group_id,
        changes={**changes, "state": finding.state},
    )


# ---------------------------------------------------------------------------------------------------- the actions


def _sync(finding: Finding) -> tuple[bool, str]:
    if finding.attempt_id is None:
        return False, "no payment"
    state = payment_services.attempt_sync(attempt_id=finding.attempt_id)
    trade = records.trade_record(attempt_id=finding.attempt_id)
    if trade is None or trade.state != "paid":
        return False, state or "unknown"
    agrees = finding.gateway_fen is None or trade.amount_fen == trade.paid_fen == finding.gateway_fen
    return agrees, "paid" if agrees else "paid, amount differs"


def _refund_sync(finding: Finding) -> tuple[bool, str]:
    refund = records.refund_record(refund_pk=finding.refund_id) if finding.refund_id else None
    if refund is None:
        return False, "no refund"
    gateway, _mch = group_gateway(mall_group_id=finding.mall_group_id, provider=finding.provider)
    answer = gateway.refund_query(out_trade_no=refund.out_trade_no, out_refund_no=refund.out_refund_no)
    if answer is None:
        return False, "gateway: unknown"
    if answer.state in (RefundState.SUCCESS, RefundState.CLOSED, RefundState.ABNORMAL):
        payment_services.notice_apply(
            notice=Notice(
                provider=Provider(finding.provider),
                kind=NoticeKind.REFUND,
                event_id=f"query:{answer.refund_id or refund.out_refund_no}",
                out_trade_no=refund.out_trade_no,
                out_refund_no=refund.out_refund_no,
                refund_id=answer.refund_id,
                refund_state=answer.state,
                refund_fen=answer.refund_fen,
                refunded_at=answer.succeeded_at,
                raw={"source": "refund_query", "by": "reconcile"},
            ),
            mall_group_id=finding.mall_group_id,
        )
    after = records.refund_record(refund_pk=refund.refund_pk)
    done = after is not None and after.state == "succeeded" and after.amount_fen == finding.gateway_fen
    return done, after.state if after else "unknown"


def _refund_send(finding: Finding) -> tuple[bool, str]:
    if not finding.refund_id:
        return False, "no refund"
    accepted = payment_services.refund_send(refund_id=finding.refund_id)
    after = records.refund_record(refund_pk=finding.refund_id)
    if after is None:
        return False, "unknown"
    return accepted and after.state in ("processing", "succeeded"), after.state if accepted else after.last_error


def _query(finding: Finding) -> tuple[bool, str]:
    """Ask only: what does the gateway hold? (The person resolving the finding reads the answer.)"""
    gateway, _mch = group_gateway(mall_group_id=finding.mall_group_id, provider=finding.provider)
    if finding.kind == LineKind.REFUND:
        answer = gateway.refund_query(out_trade_no=finding.out_trade_no, out_refund_no=finding.out_refund_no)
        if answer is None:
            return False, "gateway: unknown"
        return False, f"gateway: {answer.state} {answer.refund_fen}"
    trade = gateway.trade_query(out_trade_no=finding.out_trade_no)
    if trade is None:
        return False, "gateway: unknown"
    paid = trade.paid_fen if trade.paid_fen is not None else trade.amount_fen
    return False, f"gateway: {trade.state} {paid}"


_ACTIONS: dict[str, Callable[[Finding], tuple[bool, str]]] = {
    FixAction.SYNC: _sync,
    FixAction.REFUND_SYNC: _refund_sync,
    FixAction.REFUND_SEND: _refund_send,
    FixAction.QUERY: _query,
}
