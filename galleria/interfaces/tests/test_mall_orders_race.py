"""A double tap on "Place order" (step O5), raced for real on PostgreSQL: eight requests of the same checkout form
(same key) arrive together from eight threads; one checkout is placed, the wallet is charged once, every request
lands on that checkout's page."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from galleria.commerce import services_cart
from galleria.commerce.models import Checkout, Order
from galleria.commerce.tests.checkout_helpers import Shops
from galleria.commerce.tests.helpers import member
from galleria.ledger.selectors import ledger_check
from galleria.wallet.selectors import wallet_balance

from .test_mall_orders_app import as_member, form_of, shown_rest

pytestmark = pytest.mark.django_db(transaction=True)
TAPS = 8


def test_eight_taps_of_one_form_place_one_checkout_and_charge_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL")
    s = Shops(world)
    m = member(world, wallet_fen=100_000)
    services_cart.cart_set(member_id=m.pk, mall_group_id=world.group.pk, sku_id=s.tea_m.pk, quantity=1)
    services_cart.cart_set(member_id=m.pk, mall_group_id=world.group.pk, sku_id=s.shirt_m.pk, quantity=1)
    first = Client()
    as_member(first, m)
    rest = shown_rest(first.post("/app/mall/checkout/", form_of(s)).content.decode())
    data = form_of(s, method="wallet", shown_rest=str(rest), action="place")
    clients = []
    for _ in range(TAPS):
        c = Client()
        as_member(c, m)
        clients.append(c)
    barrier = threading.Barrier(TAPS)
    answers: list[str] = []
    errors: list[BaseException] = []

    def tap(c: Client) -> None:
        try:
            barrier.wait()
            resp = c.post("/app/mall/checkout/", data)
            answers.append(f"{resp.status_code} {resp.get('Location', '')}")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    placed = Checkout.objects.get(member=m)
    assert placed.state == "paid"
    assert Order.objects.filter(member=m).count() == 2
    assert wallet_balance(member_id=m.pk).total_fen == 100_000 - rest
    assert set(answers) == {f"302 /app/mall/checkout/{placed.number}/"}, answers
    assert ledger_check(mall_group_id=world.group.pk).ok
