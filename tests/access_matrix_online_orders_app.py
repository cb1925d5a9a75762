"""Access matrix entries of the online mall's buying screens (merged into tests/access_matrix.MATRIX): the member
app's cart, checkout, the checkout's payment page and my orders; the console's online orders.

The evidence is made with the ORM on first use (no audit trace): a checkout of the member that is already
cancelled, with one delivered 喜茶 order under it. So every POST is refused or returns what is there and changes
nothing: cancelling the cancelled checkout returns it, paying it without a provider goes back to its page,
cancelling a delivered order is refused, confirming receipt of a delivered order returns it, the cart forms name no
SKU, the after-sales form of an order past its return window goes back to the order, withdrawing or escalating a
request that does not exist and a review without stars are refused. Another member asking for the member's order or
checkout is sent to their own orders list; the 海岸城 admin gets a 404 for the order."""

from __future__ import annotations

from typing import Any

from .access_matrix import NOT_ALLOWED, NOT_FOUND, ROOT, Entry, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # online_mall.view
ORDERS = "/app/mall/orders/"


def _order(ew: EvidenceWorld) -> Any:
    import datetime as dt

    from django.utils import timezone

    from galleria.commerce.models import Checkout, Order

    now = timezone.now()
    checkout, _created = Checkout.objects.get_or_create(
        member=ew.member,
        idempotency_key="evidence-online-checkout",
        defaults={
            "mall_group": ew.world.group,
            "number": "OC2612010000000001",
            "state": "cancelled",
            "placed_at": now,
            "expires_at": now + dt.timedelta(minutes=15),
            "cancelled_at": now,
            "goods_fen": 1900,
            "gateway_fen": 1900,
            "pay_method": "wechat",
        },
    )
    order, _created = Order.objects.get_or_create(
        member=ew.member,
        idempotency_key="evidence-online-checkout:a",
        defaults={
            "mall_group": ew.world.group,
            "shop": "online",
            "number": "ON2612010000000001",
            "merchant": ew.world.merchant,
            "store": ew.world.store,
            "state": "delivered",
            "fulfilment": "delivery",
            "local_day": now.date(),
            "pay_method": "wechat",
            "pos_sale_id": "on:ON2612010000000001",
            "paid_at": now,
            "delivered_at": now,
            "checkout": checkout,
            "goods_fen": 1900,
            "cash_fen": 1900,
            "gateway_fen": 1900,
        },
    )
    return order


def order_id(ew: EvidenceWorld) -> int:
    return int(_order(ew).pk)


def checkout_number(ew: EvidenceWorld) -> str:
    return str(_order(ew).checkout.number)


MATRIX_ONLINE_ORDERS_APP: dict[str, Entry] = {
    # member app
    "app:mall_cart": page(app(), post=GET_ONLY)(r("app:mall_cart")),
    "app:mall_cart_add": action(app(), note="no SKU named: back to the mall, nothing added")(r("app:mall_cart_add")),
    "app:mall_cart_update": action(app(), note="no SKU named: back to the cart, nothing changed")(
        r("app:mall_cart_update")
    ),
    "app:mall_checkout": page(app(), note="an empty cart: back to the cart, nothing placed")(r("app:mall_checkout")),
    "app:mall_checkout_result": page(app(other_member=redirect(ORDERS)), post=GET_ONLY)(
        r("app:mall_checkout_result", checkout_number)
    ),
    "app:mall_checkout_state": page(app(other_member=NOT_FOUND), post=GET_ONLY)(
        r("app:mall_checkout_state", checkout_number)
    ),
    "app:mall_checkout_pay": action(
        app(other_member=redirect(ORDERS)), note="no provider: back to the checkout's page, nothing started"
    )(r("app:mall_checkout_pay", checkout_number)),
    "app:mall_checkout_cancel": action(
        app(other_member=redirect(ORDERS)), note="already cancelled: returned unchanged"
    )(r("app:mall_checkout_cancel", checkout_number)),
    "app:mall_orders": page(app(), post=GET_ONLY)(r("app:mall_orders")),
    "app:mall_order": page(app(other_member=redirect(ORDERS)), post=GET_ONLY)(r("app:mall_order", order_id)),
    "app:mall_order_cancel": action(
        app(other_member=redirect(ORDERS)), note="a delivered order: refused, nothing changes"
    )(r("app:mall_order_cancel", order_id)),
    "app:mall_order_receive": action(app(other_member=redirect(ORDERS)), note="already delivered: returned unchanged")(
        r("app:mall_order_receive", order_id)
    ),
    "app:mall_order_after_sale": page(
        app(other_member=redirect(ORDERS)), note="a delivered order past its return window: back to the order"
    )(r("app:mall_order_after_sale", order_id)),
    "app:mall_return_withdraw": action(
        app(other_member=redirect(ORDERS)), note="no such request: refused, back to the order"
    )(r("app:mall_return_withdraw", order_id, lambda ew: 999_999)),
    "app:mall_return_escalate": action(
        app(other_member=redirect(ORDERS)), note="no such request: refused, back to the order"
    )(r("app:mall_return_escalate", order_id, lambda ew: 999_999)),
    "app:mall_line_review": action(
        app(other_member=redirect(ORDERS)), note="no rating: refused, back to the order, nothing written"
    )(r("app:mall_line_review", order_id, lambda ew: 999_999)),
    # console
    "console:online_orders": page(console(VIEWERS))(r("console:online_orders")),
    "console:online_order": page(console(VIEWERS, scoped=True))(r("console:online_order", order_id)),
}
