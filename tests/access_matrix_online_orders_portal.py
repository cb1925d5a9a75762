"""Access matrix entries of the online mall's orders in the merchant portal (merged into tests/access_matrix.MATRIX):
the orders list, an order and its actions, the pickup-code page, the after-sales queue and a request with its
actions; the console's arbitration of escalated requests; and the POS-signed timeline endpoint of the online orders.

The evidence order is 喜茶's (merchant A), paid, picked up at its store, with zero money (made with the ORM on
first use: building a URL leaves no audit trace); its after-sales request is already refunded, so a POST without
data changes nothing. 优衣库's owner gets a 404 for both, the 海岸城 admin a 403 (portal only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import POS_A, ROOT, Entry, action, api_pos, console, op, page, portal, problem, r
from .evidence_world import EvidenceWorld

ORDERS = {"owner", "clerk"}  # portal.orders (managers too; not in the evidence world)
AFTER_SALES = {"owner"}  # portal.after_sales (managers too)
ARBITRATORS = {"admin", "service", ROOT}  # online_mall.arbitrate
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # online_mall.view
MANAGERS = {"admin", "marketing", ROOT}  # online_mall.manage
PRODUCTS = {"owner"}  # portal.products (managers too): the reviews and replies


def _order(ew: EvidenceWorld) -> Any:
    from django.utils import timezone

    from galleria.commerce.models import Checkout, Order

    found = Order.objects.filter(number="ON-EVIDENCE-1").first()
    if found is not None:
        return found
    now = timezone.now()
    checkout = Checkout.objects.create(
        mall_group=ew.world.group,
        member=ew.member,
        number="OC-EVIDENCE-1",
        idempotency_key="evidence",
        state="paid",
        placed_at=now,
        expires_at=now + dt.timedelta(minutes=15),
        paid_at=now,
    )
    return Order.objects.create(
        mall_group=ew.world.group,
        shop="online",
        number="ON-EVIDENCE-1",
        member=ew.member,
        merchant=ew.world.merchant,
        store=ew.world.store,
        state="paid",
        fulfilment="pickup",
        local_day=now.date(),
        pos_sale_id="on:ON-EVIDENCE-1",
        idempotency_key="evidence:1",
        paid_at=now,
        checkout=checkout,
        pickup_code="97531864",
    )


def order_id(ew: EvidenceWorld) -> int:
    return int(_order(ew).pk)


def request_id(ew: EvidenceWorld) -> int:
    from galleria.commerce.models import ReturnRequest

    order = _order(ew)
    found, _created = ReturnRequest.objects.get_or_create(
        number="RR-EVIDENCE-1",
        defaults={
            "order": order,
            "merchant": order.merchant,
            "member": order.member,
            "kind": "refund_only",
            "state": "refunded",
            "reason": "证据",
            "idempotency_key": "evidence",
        },
    )
    return int(found.pk)


def review_id(ew: EvidenceWorld) -> int:
    from galleria.commerce.models import OrderLine, Review, Sku

    order = _order(ew)
    line = OrderLine.objects.filter(order=order).first()
    if line is None:
        from .access_matrix_online_mall import _product

        product = _product(ew)
        sku = Sku.objects.filter(product=product).order_by("pk")[0]
        line = OrderLine.objects.create(order=order, product=product, sku=sku, title=product.title, quantity=1)
    review, _created = Review.objects.get_or_create(
        order_line=line,
        defaults={"product": line.product, "merchant": order.merchant, "member": order.member, "rating": 5},
    )
    return int(review.pk)


def _events_url(ew: EvidenceWorld) -> str:
    return f"/api/v1/pos/online-orders/{_order(ew).number}/events"


MATRIX_ONLINE_ORDERS_PORTAL: dict[str, Entry] = {
    "merchant:shop_orders": page(portal(ORDERS))(r("merchant:shop_orders")),
    "merchant:shop_order": page(portal(ORDERS, scoped=True))(r("merchant:shop_order", order_id)),
    "merchant:shop_order_action": action(portal(ORDERS, scoped=True), note="without an action: nothing changes")(
        r("merchant:shop_order_action", order_id)
    ),
    "merchant:shop_pickup": page(portal(ORDERS), note="POST without a code: the empty form")(r("merchant:shop_pickup")),
    "merchant:shop_returns": page(portal(AFTER_SALES))(r("merchant:shop_returns")),
    "merchant:shop_return": page(portal(AFTER_SALES, scoped=True))(r("merchant:shop_return", request_id)),
    "merchant:shop_return_action": action(
        portal(AFTER_SALES, scoped=True), note="without an action: nothing changes (already refunded)"
    )(r("merchant:shop_return_action", request_id)),
    "merchant:shop_reviews": page(portal(PRODUCTS))(r("merchant:shop_reviews")),
    "merchant:shop_review_reply": action(portal(PRODUCTS, scoped=True), note="without a reply: the reply removed")(
        r("merchant:shop_review_reply", review_id)
    ),
    # the console's arbitration of escalated requests (the evidence request is refunded: a POST changes nothing)
    "console:online_returns": page(console(ARBITRATORS))(r("console:online_returns")),
    "console:online_return": page(
        console(ARBITRATORS, scoped=True), note="POST without a decision: 400, nothing changes"
    )(r("console:online_return", request_id)),
    "console:online_reviews": page(console(VIEWERS))(r("console:online_reviews")),
    "console:online_review_hide": action(console(MANAGERS, scoped=True), note="hidden=0 on a shown review: unchanged")(
        r("console:online_review_hide", review_id)
    ),
    # the merchant's own system posts timeline events of its orders: another merchant's terminal finds nothing
    "api:POST /pos/online-orders/{number}/events": op(
        "POST",
        api_pos(uniqlo=problem(404, "commerce.order_not_found"), coastal=problem(404, "commerce.order_not_found"))
        | {POS_A: problem(409, "commerce.wrong_state")},
        body=lambda ew: {"status": "in_transit", "external_id": "evidence-1"},
        note="the evidence order is not shipped: 409 for its own merchant",
    )(_events_url),
}
