"""The POS-signed timeline endpoint (build step O3): a merchant's system posts delivery events of its own online
orders; `external_id` counts once, another merchant's order is "not found", a bad status is problem+json."""

from __future__ import annotations

import pytest

from galleria.audit.types import Actor
from galleria.commerce import services_orders as orders
from galleria.commerce.models import Order, ShipmentEvent
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.testing_pos import PosSigner, PosTestClient

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db


def _pos(client, store):
    terminal = PosTerminal.objects.create(store=store, name="ERP")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    return PosTestClient(client, PosSigner(key.key_id, secret))


def test_the_merchants_system_posts_the_timeline(client, world):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.shirt_m, 1)], s.choices(s.b), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    path = f"/api/v1/pos/online-orders/{order.number}/events"
    b_pos, a_pos = _pos(client, s.b_store), _pos(client, s.a_store)

    early = b_pos.post(path, {"status": "in_transit", "external_id": "e0"}, idempotency_key="k0")
    assert early.status_code == 409 and early.json()["code"] == "commerce.wrong_state"  # not shipped yet
    orders.order_ship(order_id=order.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF2000001", actor=ACTOR)
    other = a_pos.post(path, {"status": "in_transit", "external_id": "e1"}, idempotency_key="k1")
    assert other.status_code == 404 and other.json()["code"] == "commerce.order_not_found"
    bad = b_pos.post(path, {"status": "lost", "external_id": "e1"}, idempotency_key="k2")
    assert bad.status_code == 422 and bad.json()["code"] == "commerce.event_invalid"

    moving = b_pos.post(path, {"status": "in_transit", "external_id": "e1", "location": "深圳"}, idempotency_key="k3")
    done = b_pos.post(path, {"status": "delivered", "external_id": "e2"}, idempotency_key="k4")
    again = b_pos.post(path, {"status": "delivered", "external_id": "e2"}, idempotency_key="k5")

    assert moving.status_code == 201 and moving.json()["order_state"] == "shipped"
    assert done.status_code == 201 and done.json()["order_state"] == "delivered"
    assert again.status_code == 200 and again.json()["created"] is False
    order.refresh_from_db()
    assert order.state == "delivered" and order.return_until is not None
    assert ShipmentEvent.objects.filter(order=order, source="api").count() == 2
