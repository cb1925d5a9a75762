"""The gateway's part of a cancelled exchange, sent back where it came from (after the cancellation committed).

The cancellation refunds the sale through the checkout pipeline in its own transaction (points, wallet money,
stock, coupons) and then enqueues this: the cash paid at WeChat Pay / Alipay is refunded at the gateway through
payments' refund booking (`PaymentRefund` under our out_refund_no `R<out_trade_no>C`, idempotent: running it twice
books and sends one refund; a gateway that is down leaves the booking to payments' resend job). Never inside a lock,
never in the cancellation's transaction (gateway I/O)."""

from __future__ import annotations

import logging

from galleria.payments.services import TopUpRefundGateway

from .models import CartItem, Checkout, Order, Review
from .types import OrderState

logger = logging.getLogger(__name__)


def refund_reference(out_trade_no: str) -> str:
    return f"R{out_trade_no}C"[:64]


def order_gateway_refund(*, order_id: int) -> bool:
    """True once the gateway accepted the refund (or there was nothing to refund)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.state != OrderState.CANCELLED or not order.gateway_fen or not order.gateway_reference:
        return True
    try:
        # payments' refund of part of a paid attempt at its gateway (named for top-ups, its first user): books the
        # PaymentRefund once per reference and sends it; see the report about a purpose-neutral name
        TopUpRefundGateway().refund(
            gateway_ref=order.gateway_reference,
            amount_fen=order.gateway_fen,
            total_fen=order.gateway_fen,
            refund_reference=refund_reference(order.gateway_reference),
        )
    except (LookupError, RuntimeError, ValueError) as exc:
        logger.warning("points mall order %s: gateway refund not accepted yet: %s", order.number, exc)
        return False
    return True


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the delivery name, phone and address the member typed on their
    points-mall and online orders and checkouts are removed, their cart is emptied and their reviews become
    anonymous without their words and photos; the orders (what was bought, for the ledger and the statistics) stay.
    Returns how many rows were rewritten."""
    blank = {"ship_name": "", "ship_phone": "", "ship_address": ""}
    orders = Order.objects.filter(member_id=member_id, mall_group_id=mall_group_id).exclude(**blank).update(**blank)
    checkouts = (
        Checkout.objects.filter(member_id=member_id, mall_group_id=mall_group_id).exclude(**blank).update(**blank)
    )
    carts, _kinds = CartItem.objects.filter(member_id=member_id, sku__product__mall_group_id=mall_group_id).delete()
    reviews = (
        Review.objects.filter(member_id=member_id, product__mall_group_id=mall_group_id)
        .exclude(is_anonymous=True, text="", photos=[])
        .update(is_anonymous=True, text="", photos=[])
    )
    return orders + checkouts + carts + reviews
