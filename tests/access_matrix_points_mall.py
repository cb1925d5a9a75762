"""Access matrix entries of the points mall (merged into tests/access_matrix.MATRIX): the member app's shop, item,
exchange, payment, orders and pictures; the console's items, settings, orders, desk and statistics.

The evidence member has an order of an evidence item (made with the ORM: no sale behind it, so a cancel POST is
refused by the pipeline and changes nothing) and a refunded gateway payment of an exchange; another member asking
for them gets the page they came from, as for an unknown id."""

from __future__ import annotations

import io
from typing import Any

from .access_matrix import NOT_ALLOWED, NOT_FOUND, ROOT, Entry, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # points_mall.view
MANAGERS = {"admin", "marketing", ROOT}  # points_mall.manage
DESK = {"admin", "service", ROOT}  # points_mall.fulfil
ORDERS = "/app/points-mall/orders/"
GATEWAY_KEY = "evidence-points-mall-gw-1"


def _item(ew: EvidenceWorld) -> Any:
    from galleria.commerce.models import Product, Sku

    product, created = Product.objects.get_or_create(
        mall_group=ew.world.group, title="证据保温杯", defaults={"kind": "gift", "status": "on_sale"}
    )
    if created:
        Sku.objects.create(product=product, code=f"PM{product.pk}", price_points=1000, stock=5)
    return product


def item_id(ew: EvidenceWorld) -> int:
    return int(_item(ew).pk)


def order_id(ew: EvidenceWorld) -> int:
    from django.utils import timezone

    from galleria.commerce.models import Order, OrderLine

    product = _item(ew)
    order, created = Order.objects.get_or_create(
        number="PM000000EVIDENCE01",
        defaults={
            "mall_group": ew.world.group,
            "member": ew.member,
            "merchant": ew.world.merchant,
            "store": ew.world.store,
            "state": "paid",
            "fulfilment": "pickup",
            "local_day": timezone.localdate(),
            "total_points": 1000,
            "pos_sale_id": "pm:PM000000EVIDENCE01",
            "idempotency_key": "evidence-order",
            "paid_at": timezone.now(),
            "pickup_code": "20260101",
        },
    )
    if created:
        OrderLine.objects.create(
            order=order, product=product, sku=product.skus.first(), title=product.title, quantity=1, unit_points=1000
        )
    return int(order.pk)


def _gateway_key(ew: EvidenceWorld) -> str:
    """A WeChat Pay payment of an exchange that arrived when the item had run out: refunded (no gateway is asked)."""
    from django.utils import timezone

    from galleria.payments.models import PaymentAttempt, PaymentCredential

    if not PaymentAttempt.objects.filter(idempotency_key=GATEWAY_KEY).exists():
        credential, _created = PaymentCredential.objects.get_or_create(
            mall_group=ew.world.group, provider="wechat", defaults={"base_url": "http://127.0.0.1:9", "app_id": "wx0"}
        )
        PaymentAttempt.objects.create(
            mall_group=ew.world.group,
            credential=credential,
            provider="wechat",
            purpose="exchange",
            out_trade_no="PEVIDENCEPM00000000001",
            amount_fen=500,
            state="paid",
            fulfilment="refunded",
            failure="commerce.out_of_stock",
            pay_kind="h5",
            member=ew.member,
            order={"product_id": item_id(ew), "quantity": 1, "unit_points": 1000, "unit_fen": 500},
            idempotency_key=GATEWAY_KEY,
            paid_fen=500,
            refunded_fen=500,
            paid_at=timezone.now(),
            expires_at=timezone.now(),
        )
    return GATEWAY_KEY


def _image_url(ew: EvidenceWorld) -> str:
    from django.urls import reverse
    from PIL import Image

    from galleria.audit.types import Actor
    from galleria.commerce import services

    product = _item(ew)
    if not product.image_sha:
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (138, 28, 63)).save(out, format="PNG")
        product = services.product_image_set(
            mall_group_id=ew.world.group.pk, product_id=product.pk, data=out.getvalue(), actor=Actor.system("evidence")
        )
    return reverse("app:points_mall_image", args=[product.pk, product.image_sha])


MATRIX_POINTS_MALL: dict[str, Entry] = {
    # member app
    "app:points_mall": page(app(), post=GET_ONLY)(r("app:points_mall")),
    "app:points_mall_item": page(app(), post=GET_ONLY)(r("app:points_mall_item", item_id)),
    "app:points_mall_exchange": page(app(), note="POST without a key: 422, nothing exchanged")(
        r("app:points_mall_exchange", item_id)
    ),
    "app:points_mall_payment": page(app(other_member=redirect(ORDERS)), post=GET_ONLY)(
        r("app:points_mall_payment", _gateway_key)
    ),
    "app:points_mall_payment_state": page(app(other_member=NOT_FOUND), post=GET_ONLY)(
        r("app:points_mall_payment_state", _gateway_key)
    ),
    "app:points_mall_orders": page(app(), post=GET_ONLY)(r("app:points_mall_orders")),
    "app:points_mall_order": page(app(other_member=redirect(ORDERS)), post=GET_ONLY)(
        r("app:points_mall_order", order_id)
    ),
    "app:points_mall_order_cancel": action(
        app(other_member=redirect(ORDERS)), note="the evidence order has no sale: refused, nothing changes"
    )(r("app:points_mall_order_cancel", order_id)),
    "app:points_mall_image": page(public(), post=GET_ONLY, note="item pictures are public, addressed by hash")(
        _image_url
    ),
    # console
    "console:points_mall_items": page(console(VIEWERS))(r("console:points_mall_items")),
    "console:points_mall_item_new": page(console(MANAGERS), note="POST without data: 422")(
        r("console:points_mall_item_new")
    ),
    "console:points_mall_item_preview": action(console(MANAGERS))(r("console:points_mall_item_preview")),
    "console:points_mall_item": page(console(VIEWERS, scoped=True))(r("console:points_mall_item", item_id)),
    "console:points_mall_item_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:points_mall_item_edit", item_id)
    ),
    "console:points_mall_item_stock": action(console(MANAGERS, scoped=True), note="without data: nothing changes")(
        r("console:points_mall_item_stock", item_id)
    ),
    "console:points_mall_settings": page(console(MANAGERS), note="POST without data: 422")(
        r("console:points_mall_settings")
    ),
    "console:points_mall_orders": page(console(VIEWERS))(r("console:points_mall_orders")),
    "console:points_mall_order": page(console(VIEWERS, scoped=True))(r("console:points_mall_order", order_id)),
    "console:points_mall_order_cancel": action(console(DESK, scoped=True), note="without a reason: 422")(
        r("console:points_mall_order_cancel", order_id)
    ),
    "console:points_mall_order_ship": action(console(DESK, scoped=True), note="without a carrier: 422")(
        r("console:points_mall_order_ship", order_id)
    ),
    "console:points_mall_pickup": page(console(DESK), note="POST without a code: the empty desk screen")(
        r("console:points_mall_pickup")
    ),
    "console:points_mall_stats": page(console(VIEWERS))(r("console:points_mall_stats")),
}
