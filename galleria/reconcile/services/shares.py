"""WeChat Pay 分账 (profit sharing) of pay-at-store payments the mall collected (docs/reconcile.md).

One `ShareOrder` per payment (unique), created when the payment is paid and recorded as a sale: the merchant's part
(paid − refunded − the mall's commission) capped by the gateway's limit (`GALLERIA_PROFIT_SHARE_MAX_BP` of the paid
amount, default 30 %), the rest left for the monthly statement with the reason. Every gateway call happens outside
any transaction and row lock; a worker first *claims* the order with a lease (one conditional UPDATE), so two
sweeps never drive the same order at once — and if a lease runs out, the gateway still shares once: our
out_order_no is deterministic and every send asks the gateway first whether it already has the order (a lost
answer is found again), then re-plans against what the gateway says is still unsplit, stores the plan, adds the
receiver (once per group account) and sends with `unfreeze_unsplit` (the rest goes back to the mall).

- gateway unavailable → the order stays pending with the error; the sweep sends it again (same number, same body).
- gateway refused (over the limit, receiver not added, trade placed without profit sharing, …) → `refused` with
  the gateway's own explanation; a manager may plan it again (a new round number) or release the frozen funds.
- the receiver's result comes back `SUCCESS` → finished; `CLOSED` → closed with the reason (the money stays with
  the mall and is paid with the statement).
- nothing to share (no receiver, refunded, part zero) → skipped, and the payment's frozen funds are released.
- refunded after the share → `recover_fen`: what the merchant received beyond its part of what is left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one
from galleria.ledger import services as ledger
from galleria.ledger.types import Leg
from galleria.merchants.selectors import merchant_get
from galleria.payments import selectors as payment_selectors
from galleria.payments import selectors_reconcile as records
from galleria.payments.gateways.base import (
    GatewayError,
    GatewayRefusedError,
    GatewayUnavailableError,
    MallGateway,
    ProfitShareReceiver,
    ProfitShareResult,
)

from .. import rules
from ..exceptions import ShareNotFoundError, ShareStateError
from ..models import ShareOrder, ShareReceiver, ShareState, SkipReason
from ..selectors import attempts_with_share, shares_for_attempts, shares_to_advance
from ..types import SweepResult
from ._common import entry, group_gateway

log = logging.getLogger("galleria.reconcile")

PROVIDER = "wechat"
LEASE = dt.timedelta(minutes=2)
DEFAULT_LIMIT_BP = 3000
DEFAULT_WINDOW_DAYS = 2
UNFREEZE_DESCRIPTION = "解冻全部剩余资金"


def limit_bp() -> int:
    """The gateway's profit-sharing limit in basis points of the paid amount (WeChat Pay: 30 % unless the mall's
    account was granted more)."""
    return int(getattr(settings, "GALLERIA_PROFIT_SHARE_MAX_BP", DEFAULT_LIMIT_BP))


def _eligible(trade: records.TradeRecord | None) -> bool:
    return (
        trade is not None
        and trade.provider == PROVIDER
        and trade.purpose == "store"
        and trade.state == "paid"
        and trade.fulfilment == "done"
        and trade.merchant_id is not None
        and bool(trade.transaction_id)
        and trade.paid_fen is not None
    )


# ---------------------------------------------------------------------------------------------------- entry points


def profit_share_for_attempt(*, attempt_id: int) -> int | None:
    """Share the merchant's part of a paid pay-at-store payment (idempotent: one order per payment; calling again
    moves the order on). Returns the order's id, or None when the payment is not one the mall shares."""
    trade = records.trade_record(attempt_id=attempt_id)
    if trade is None or not _eligible(trade):
        return None
    order_id, _created = _order_ensure(trade)
    advance(order_id=order_id)
    return order_id


def profit_share_sweep(*, now: dt.datetime | None = None, days: int | None = None, limit: int = 200) -> SweepResult:
    """The periodic sweep: orders for paid store payments of the last `days` that have none, then every order that
    is pending, processing, or skipped with funds still frozen."""
    moment = now or timezone.now()
    window = days if days is not None else int(getattr(settings, "GALLERIA_PROFIT_SHARE_WINDOW_DAYS", 2))
    since = moment - dt.timedelta(days=window)
    created = 0
    after = 0
    while created < limit:
        batch = records.store_trades_to_share(provider=PROVIDER, paid_since=since, after_id=after, limit=500)
        if not batch:
            break
        have = attempts_with_share(attempt_ids=[t.attempt_id for t in batch])
        for trade in batch:
            if trade.attempt_id not in have and _eligible(trade) and created < limit:
                try:
                    created += int(_order_ensure(trade)[1])
                except Exception:  # one payment's trouble (logged) never stops the others
                    log.exception("reconcile: 分账 order of payment %s could not be planned", trade.attempt_id)
        after = batch[-1].attempt_id
    counts = {"sent": 0, "finished": 0, "failed": 0, "unfrozen": 0}
    for order_id in shares_to_advance(limit=limit):
        try:
            state = advance(order_id=order_id)
        except Exception:
            log.exception("reconcile: 分账 order %s could not be moved on", order_id)
            counts["failed"] += 1
            continue
        if state == ShareState.FINISHED:
            counts["finished"] += 1
        elif state in (ShareState.REFUSED, ShareState.CLOSED):
            counts["failed"] += 1
        elif state == ShareState.PROCESSING:
            counts["sent"] += 1
        elif state == "unfrozen":
            counts["unfrozen"] += 1
    return SweepResult(created=created, **counts)


def share_recover_check(*, attempt_ids: list[int]) -> int:
    """Refunds of payments already shared: set each finished order's `recover_fen` (what the merchant received
    beyond its part of what is left). Returns how many orders changed."""
    orders = shares_for_attempts(attempt_ids=attempt_ids)
    trades = records.trades_by_ids(attempt_ids=[o.attempt_id for o in orders])
    changed = 0
    for order in orders:
        trade = trades.get(order.attempt_id)
        if trade is None or trade.refunded_fen == order.refund_seen_fen:
            continue
        recover = rules.recover_fen(
            shared_fen=order.amount_fen,
            paid_fen=order.paid_fen,
            refunded_fen=trade.refunded_fen,
            commission_bp=order.commission_bp,
        )
        with transaction.atomic(durable=True):
            locked = lock_one(ShareOrder.objects.filter(pk=order.pk))
            locked.recover_fen, locked.refund_seen_fen = recover, trade.refunded_fen
            locked.history = [
                *locked.history,
                entry(actor=None, action="refund_seen", refunded_fen=trade.refunded_fen, recover_fen=recover),
            ]
            locked.save(update_fields=["recover_fen", "refund_seen_fen", "history", "updated_at"])
        changed += 1
    return changed


# ---------------------------------------------------------------------------------------------------- the order


def _order_ensure(trade: records.TradeRecord) -> tuple[int, bool]:
    """The payment's order (id, whether this call created it): planned from the merchant's commission, its
    receiver and the limit; unique per payment, so concurrent callers end with the same one."""
    existing = ShareOrder.objects.filter(attempt_id=trade.attempt_id).values_list("pk", flat=True).first()
    if existing is not None:
        return existing, False
    assert trade.merchant_id is not None and trade.paid_fen is not None
    merchant = merchant_get(mall_group_id=trade.mall_group_id, merchant_id=trade.merchant_id)
    profile = payment_selectors.merchant_profile(merchant_id=trade.merchant_id)
    plan = rules.share_plan(
        paid_fen=trade.paid_fen,
        refunded_fen=trade.refunded_fen,
        commission_bp=merchant.commission_bp,
        limit_bp=limit_bp(),
    )
    has_receiver = bool(profile and profile.share_receiver_type and profile.share_receiver_account)
    skip = plan.skip_reason or ("" if has_receiver else SkipReason.NO_RECEIVER)
    fields = {name: getattr(plan, name) for name in rules.PLAN_FIELDS}
    if skip:  # nothing is shared: the merchant's whole part is paid with the statement
        fields.update(amount_fen=0, capped_fen=max(0, plan.part_fen), cap_reason="")
    try:
        with transaction.atomic(durable=True):
            order = ShareOrder.objects.create(
                mall_group_id=trade.mall_group_id,
                attempt_id=trade.attempt_id,
                merchant_id=trade.merchant_id,
                out_trade_no=trade.out_trade_no,
                transaction_id=trade.transaction_id,
                out_order_no=rules.out_order_no(trade.out_trade_no),
                state=ShareState.SKIPPED if skip else ShareState.PENDING,
                skip_reason=skip,
                paid_fen=trade.paid_fen,
                refunded_fen=trade.refunded_fen,
                receiver_type=profile.share_receiver_type if profile and has_receiver else "",
                receiver_account=profile.share_receiver_account if profile and has_receiver else "",
                receiver_name=profile.share_receiver_name if profile and has_receiver else "",
                description=f"{merchant.name[:40]} 店内付款分账",
                history=[entry(actor=None, action="planned", amount_fen=plan.amount_fen, skip=skip)],
                **fields,
            )
    except IntegrityError:  # a concurrent sweep or task created it
        return ShareOrder.objects.values_list("pk", flat=True).get(attempt_id=trade.attempt_id), False
    return order.pk, True


def _claim(order_id: int) -> bool:
    """Take the order for LEASE (one conditional UPDATE: two workers never both win)."""
    now = timezone.now()
    claimed = (
        ShareOrder.objects.filter(pk=order_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    return claimed == 1


def advance(*, order_id: int, replan: bool = False) -> str:
    """Move one order on as far as it goes now: send it, ask about it, or release the frozen funds. Returns its
    state afterwards ("unfrozen" when a skipped order's funds were released, "busy" when another worker holds it)."""
    if not _claim(order_id):
        return "busy"
    try:
        order = ShareOrder.objects.get(pk=order_id)
        if order.state == ShareState.PENDING:
            _send(order)
        elif order.state == ShareState.PROCESSING:
            _ask(order)
        elif (
            order.state == ShareState.SKIPPED
            and order.unfrozen_at is None
            and not order.unfreeze_error
            and _unfreeze(order)
        ):
            return "unfrozen"
        return ShareOrder.objects.values_list("state", flat=True).get(pk=order_id)
    finally:
        ShareOrder.objects.filter(pk=order_id).update(lease_until=None)


def _gateway(order: ShareOrder) -> tuple[MallGateway, str]:
    gateway, mch_id = group_gateway(mall_group_id=order.mall_group_id, provider=PROVIDER)
    return cast(MallGateway, gateway), mch_id


def _save(pk: int, /, *, history: dict[str, Any] | None = None, **values: Any) -> None:
    """Write what the gateway said, under the row lock (the lease keeps other workers away; the lock keeps a
    console action's write and ours from interleaving)."""
    with transaction.atomic(durable=True):
        order = lock_one(ShareOrder.objects.filter(pk=pk))
        was = order.state
        for name, value in values.items():
            setattr(order, name, value)
        if history is not None:
            order.history = [*order.history, history]
        order.save()
        if was != ShareState.FINISHED and order.state == ShareState.FINISHED and order.amount_fen > 0:
            _post_share(order)


# the ledger's own values (ledger.models AccountKind / Asset / TransactionKind; its tables are private to it)
COLLECTED, CLEARING, CNY, SETTLEMENT_TX = "merchant_collected", "gateway_clearing", "cny", "settlement"


def _post_share(order: ShareOrder) -> None:
    """A finished share: WeChat Pay paid the merchant its part directly out of the mall's collected money, so the
    mall owes the merchant that much less. One ledger transaction (source `profit_share:<id>`, under the order's
    row lock, once: only the transition to FINISHED posts it) moves it off the merchant's MERCHANT_COLLECTED
    against GATEWAY_CLEARING; the merchant's statement shows it as a leg of the money collected for it, and its net
    is what is still owed (docs/reconcile.md, docs/settlement.md)."""
    group = order.mall_group_id
    ledger.post(
        mall_group_id=group,
        kind=SETTLEMENT_TX,
        legs=[
            Leg(
                ledger.system_account_id(mall_group_id=group, kind=COLLECTED, merchant_id=order.merchant_id),
                CNY,
                -order.amount_fen,
            ),
            Leg(
                ledger.system_account_id(mall_group_id=group, kind=CLEARING),
                CNY,
                order.amount_fen,
            ),
        ],
        member_accounts={},
        occurred_at=order.finished_at or timezone.now(),
        source=f"profit_share:{order.pk}",
        memo=order.out_order_no,
        explanation={"profit_share": order.pk, "out_trade_no": order.out_trade_no, "amount_fen": order.amount_fen},
    )


def _call(order: ShareOrder, what: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
    """Run one gateway call; an unavailable gateway is recorded on the order (it is tried again later)."""
    try:
        return True, fn()
    except GatewayUnavailableError as exc:
        _save(
            order.pk,
            send_attempts=order.send_attempts + 1,
            last_error=f"{what} unavailable: {exc}"[:300],
            history=entry(actor=None, action=what, result="unavailable"),
        )
        return False, None


def _send(order: ShareOrder) -> None:
    try:
        gateway, mch_id = _gateway(order)
    except GatewayError as exc:
        _save(order.pk, last_error=f"credential: {exc}"[:300])
        return
    try:
        ok, known = _call(
            order,
            "query",
            lambda: gateway.profit_share_query(transaction_id=order.transaction_id, out_order_no=order.out_order_no),
        )
        if not ok:
            return
        if known is not None:  # sent before and the answer was lost: the gateway's word is the truth
            _apply(order, known, action="found")
            return
        ok, unsplit = _call(order, "unsplit", lambda: gateway.profit_share_unsplit(transaction_id=order.transaction_id))
        if not ok:
            return
        trade = records.trade_record(attempt_id=order.attempt_id)
        plan = rules.share_plan(
            paid_fen=order.paid_fen,
            refunded_fen=trade.refunded_fen if trade else order.refunded_fen,
            commission_bp=order.commission_bp,
            limit_bp=order.limit_bp,
            unsplit_fen=int(unsplit),
        )
        values: dict[str, Any] = {name: getattr(plan, name) for name in rules.PLAN_FIELDS}
        values["refunded_fen"] = trade.refunded_fen if trade else order.refunded_fen
        if plan.skip_reason:
            _save(
                order.pk,
                state=ShareState.SKIPPED,
                skip_reason=plan.skip_reason,
                **values,
                history=entry(actor=None, action="skipped", result=plan.skip_reason, unsplit_fen=int(unsplit)),
            )
            order.refresh_from_db()
            _unfreeze(order)
            return
        _save(order.pk, **values, history=entry(actor=None, action="send", amount_fen=plan.amount_fen))
        order.refresh_from_db()
        if not _receiver_ensure(gateway, order, mch_id=mch_id):
            return
        receiver = ProfitShareReceiver(
            type=order.receiver_type,
            account=order.receiver_account,
            amount_fen=order.amount_fen,
            description=order.description,
            name=order.receiver_name,
        )
        ok, result = _call(
            order,
            "share",
            lambda: gateway.profit_share(
                transaction_id=order.transaction_id,
                out_order_no=order.out_order_no,
                receivers=[receiver],
                unfreeze_unsplit=True,
            ),
        )
        if ok:
            _apply(order, result, action="sent", sent=True)
    except GatewayRefusedError as exc:
        _refused(order, exc)


def _receiver_ensure(gateway: MallGateway, order: ShareOrder, *, mch_id: str) -> bool:
    """Add the receiver at the group's account, once (a changed name is added again)."""
    digest = hashlib.sha256(order.receiver_name.encode()).hexdigest() if order.receiver_name else ""
    keys = {
        "mall_group_id": order.mall_group_id,
        "provider": PROVIDER,
        "mch_id": mch_id,
        "receiver_type": order.receiver_type,
        "account": order.receiver_account,
        "name_digest": digest,
    }
    if ShareReceiver.objects.filter(**keys).exists():
        return True
    receiver = ProfitShareReceiver(
        type=order.receiver_type, account=order.receiver_account, amount_fen=0, description="", name=order.receiver_name
    )
    ok, _ = _call(order, "add_receiver", lambda: gateway.profit_share_add_receiver(receiver=receiver))
    if not ok:
        return False
    try:
        with transaction.atomic():
            ShareReceiver.objects.create(**keys)
    except IntegrityError:  # added meanwhile by another worker: the gateway treats a second add as the same
        pass
    return True


def _receiver_result(order: ShareOrder, result: ProfitShareResult) -> dict[str, Any]:
    for receiver in result.receivers:
        if str(receiver.get("account")) == order.receiver_account:
            return dict(receiver)
    return dict(result.receivers[0]) if result.receivers else {}


def _apply(order: ShareOrder, result: ProfitShareResult, *, action: str, sent: bool = False) -> None:
    """The gateway's answer (share, query) → our state: the receiver's SUCCESS finishes the order, CLOSED closes it,
    PENDING (or an order still PROCESSING) waits for the next query."""
    receiver = _receiver_result(order, result)
    outcome = str(receiver.get("result", "")).upper()
    now = timezone.now()
    values: dict[str, Any] = {
        "order_id": result.order_id[:64],
        "receiver_result": outcome[:12],
        "last_error": "",
    }
    if sent:
        values["send_attempts"] = order.send_attempts + 1
        values["sent_at"] = order.sent_at or now
    if outcome == "SUCCESS" and result.state == "FINISHED":
        values.update(state=ShareState.FINISHED, finished_at=now, unfrozen_at=now)
    elif outcome == "CLOSED":
        values.update(state=ShareState.CLOSED, finished_at=now, fail_reason=str(receiver.get("fail_reason", ""))[:200])
    else:
        values.update(state=ShareState.PROCESSING)
    amount = receiver.get("amount")
    note: dict[str, Any] = {} if amount in (None, order.amount_fen) else {"gateway_amount_fen": amount}
    _save(order.pk, **values, history=entry(actor=None, action=action, result=values["state"], **note))
    if values["state"] == ShareState.FINISHED:  # refunded while the share was at the gateway: what to recover
        share_recover_check(attempt_ids=[order.attempt_id])


def _ask(order: ShareOrder) -> None:
    try:
        gateway, _mch_id = _gateway(order)
        ok, result = _call(
            order,
            "query",
            lambda: gateway.profit_share_query(transaction_id=order.transaction_id, out_order_no=order.out_order_no),
        )
    except GatewayRefusedError as exc:
        _save(order.pk, last_error=f"query: {exc.code}: {exc}"[:300])
        return
    except GatewayError as exc:
        _save(order.pk, last_error=f"credential: {exc}"[:300])
        return
    if not ok:
        return
    if result is None:  # the gateway does not know it after all: send again (query first, same number)
        _save(order.pk, state=ShareState.PENDING, history=entry(actor=None, action="query", result="unknown"))
        return
    _apply(order, result, action="query")


def _refused(order: ShareOrder, exc: GatewayRefusedError) -> None:
    reason = f"{exc.code}: {exc}"[:500]
    log.warning("reconcile: 分账 %s refused: %s", order.out_order_no, reason)
    _save(
        order.pk,
        state=ShareState.REFUSED,
        refusal=reason,
        send_attempts=order.send_attempts + 1,
        last_error="",
        history=entry(actor=None, action="refused", result=exc.code),
    )


def _unfreeze(order: ShareOrder) -> bool:
    """Give the payment's frozen funds back to the mall (nothing is shared). True when the gateway did it."""
    try:
        gateway, _mch_id = _gateway(order)
    except GatewayError as exc:
        _save(order.pk, unfreeze_error=f"credential: {exc}"[:300])
        return False
    release = getattr(gateway, "profit_share_unfreeze", None)
    if release is None:
        return False
    try:
        ok, _ = _call(
            order,
            "unfreeze",
            lambda: release(
                transaction_id=order.transaction_id,
                out_order_no=rules.unfreeze_no(order.out_trade_no),
                description=UNFREEZE_DESCRIPTION,
            ),
        )
    except GatewayRefusedError as exc:
        _save(
            order.pk,
            unfreeze_error=f"{exc.code}: {exc}"[:300],
            history=entry(actor=None, action="unfreeze", result=exc.code),
        )
        return False
    if ok:
        _save(order.pk, unfrozen_at=timezone.now(), history=entry(actor=None, action="unfreeze", result="done"))
    return bool(ok)


# ---------------------------------------------------------------------------------------------------- console


def share_action(*, order_id: int, mall_group_id: int | None, action: str, actor: Actor) -> str:
    """A manager moves an order on by hand: `query` (ask the gateway now), `retry` (plan a refused or closed order
    again under a new number, against the current settings and what is left), `unfreeze` (give up sharing: release
    the frozen funds to the mall; the merchant is paid with the statement). Audited."""
    order = ShareOrder.objects.filter(pk=order_id)
    if mall_group_id is not None:
        order = order.filter(mall_group_id=mall_group_id)
    found = order.first()
    if found is None:
        raise ShareNotFoundError()
    before = found.state
    if action == "query" and found.state in (ShareState.PENDING, ShareState.PROCESSING):
        state = advance(order_id=found.pk)
    elif action == "retry" and found.state in (ShareState.REFUSED, ShareState.CLOSED):
        _replan(found, actor=actor)
        state = advance(order_id=found.pk)
    elif action == "unfreeze" and found.state in (ShareState.REFUSED, ShareState.CLOSED, ShareState.SKIPPED):
        if found.unfrozen_at is not None:
            raise ShareStateError()
        _save(found.pk, unfreeze_error="")
        found.refresh_from_db()
        state = "unfrozen" if _unfreeze(found) else found.state
    else:
        raise ShareStateError(extra={"state": found.state, "action": action})
    found.refresh_from_db()
    audit_record(
        actor=actor,
        action="reconcile.share_action",
        target_type="shareorder",
        target_id=found.pk,
        target_label=found.out_order_no,
        mall_group_id=found.mall_group_id,
        changes={"action": action, "state": [before, found.state], "result": state, "error": found.last_error},
    )
    return state


def _replan(order: ShareOrder, *, actor: Actor) -> None:
    """A refused or closed order planned again: a new round (a new out_order_no: the gateway keeps a number's first
    body), the current limit, and the receiver as the merchant's profile says now."""
    profile = payment_selectors.merchant_profile(merchant_id=order.merchant_id)
    has_receiver = bool(profile and profile.share_receiver_type and profile.share_receiver_account)
    round_no = order.round_no + 1
    _save(
        order.pk,
        round_no=round_no,
        out_order_no=rules.out_order_no(order.out_trade_no, round_no),
        state=ShareState.PENDING if has_receiver else ShareState.SKIPPED,
        skip_reason="" if has_receiver else SkipReason.NO_RECEIVER,
        **({} if has_receiver else {"amount_fen": 0, "capped_fen": max(0, order.part_fen), "cap_reason": ""}),
        limit_bp=limit_bp(),
        refusal="",
        fail_reason="",
        receiver_result="",
        receiver_type=profile.share_receiver_type if profile and has_receiver else order.receiver_type,
        receiver_account=profile.share_receiver_account if profile and has_receiver else order.receiver_account,
        receiver_name=profile.share_receiver_name if profile and has_receiver else order.receiver_name,
        history=entry(actor=actor, action="replan", round=round_no),
    )
