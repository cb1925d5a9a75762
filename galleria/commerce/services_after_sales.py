"""After-sales of online orders (docs/design/online-mall.md §7; build step O4): the member asks for a refund only
(仅退款) or a return and refund (退货退款) of some units of some lines, with a reason and up to 3 photos; the
merchant accepts or rejects within the group's `after_sale_response_hours`; a rejected request may be escalated by
the member, and one not answered in time is escalated by the `online_orders_progress` job; the mall arbitrates
(console, `online_mall.arbitrate`): refund or close.

**The refund** is the checkout pipeline's own (`sales.services.sale_refund_in_tx` on the order's sale, these lines
and quantities): money back by payment method in proportion, points spent returned, points earned clawed back,
coupons rolled back by the engine (a cross-shop part in proportion only). Then the order's earn hold is reduced by
what was clawed back (the points still waiting for the return window), the gateway's part is booked as a refund of
the checkout's attempt for this merchant (`R<out_trade_no>-<request number>`, sent after commit), the lines'
`refunded_qty` and the order's `refunded_fen` grow, and the goods go back to stock when the merchant says so.
`after_sale_preview` runs the same refund in a transaction that is rolled back: the exact figures before confirming.

Lock order (§5.7): the order row (3) → the request (4) → the pipeline's accounts, sale, coupons (5 → 7 → 8) → stock
(9). Quantities are checked under the order's lock: Σ units of a line's open, refunded and rejected requests never
exceed what was bought (`commerce.return_quantity_exceeded`)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.locking import lock_one
from galleria.ledger import services as ledger
from galleria.payments.services import attempt_refund_book_in_tx
from galleria.sales.services import sale_refund_in_tx
from galleria.sales.types import RefundLineIn, RefundResult

from . import exceptions, rules_orders, selectors_catalog, selectors_orders
from .checkout_prepare import GATEWAYS, new_number
from .models import Order, OrderLine, ReturnLine, ReturnRequest, SkuStock
from .services_notices import notify_return
from .types import ReturnKind, ReturnState, ShopChannel

_SHA = re.compile(r"^[0-9a-f]{64}$")
_WHY = {
    "commerce.cancel_instead": _("This order has not left the shop yet: cancel it instead, for a full refund."),
    "commerce.not_received": _("Goods can be returned once received; before that, ask for a refund only."),
    "commerce.return_window_over": _("The time to ask for a refund or return of this order is over."),
}
MAX_STOCK = 1_000_000

__all__ = [
    "ReturnIn",
    "after_sale_accept",
    "after_sale_arbitrate",
    "after_sale_escalate",
    "after_sale_preview",
    "after_sale_receive",
    "after_sale_reject",
    "after_sale_request",
    "after_sale_withdraw",
    "returns_overdue_escalate",
]


@dataclass(frozen=True)
class ReturnIn:
    """A member's request: {order line id: units}, kind, reason, picture digests (already stored)."""

    order_id: int
    kind: str
    lines: dict[int, int]
    reason: str
    photos: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------- request


def _check_input(data: ReturnIn) -> tuple[str, tuple[str, ...]]:
    errors: dict[str, str] = {}
    reason = data.reason.strip()[:200]
    if data.kind not in ReturnKind.values:
        errors["kind"] = str(_("Choose refund only or return and refund."))
    if not reason:
        errors["reason"] = str(_("Say why."))
    if not data.lines or any(q < 1 or q > 10_000 for q in data.lines.values()):
        errors["lines"] = str(_("Choose at least one item and how many."))
    photos = tuple(p for p in data.photos if p)
    if len(photos) > rules_orders.MAX_PHOTOS or not all(_SHA.fullmatch(p) for p in photos):
        errors["photos"] = str(_("At most 3 photos."))
    if errors:
        raise ValidationError(_("Check the request."), code="commerce.return_invalid", fields=errors)
    return reason, photos


def _lock_order(order_id: int, **scope: int) -> Order:
    try:
        return lock_one(Order.objects.filter(pk=order_id, shop=ShopChannel.ONLINE, checkout__isnull=False, **scope))
    except Order.DoesNotExist:
        raise exceptions.OrderNotFoundError() from None


def after_sale_request(*, member_id: int, data: ReturnIn, key: str, actor: Actor) -> ReturnRequest:
    """Open a request (lock 3 → 4). Idempotent per (member, key): the same key returns the first request. Raises
    ValidationError (fields), OrderStateError with `code` `commerce.cancel_instead` (not shipped yet: cancel the
    order), `commerce.not_received` (a return of goods not received), `commerce.return_window_over`, and
    ReturnQuantityExceededError."""
    if not key or len(key) > 64:
        raise ConflictError(_("This form has expired. Please start again."), code="commerce.key_required")
    found = ReturnRequest.objects.filter(member_id=member_id, idempotency_key=key).first()
    if found is not None:
        return found
    reason, photos = _check_input(data)
    at = timeutil.now()
    try:
        with transaction.atomic(durable=True):
            order = _lock_order(data.order_id, member_id=member_id)  # 3.
            problem = rules_orders.may_request(
                state=order.state, kind=data.kind, now=at, return_until_at=order.return_until
            )
            if problem:
                raise exceptions.OrderStateError(_WHY[problem], code=problem, extra={"state": order.state})
            lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
            taken = selectors_orders.returned_units(order_id=order.pk)
            for line_id, quantity in data.lines.items():
                line = lines.get(line_id)
                if line is None:
                    raise ValidationError(
                        _("Check the request."), code="commerce.return_invalid", fields={"lines": "?"}
                    )
                left = rules_orders.quantity_left(bought=line.quantity, taken=taken.get(line_id, 0))
                if quantity > left:
                    raise exceptions.ReturnQuantityExceededError(extra={"line_id": line_id, "left": left})
            settings = selectors_catalog.online_settings_get(mall_group_id=order.mall_group_id)
            request = ReturnRequest.objects.create(
                number=new_number("RR", at, None),
                order=order,
                merchant_id=order.merchant_id,
                member_id=member_id,
                kind=data.kind,
                reason=reason,
                photos=list(photos),
                respond_by=rules_orders.respond_by(requested_at=at, hours=settings.after_sale_response_hours),
                idempotency_key=key,
            )
            ReturnLine.objects.bulk_create(
                [ReturnLine(request=request, order_line_id=i, quantity=q) for i, q in sorted(data.lines.items())]
            )
            _audit(request, "return_request", actor, {"kind": data.kind, "lines": data.lines, "reason": reason})
            return request
    except IntegrityError:
        again = ReturnRequest.objects.filter(member_id=member_id, idempotency_key=key).first()
        if again is None:
            raise
        return again


# ------------------------------------------------------------------------------------------------- refund


def _sale_lines(request: ReturnRequest) -> list[RefundLineIn]:
    return [
        RefundLineIn(line_no=rl.order_line.line_no, quantity=rl.quantity)
        for rl in selectors_orders.return_lines(request_id=request.pk)
    ]


def after_sale_preview(
    *, request_id: int, merchant_id: int | None = None, mall_group_id: int | None = None
) -> RefundResult:
    """What refunding this request would give back now — money by method, points returned and clawed back — by
    the pipeline's own refund in a transaction rolled back afterwards (its errors are the real ones too)."""
    request = _find(request_id, merchant_id=merchant_id, mall_group_id=mall_group_id)
    with transaction.atomic():
        result = sale_refund_in_tx(
            merchant_id=request.order.merchant_id,
            pos_sale_id=request.order.pos_sale_id,
            pos_refund_id=f"preview:{secrets.token_hex(8)}",
            lines=_sale_lines(request),
        )
        transaction.set_rollback(True)
    return result


def _restock(order: Order, request: ReturnRequest, at: dt.datetime) -> None:
    """Lock step 9: the returned goods back on the order's store's shelf (on_hand + q), rows in primary-key order."""
    wanted: dict[int, int] = {}
    for rl in selectors_orders.return_lines(request_id=request.pk):
        stock = SkuStock.objects.filter(sku_id=rl.order_line.sku_id, store_id=order.store_id).values_list(
            "pk", flat=True
        )
        for stock_id in stock[:1]:
            wanted[stock_id] = wanted.get(stock_id, 0) + rl.quantity
    for stock_id in sorted(wanted):
        q = wanted[stock_id]
        SkuStock.objects.filter(pk=stock_id, on_hand__lte=MAX_STOCK - q).update(on_hand=F("on_hand") + q, updated_at=at)
    ReturnLine.objects.filter(request=request).update(restock=True)


def _refund_in_tx(order: Order, request: ReturnRequest, *, at: dt.datetime, restock: bool) -> RefundResult:
    """Lock steps 5 → 7 → 8 (the pipeline), the earn hold reduced, the gateway's part booked, (9) restock."""
    refund = sale_refund_in_tx(
        merchant_id=order.merchant_id,
        pos_sale_id=order.pos_sale_id,
        pos_refund_id=f"rr:{request.number}",
        lines=_sale_lines(request),
    )
    if order.earn_hold_open and refund.points_clawed_back:
        ledger.hold_reduce_in_tx(key=f"earn:{order.pk}", by=refund.points_clawed_back)
    booked = ""
    for method, amount in refund.payments.items():
        if method in GATEWAYS and amount > 0 and order.gateway_reference:
            booked = f"R{order.gateway_reference}-{request.number}"[:64]
            attempt_refund_book_in_tx(
                out_trade_no=order.gateway_reference,
                amount_fen=amount,
                out_refund_no=booked,
                merchant_id=order.merchant_id,
                reason="online order after-sales",
                origin=f"online:{request.number}",
            )
    for rl in selectors_orders.return_lines(request_id=request.pk):
        OrderLine.objects.filter(pk=rl.order_line_id).update(refunded_qty=F("refunded_qty") + rl.quantity)
    order.refunded_fen = min(order.goods_fen, order.refunded_fen + refund.amount_fen)
    order.save(update_fields=["refunded_fen", "updated_at"])
    if restock:
        _restock(order, request, at)
    request.state, request.refund_id = ReturnState.REFUNDED, refund.refund_id
    request.money_fen, request.points_returned = refund.money_fen, refund.points_returned
    request.payment_refund_ref = booked
    return refund


# ------------------------------------------------------------------------------------------------- decisions


def _find(
    request_id: int, *, merchant_id: int | None = None, mall_group_id: int | None = None, member_id: int | None = None
) -> ReturnRequest:
    qs = ReturnRequest.objects.filter(pk=request_id).select_related("order")
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if mall_group_id is not None:
        qs = qs.filter(order__mall_group_id=mall_group_id)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    found = qs.first()
    if found is None:
        raise exceptions.ReturnNotFoundError()
    return found


def _decide(
    request_id: int,
    *,
    action: str,
    actor_kind: str,
    actor: Actor,
    note: str = "",
    restock: bool = False,
    scope: dict[str, int],
) -> ReturnRequest:
    """One durable transaction: the order (3), the request (4), the transition table, the refund when it leads to
    `refunded`. A decision already taken (the same state reached) returns the request unchanged."""
    found = _find(request_id, **scope)
    at = timeutil.now()
    with transaction.atomic(durable=True):
        order = _lock_order(found.order_id)  # 3.
        request = lock_one(ReturnRequest.objects.filter(pk=found.pk))  # 4.
        before = request.state
        to = rules_orders.return_transition(state=before, action=action, kind=request.kind, actor=actor_kind)
        if not to:
            raise exceptions.ReturnStateError(extra={"state": before, "action": action})
        result: RefundResult | None = None
        if to == ReturnState.REFUNDED:
            result = _refund_in_tx(order, request, at=at, restock=restock and request.kind == ReturnKind.RETURN_REFUND)
        request.state = to
        if action in ("accept", "reject", "close") or (action == "refund" and actor_kind == rules_orders.MALL):
            request.decided_by, request.decision_note = actor.label[:100], note.strip()[:200]
        if to == ReturnState.ESCALATED:
            request.escalated_at = at
        request.save()
        changes: dict[str, object] = {"state": [before, to], "note": note.strip()[:200]}
        if result is not None:
            changes.update(
                money=result.payments, points_returned=result.points_returned, clawed=result.points_clawed_back
            )
        _audit(request, f"return_{action}", actor, changes)
        if actor_kind in (rules_orders.MERCHANT, rules_orders.MALL):
            notify_return(request, order)
        return request


def after_sale_accept(*, merchant_id: int, request_id: int, actor: Actor, note: str = "") -> ReturnRequest:
    """The merchant accepts: a refund-only request is refunded at once; a return waits for the goods."""
    return _decide(
        request_id, action="accept", actor_kind="merchant", actor=actor, note=note, scope={"merchant_id": merchant_id}
    )


def after_sale_reject(*, merchant_id: int, request_id: int, actor: Actor, note: str) -> ReturnRequest:
    """The merchant rejects, saying why (required): the member may escalate it to the mall."""
    if not note.strip():
        raise ValidationError(_("Say why."), code="commerce.note_required", fields={"note": str(_("Say why."))})
    return _decide(
        request_id, action="reject", actor_kind="merchant", actor=actor, note=note, scope={"merchant_id": merchant_id}
    )


def after_sale_receive(*, merchant_id: int, request_id: int, actor: Actor, restock: bool) -> ReturnRequest:
    """The returned goods arrived: refunded now; `restock` puts them back on the store's shelf."""
    return _decide(
        request_id,
        action="receive",
        actor_kind="merchant",
        actor=actor,
        restock=restock,
        scope={"merchant_id": merchant_id},
    )


def after_sale_withdraw(*, member_id: int, request_id: int, actor: Actor) -> ReturnRequest:
    return _decide(request_id, action="withdraw", actor_kind="member", actor=actor, scope={"member_id": member_id})


def after_sale_escalate(*, member_id: int, request_id: int, actor: Actor) -> ReturnRequest:
    """The member asks the mall to decide a rejected request."""
    return _decide(request_id, action="escalate", actor_kind="member", actor=actor, scope={"member_id": member_id})


def after_sale_arbitrate(
    *, mall_group_id: int, request_id: int, refund: bool, actor: Actor, note: str
) -> ReturnRequest:
    """The mall decides an escalated request: refund it (the pipeline's refund, as if the merchant had accepted)
    or close it. A note is required (the member and the merchant read it)."""
    if not note.strip():
        raise ValidationError(_("Say why."), code="commerce.note_required", fields={"note": str(_("Say why."))})
    return _decide(
        request_id,
        action="refund" if refund else "close",
        actor_kind="mall",
        actor=actor,
        note=note,
        scope={"mall_group_id": mall_group_id},
    )


def returns_overdue_escalate(*, now: dt.datetime, limit: int = 200) -> int:
    """Requests the merchant did not answer by `respond_by` go to the mall (one transaction each; a request
    decided meanwhile is left alone). Returns how many were escalated."""
    done = 0
    actor = Actor.system("online_orders_progress")
    for request_id in selectors_orders.returns_overdue(now=now, limit=limit):
        try:
            _decide(request_id, action="escalate", actor_kind="system", actor=actor, scope={})
        except exceptions.ReturnStateError:
            continue
        done += 1
    return done


def _audit(request: ReturnRequest, action: str, actor: Actor, changes: dict[str, object]) -> None:
    audit_record(
        actor=actor,
        action=f"online_mall.{action}",
        target_type="online_return",
        target_id=request.pk,
        target_label=request.number,
        mall_group_id=request.order.mall_group_id,
        changes=changes,
    )
