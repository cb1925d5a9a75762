"""Fulfilment of paid online orders (docs/design/online-mall.md §6, §10; build step O3): ready for pickup, the
hand-over by pickup code, shipping with a carrier and tracking number, the delivery timeline (the merchant's staff
or its signed integration), delivery (the member confirms, the merchant or the courier reports it, or the job after
the group's `auto_receive_days`), completion after the return window — which releases the earn hold
`earn:<order id>` so the points earned become spendable — and the cancel of a pickup not collected in time.

Every change is one durable transaction that locks the order row first (lock step 3) and asks the pure transition
table (`rules_orders.transition`); a refused transition is `commerce.wrong_state`. Stock moves from "allocated" to
"sold" when the goods leave (hand-over or ship: step 9, rows in primary-key order). `orders_progress` (the
`online_orders_progress` command) reads the due orders without a lock, then handles each in its own transaction
with `SKIP LOCKED`, re-checking that it is still due under the lock: several workers, a member's tap or a clerk's
hand-over racing it are all safe, and running it twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.locking import lock_one
from galleria.ledger import services as ledger

from . import exceptions, rules, rules_orders, selectors_catalog, selectors_orders
from .checkout_prepare import stock_ids, stock_of
from .models import Order, OrderLine, ShipmentEvent, SkuStock
from .services_after_sales import returns_overdue_escalate
from .services_notices import notify_order
from .services_online_gateway import order_cancel_locked_in_tx
from .types import Fulfilment, OrderState, ShipmentSource, ShipmentStatus, ShopChannel

PROGRESS_BATCH = 200

__all__ = [
    "order_deliver",
    "order_event_add",
    "order_event_add_in_tx",
    "order_event_post_in_tx",
    "order_hand_over",
    "order_ready",
    "order_receive",
    "order_ship",
    "orders_progress",
]


# ------------------------------------------------------------------------------------------------- helpers


def _lock(order_id: int, *, merchant_id: int | None = None, member_id: int | None = None) -> Order:
    scope = Order.objects.filter(pk=order_id, shop=ShopChannel.ONLINE, checkout__isnull=False)
    if merchant_id is not None:
        scope = scope.filter(merchant_id=merchant_id)
    if member_id is not None:
        scope = scope.filter(member_id=member_id)
    try:
        return lock_one(scope)  # 3.
    except Order.DoesNotExist:
        raise exceptions.OrderNotFoundError() from None


def _next(order: Order, action: str, actor_kind: str) -> str:
    to = rules_orders.transition(state=order.state, action=action, fulfilment=order.fulfilment, actor=actor_kind)
    if not to:
        raise exceptions.OrderStateError(extra={"state": order.state, "action": action})
    return to


def _consume_stock(order: Order, at: dt.datetime) -> None:
    """Lock step 9: the goods leave — each stock row's allocation becomes sold (`on_hand − q, allocated − q,
    sold + q` where `allocated >= q`), rows in primary-key order; a row not changed means the books disagree."""
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    wanted = stock_ids(stock_of([(order, lines)]))
    for stock_id in sorted(wanted):
        q = wanted[stock_id]
        changed = SkuStock.objects.filter(pk=stock_id, allocated__gte=q, on_hand__gte=q).update(
            on_hand=F("on_hand") - q, allocated=F("allocated") - q, sold=F("sold") + q, updated_at=at
        )
        if changed != 1:
            raise ConflictError(code="commerce.stock_books", extra={"order": order.number, "stock": stock_id})


def _audit(order: Order, action: str, actor: Actor, changes: dict[str, object]) -> None:
    audit_record(
        actor=actor,
        action=f"online_mall.{action}",
        target_type="online_order",
        target_id=order.pk,
        target_label=order.number,
        mall_group_id=order.mall_group_id,
        changes=changes,
    )


def _delivered(order: Order, at: dt.datetime) -> None:
    settings = selectors_catalog.online_settings_get(mall_group_id=order.mall_group_id)
    order.state, order.delivered_at = OrderState.DELIVERED, at
    order.return_until = rules_orders.return_until(delivered_at=at, return_days=settings.return_days)


# ------------------------------------------------------------------------------------------------- pickup


def order_ready(*, order_id: int, merchant_id: int, actor: Actor) -> Order:
    """The merchant has prepared a pickup order: the member is told to come with the code (given at payment).
    Again on a ready order returns it."""
    with transaction.atomic(durable=True):
        order = _lock(order_id, merchant_id=merchant_id)
        if order.state == OrderState.READY_FOR_PICKUP:
            return order
        order.state = _next(order, rules_orders.READY, rules_orders.MERCHANT)
        order.ready_at = timeutil.now()
        order.save(update_fields=["state", "ready_at", "updated_at"])
        _audit(order, "order_ready", actor, {"state": [OrderState.PAID, order.state]})
        notify_order(order, "ready")
        return order


def order_hand_over(*, merchant_id: int, code: str, actor: Actor) -> Order:
    """The member shows the pickup code at the merchant's counter: the order (paid or ready) is handed over —
    stock consumed, delivered, the return window starts. The code works once: the order row's lock makes two
    clerks hand over once; a used code is PickupCodeUsedError (with when), an unknown one (or another merchant's)
    PickupCodeInvalidError, a cancelled order OrderStateError."""
    normalised = rules.normalise_code(code)
    found = selectors_orders.merchant_order_by_code(merchant_id=merchant_id, code=normalised) if normalised else None
    if found is None:
        raise exceptions.PickupCodeInvalidError(fields={"code": exceptions.PickupCodeInvalidError().message})
    at = timeutil.now()
    with transaction.atomic(durable=True):
        order = _lock(found.pk, merchant_id=merchant_id)
        if order.picked_up_at is not None:
            raise exceptions.PickupCodeUsedError(
                _("This pickup code was already used: the order was handed over."),
                extra={"picked_up_at": order.picked_up_at.isoformat(), "order": order.number},
            )
        if order.state == OrderState.CANCELLED:
            raise exceptions.OrderStateError(_("This order was cancelled: nothing to hand over."))
        before = order.state
        _next(order, rules_orders.HAND_OVER, rules_orders.MERCHANT)
        _consume_stock(order, at)
        _delivered(order, at)
        order.picked_up_at, order.handed_over_by = at, actor.label[:100]
        order.save()
        _audit(order, "hand_over", actor, {"state": [before, order.state]})
        return order


# ------------------------------------------------------------------------------------------------- delivery


def order_ship(*, order_id: int, merchant_id: int, carrier: str, tracking_no: str, actor: Actor) -> Order:
    """The merchant ships a delivery order with a carrier and tracking number: stock consumed, the timeline's
    first event. Field errors (`carrier`, `tracking_no`) are ValidationError; a shipped order is OrderStateError."""
    tracking = rules_orders.clean_tracking(tracking_no)
    errors: dict[str, str] = {}
    if carrier not in rules_orders.CARRIER_CODES:
        errors["carrier"] = str(_("Choose the carrier."))
    if not tracking:
        errors["tracking_no"] = str(_("Enter the tracking number: 6 to 40 letters, digits or dashes."))
    if errors:
        raise ValidationError(_("Check the shipping details."), code="commerce.shipping_invalid", fields=errors)
    at = timeutil.now()
    with transaction.atomic(durable=True):
        order = _lock(order_id, merchant_id=merchant_id)
        order.state = _next(order, rules_orders.SHIP, rules_orders.MERCHANT)
        _consume_stock(order, at)
        order.carrier, order.tracking_no = carrier, tracking
        order.shipped_at, order.shipped_by = at, actor.label[:100]
        order.save()
        ShipmentEvent.objects.create(
            order=order,
            at=at,
            status=ShipmentStatus.SHIPPED,
            text=f"{rules_orders.carrier_label(carrier)} {tracking}",
            source=ShipmentSource.MERCHANT,
        )
        _audit(order, "ship", actor, {"state": [OrderState.PAID, order.state], "carrier": carrier, "no": tracking})
        notify_order(order, "shipped")
        return order


def order_event_add_in_tx(
    order: Order,
    *,
    status: str,
    at: dt.datetime,
    text: str = "",
    location: str = "",
    source: str,
    external_id: str = "",
    actor: Actor,
) -> tuple[ShipmentEvent, bool]:
    """Add a timeline event to a shipped order (locked by the caller); `delivered` also delivers it. The same
    `external_id` again returns the first event (created False). An order already delivered accepts only notes
    and repeats."""
    if external_id:
        first = ShipmentEvent.objects.filter(order=order, external_id=external_id).first()
        if first is not None:
            return first, False
    if status not in ShipmentStatus.values or status == ShipmentStatus.SHIPPED:
        raise ValidationError(_("Choose what happened."), code="commerce.event_invalid", fields={"status": "invalid"})
    late = order.state == OrderState.DELIVERED and status in (ShipmentStatus.NOTE, ShipmentStatus.DELIVERED)
    if not late:
        _next(order, rules_orders.EVENT, rules_orders.MERCHANT)
    moment = min(at, timeutil.now())
    event = ShipmentEvent.objects.create(
        order=order,
        at=moment,
        status=status,
        text=text.strip()[:200],
        location=location.strip()[:60],
        source=source,
        external_id=external_id[:64],
    )
    if status == ShipmentStatus.DELIVERED and order.state == OrderState.SHIPPED:
        _delivered(order, moment)
        order.save(update_fields=["state", "delivered_at", "return_until", "updated_at"])
        _audit(order, "delivered", actor, {"state": [OrderState.SHIPPED, order.state], "by": source})
    return event, True


def order_event_add(
    *,
    order_id: int,
    merchant_id: int,
    status: str,
    actor: Actor,
    text: str = "",
    location: str = "",
    at: dt.datetime | None = None,
) -> ShipmentEvent:
    """The merchant's staff add a timeline event (in transit, out for delivery, delivered, a problem, a note)."""
    with transaction.atomic(durable=True):
        order = _lock(order_id, merchant_id=merchant_id)
        event, _created = order_event_add_in_tx(
            order,
            status=status,
            at=at or timeutil.now(),
            text=text,
            location=location,
            source=ShipmentSource.MERCHANT,
            actor=actor,
        )
        return event


def order_event_post_in_tx(
    *,
    merchant_id: int,
    number: str,
    status: str,
    at: dt.datetime,
    external_id: str,
    actor: Actor,
    text: str = "",
    location: str = "",
) -> tuple[ShipmentEvent, bool]:
    """A merchant's signed integration (its ERP, its courier) posts a timeline event of one of its orders, in the
    caller's transaction (the POS API's idempotency record). Another merchant's order number reads as absent."""
    found = selectors_orders.merchant_order_by_number(merchant_id=merchant_id, number=number)
    if found is None:
        raise exceptions.OrderNotFoundError()
    order = _lock(found.pk, merchant_id=merchant_id)
    return order_event_add_in_tx(
        order,
        status=status,
        at=at,
        text=text,
        location=location,
        source=ShipmentSource.API,
        external_id=external_id,
        actor=actor,
    )


def _deliver(order_id: int, *, actor: Actor, actor_kind: str, merchant_id: int | None, member_id: int | None) -> Order:
    at = timeutil.now()
    with transaction.atomic(durable=True):
        order = _lock(order_id, merchant_id=merchant_id, member_id=member_id)
        if order.state in (OrderState.DELIVERED, OrderState.COMPLETED):
            return order
        _next(order, rules_orders.DELIVER, actor_kind)
        _delivered(order, at)
        order.save(update_fields=["state", "delivered_at", "return_until", "updated_at"])
        ShipmentEvent.objects.create(
            order=order,
            at=at,
            status=ShipmentStatus.DELIVERED,
            text=str(_("Received: confirmed by the member")) if member_id else str(_("Delivered")),
            source=ShipmentSource.SYSTEM if member_id else ShipmentSource.MERCHANT,
        )
        _audit(order, "delivered", actor, {"state": [OrderState.SHIPPED, order.state], "by": actor_kind})
        return order


def order_receive(*, order_id: int, member_id: int, actor: Actor) -> Order:
    """The member confirms receipt (确认收货) of a shipped order; again returns it."""
    return _deliver(order_id, actor=actor, actor_kind=rules_orders.MEMBER, merchant_id=None, member_id=member_id)


def order_deliver(*, order_id: int, merchant_id: int, actor: Actor) -> Order:
    """The merchant marks a shipped order delivered (its courier said so)."""
    return _deliver(order_id, actor=actor, actor_kind=rules_orders.MERCHANT, merchant_id=merchant_id, member_id=None)


# ------------------------------------------------------------------------------------------------- the job


def _one(order_id: int, step: Callable[[Order, dt.datetime], bool], now: dt.datetime) -> bool:
    """One durable transaction for one due order, `SKIP LOCKED` (held elsewhere: skipped, the next run sees it)."""
    try:
        with transaction.atomic(durable=True):
            try:
                order = lock_one(Order.objects.filter(pk=order_id), skip_locked=True)
            except Order.DoesNotExist:
                return False
            return step(order, now)
    except IntegrityError:  # pragma: no cover - a constraint refusing means the books disagree: leave it
        return False


def _auto_receive(order: Order, now: dt.datetime) -> bool:
    settings = selectors_catalog.online_settings_get(mall_group_id=order.mall_group_id)
    due = order.shipped_at and rules_orders.receive_due(
        shipped_at=order.shipped_at, auto_receive_days=settings.auto_receive_days
    )
    if order.state != OrderState.SHIPPED or not due or due > now:
        return False
    _delivered(order, due)
    order.save(update_fields=["state", "delivered_at", "return_until", "updated_at"])
    ShipmentEvent.objects.create(
        order=order, at=now, status=ShipmentStatus.DELIVERED, text=str(_("Received automatically")), source="system"
    )
    _audit(order, "delivered", Actor.system("online_orders_progress"), {"state": ["shipped", order.state]})
    return True


def _uncollected(order: Order, now: dt.datetime) -> bool:
    settings = selectors_catalog.online_settings_get(mall_group_id=order.mall_group_id)
    if order.state != OrderState.READY_FOR_PICKUP or order.fulfilment != Fulfilment.PICKUP or order.ready_at is None:
        return False
    if rules_orders.pickup_due(ready_at=order.ready_at, pickup_days=settings.pickup_days) > now:
        return False
    _next(order, rules_orders.CANCEL, rules_orders.SYSTEM)
    order_cancel_locked_in_tx(
        order, actor=Actor.system("online_orders_progress"), by="system", reason=str(_("Not picked up in time")), at=now
    )
    notify_order(order, "uncollected")
    return True


def _complete(order: Order, now: dt.datetime) -> bool:
    """Lock steps 3 → 4 (the open requests are read under the order lock: a request opens under it too) → 5."""
    if order.state != OrderState.DELIVERED or order.return_until is None or order.return_until > now:
        return False
    if selectors_orders.order_has_open_request(order_id=order.pk):
        return False
    released = ledger.hold_release_in_tx(key=f"earn:{order.pk}") if order.earn_hold_open else 0
    order.state, order.completed_at, order.earn_hold_open = OrderState.COMPLETED, now, False
    order.save(update_fields=["state", "completed_at", "earn_hold_open", "updated_at"])
    _audit(order, "completed", Actor.system("online_orders_progress"), {"points_released": released})
    return True


def order_complete_if_due(*, order_id: int, now: dt.datetime | None = None) -> bool:
    """Complete one delivered order whose window is over (the after-sales refund calls it when its last request
    closes after the window). True when it completed."""
    return _one(order_id, _complete, now or timeutil.now())


def orders_progress(*, now: dt.datetime | None = None, limit: int = PROGRESS_BATCH) -> dict[str, int]:
    """The `online_orders_progress` job (docs/design/online-mall.md §10): shipped orders past `auto_receive_days`
    received, pickups not collected within `pickup_days` of "ready" cancelled with a full refund, delivered
    orders past their return window with no open after-sales request completed (earn hold released), after-sales
    requests the merchant did not answer in time escalated to the mall. Counts per kind."""
    moment = now or timeutil.now()
    due = selectors_orders.orders_due(now=moment, limit=limit)
    counts = {
        "received": sum(_one(i, _auto_receive, moment) for i in due["shipped"]),
        "uncollected": sum(_one(i, _uncollected, moment) for i in due["ready"]),
        "completed": sum(_one(i, _complete, moment) for i in due["delivered"]),
    }
    counts["escalated"] = returns_overdue_escalate(now=moment, limit=limit)
    return counts
