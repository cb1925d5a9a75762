"""Paying an online checkout (docs/design/online-mall.md §5.2, §6): the gateway's money arrives, or placement pays
at once.

`online_fulfil` is registered for `Purpose.ONLINE` in `CommerceConfig.ready()` (payments never imports commerce).
Payments calls it in the notification's durable transaction with the attempt row locked; it locks the checkout (not
`pending_payment` any more → `commerce.checkout_not_payable`, and payments refunds the money in full), then its
orders (primary-key order), rebuilds the pipeline's cart from the stored orders (`checkout_prepare.cart_in_of`,
dated `placed_at` so promotions, coupon windows and the tier are those the member was quoted) and commits it with
the checkout's own holds (`use_holds`: the pipeline releases the points hold `chk:<number>` after locking the
accounts and redeems the coupons held under the number). `paid_in_tx` then checks each sub-order's figures against
the placement's (`commerce.price_changed` otherwise: everything rolls back and the money is refunded), records
each order's sale and places its earn hold `earn:<order id>` (the points earned stay unspendable until the order
completes, §6), gives pickup orders their code and marks orders and checkout paid. Stock is untouched: it was
allocated at placement. Pay-now placement (services_checkout.py) calls `paid_in_tx` with the sales it has just
committed in its own transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.locking import lock_one, lock_rows
from galleria.ledger import services as ledger
from galleria.payments.services import attempt_refund_book_in_tx
from galleria.payments.types import Fulfilled, PaidAttempt
from galleria.sales.services import cart_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import CartResult, PartSplit

from . import exceptions, rules, sql
from .checkout_prepare import GATEWAYS, cart_in_of, stock_ids, stock_of
from .models import Checkout, Order, OrderLine, Sku
from .selectors_checkout import order_lines
from .types import CheckoutState, Fulfilment, OrderState, ShopChannel

POINTS_ACCOUNT = "member_points"

__all__ = ["online_fulfil", "online_order_cancel", "order_cancel_locked_in_tx", "paid_in_tx"]


def _figures_match(order: Order, part: PartSplit) -> bool:
    placed = (order.goods_fen, order.discount_fen, order.cart_discount_fen, order.total_points, order.cash_fen)
    now = (part.total_fen, part.discount_fen, part.cart_discount_fen, part.points, part.rest_fen)
    return placed == now and order.points_value_fen == part.points_value_fen


def _pickup_code(mall_group_id: int) -> str:
    code = rules.new_pickup_code()
    while Order.objects.filter(mall_group_id=mall_group_id, pickup_code=code).exists():
        code = rules.new_pickup_code()  # pragma: no cover - 1 in 10⁸ per open order
    return code


def _earn_hold(*, mall_group_id: int, member_id: int, order: Order, points: int) -> None:
    """The points a sub-order's sale earned, held until the order completes (its return window over)."""
    if points <= 0:
        return
    accounts = ledger.lock_member_accounts(mall_group_id=mall_group_id, member_id=member_id, kinds=[POINTS_ACCOUNT])
    account = accounts[POINTS_ACCOUNT]
    ledger.hold_place_in_tx(
        account_id=account.pk,
        key=f"earn:{order.pk}",
        amount=points,
        reason="online order return window",
        check_available=False,
        locked={account.pk: account},
    )


def paid_in_tx(
    *, checkout: Checkout, orders: list[Order], result: CartResult, at: dt.datetime, reference: str, actor: Actor
) -> Checkout:
    """Record a committed cart on the (locked) checkout and its orders, in sub-order order: figures checked equal
    to the placement's, sales, earn holds, pickup codes, states `paid`."""
    if len(result.parts) != len(orders):
        raise exceptions.PriceChangedError(extra={"checkout": checkout.number})
    for order, part in zip(orders, result.parts, strict=True):
        if not _figures_match(order, part):
            raise exceptions.PriceChangedError(extra={"order": order.number})
    for order, sale in zip(orders, result.sales, strict=True):
        _earn_hold(
            mall_group_id=checkout.mall_group_id,
            member_id=sale.member_id or checkout.member_id,
            order=order,
            points=sale.points_earned,
        )
        order.sale_id, order.paid_at, order.state = sale.sale_id, at, OrderState.PAID
        order.points_earned, order.earn_hold_open = sale.points_earned, sale.points_earned > 0
        order.gateway_reference = reference if order.gateway_fen else ""
        if order.fulfilment == Fulfilment.PICKUP and not order.pickup_code:
            order.pickup_code = _pickup_code(checkout.mall_group_id)
        order.save()
    checkout.state, checkout.paid_at = CheckoutState.PAID, at
    checkout.gateway_reference = reference if checkout.gateway_fen else ""
    checkout.save(update_fields=["state", "paid_at", "gateway_reference", "updated_at"])
    audit_record(
        actor=actor,
        action="online_mall.paid",
        target_type="online_checkout",
        target_id=checkout.pk,
        target_label=checkout.number,
        mall_group_id=checkout.mall_group_id,
        changes={
            "sales": [s.sale_id for s in result.sales],
            "gateway_fen": checkout.gateway_fen,
            "wallet_fen": checkout.wallet_fen,
            "reference": reference,
        },
    )
    return checkout


def online_fulfil(paid: PaidAttempt) -> Fulfilled:
    """The gateway's money for a checkout arrived: make its sales, or raise (payments refunds the money in full)."""
    number = str(paid.order.get("checkout") or "")
    found = Checkout.objects.filter(number=number).values_list("pk", flat=True).first() if number else None
    if found is None:
        raise exceptions.CheckoutNotPayableError(_("No such order."), extra={"checkout": number})
    checkout = lock_one(Checkout.objects.filter(pk=found))  # 2. after the attempt (1)
    if checkout.state != CheckoutState.PENDING_PAYMENT:  # a merged member's checkout is the survivor's now
        raise exceptions.CheckoutNotPayableError(extra={"state": checkout.state})
    if paid.amount_fen != checkout.gateway_fen:
        raise exceptions.PriceChangedError(extra={"paid_fen": paid.amount_fen, "gateway_fen": checkout.gateway_fen})
    orders = lock_rows(Order.objects.filter(checkout_id=checkout.pk))  # 3.
    lines = order_lines(order_ids=[o.pk for o in orders])
    skus = {s.pk: s for s in Sku.objects.filter(pk__in={ln.sku_id for ls in lines.values() for ln in ls})}
    cart = cart_in_of(
        member_id=checkout.member_id,
        number=checkout.number,
        occurred_at=checkout.placed_at,
        parts=[(o, lines[o.pk]) for o in orders],
        skus=skus,
        cart_coupon_id=checkout.cart_coupon_id,
        points=checkout.points,
        rest_method=paid.provider,
        rest_fen=paid.amount_fen,
        use_holds=True,
    )
    actor = Actor.system("online_mall:gateway")
    result = cart_commit_in_tx(data=cart, actor=actor)  # 5 → 6 → 8 (the pipeline)
    paid_in_tx(
        checkout=checkout,
        orders=orders,
        result=result,
        at=min(paid.paid_at, timeutil.now()),
        reference=paid.out_trade_no,
        actor=actor,
    )
    return Fulfilled(sale_id=None)


# ------------------------------------------------------------------------------------------------- cancel a paid order


def _may_cancel(order: Order, *, by_member: bool) -> bool:
    """§6: the member before the merchant prepares or ships it (仅退款, no approval); the merchant while it is
    paid or waiting for pickup."""
    if order.shop != ShopChannel.ONLINE or order.checkout_id is None:
        return False
    if by_member:
        return order.state == OrderState.PAID
    return order.state in (OrderState.PAID, OrderState.READY_FOR_PICKUP)


def _refund_gateway(order: Order, money: dict[str, int]) -> None:
    """The gateway's part of the sale refund, booked on the checkout's attempt (sent by a task after commit)."""
    for method, amount in money.items():
        if method in GATEWAYS and amount > 0 and order.gateway_reference:
            attempt_refund_book_in_tx(
                out_trade_no=order.gateway_reference,
                amount_fen=amount,
                out_refund_no=f"R{order.gateway_reference}-{order.number}",
                merchant_id=order.merchant_id,
                reason="online order cancelled",
                origin=f"online:{order.number}",
            )


def online_order_cancel(
    *,
    order_id: int,
    actor: Actor,
    member_id: int | None = None,
    merchant_id: int | None = None,
    reason: str = "",
) -> Order:
    """Cancel a paid sub-order with a full refund (docs/design/online-mall.md §6; lock order 3 → 5 → 7 → 8 → 9):
    the earn hold released, the sale refunded in full through the pipeline (money back by method in proportion,
    points spent returned, points earned clawed back, coupons rolled back), the gateway's part booked as a refund
    of the checkout's attempt, the stock allocation released. `member_id`: the member cancels; `merchant_id`: the
    merchant's staff. Cancelling a cancelled order returns it."""
    at = timeutil.now()
    with transaction.atomic(durable=True):
        scope = Order.objects.filter(pk=order_id, shop=ShopChannel.ONLINE)
        if member_id is not None:
            scope = scope.filter(member_id=member_id)
        if merchant_id is not None:
            scope = scope.filter(merchant_id=merchant_id)
        try:
            order = lock_one(scope)  # 3.
        except Order.DoesNotExist:
            raise exceptions.OrderNotFoundError() from None
        if order.state == OrderState.CANCELLED:
            return order
        if not _may_cancel(order, by_member=member_id is not None):
            raise exceptions.CancelNotAllowedError(extra={"state": order.state})
        by = "member" if member_id is not None else "merchant" if merchant_id is not None else "staff"
        return order_cancel_locked_in_tx(order, actor=actor, by=by, reason=reason, at=at)


def order_cancel_locked_in_tx(order: Order, *, actor: Actor, by: str, reason: str, at: dt.datetime) -> Order:
    """The body of a paid order's cancel, its row locked by the caller (step 3; the caller checked it may be
    cancelled): lock steps 5 → 7 → 8 → 9. `online_orders_progress` runs it for an uncollected pickup."""
    before = order.state
    if order.earn_hold_open:  # 5. (the clawback then takes the points the hold reserved)
        ledger.hold_release_in_tx(key=f"earn:{order.pk}")
    refund = sale_refund_in_tx(  # 5 → 7 → 8
        merchant_id=order.merchant_id, pos_sale_id=order.pos_sale_id, pos_refund_id=f"oc:{order.number}", lines=None
    )
    _refund_gateway(order, refund.payments)
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    wanted = stock_ids(stock_of([(order, lines)]))
    if sql.stock_release(wanted=wanted, at=at) != set(wanted):  # 9.
        raise exceptions.OrderStateError(extra={"order": order.number, "stock": "not allocated"})
    OrderLine.objects.filter(order=order).update(refunded_qty=F("quantity"))
    order.state, order.cancelled_at = OrderState.CANCELLED, at
    order.cancelled_by, order.cancel_reason = actor.label[:100], reason.strip()[:200]
    order.refund_id, order.points_returned = refund.refund_id, refund.points_returned
    order.refunded_fen, order.earn_hold_open = order.goods_fen, False
    order.save()
    audit_record(
        actor=actor,
        action="online_mall.order_cancel",
        target_type="online_order",
        target_id=order.pk,
        target_label=order.number,
        mall_group_id=order.mall_group_id,
        changes={
            "state": [before, OrderState.CANCELLED],
            "money": refund.payments,
            "points_returned": refund.points_returned,
            "points_clawed_back": refund.points_clawed_back,
            "by": by,
            "reason": order.cancel_reason,
        },
    )
    return order
