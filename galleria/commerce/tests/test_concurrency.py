"""Races on PostgreSQL with real threads (each its own connection, released together by a barrier): the last units
are never oversold, one idempotency key makes one order, a member's limit holds under a burst, a pickup code hands
over once, a double cancellation refunds once. The ledger check passes after each."""

from __future__ import annotations

from typing import Any

import pytest

from galleria.commerce import exceptions, services
from galleria.commerce.models import Order, Sku
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale
from galleria.testing import run_parallel

from .helpers import ACTOR, exchange, item, member, open_shop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def test_many_members_racing_for_the_last_units_never_oversell(world):
    open_shop(world)
    product = item(world, initial_stock=5, price_points=1000, price_fen=100)
    members = [member(world, points=2000, wallet_fen=1000) for _ in range(THREADS)]

    outcomes = run_parallel(THREADS, lambda i: _outcome(lambda: exchange(world, members[i], product)))

    assert outcomes.count("ok") == 5
    assert set(outcomes) == {"ok", "commerce.out_of_stock"}
    sku = Sku.objects.get(product=product)
    assert (sku.stock, sku.sold) == (0, 5)
    assert Order.objects.count() == 5 and Sale.objects.filter(channel="points_mall").count() == 5
    spent = sum(2000 - points_balance(member_id=m.pk) for m in members)
    assert spent == 5 * 1000  # the losers' points were never taken
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_one_idempotency_key_tapped_twenty_times_at_once_makes_one_order(world):
    open_shop(world)
    product = item(world, initial_stock=50)
    m = member(world, points=50_000)

    orders = run_parallel(20, lambda i: exchange(world, m, product, key="the-same-tap").pk)

    assert len(set(orders)) == 1
    assert Order.objects.count() == 1 and Sku.objects.get(product=product).stock == 49
    assert points_balance(member_id=m.pk) == 49_000
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_members_limit_holds_under_a_burst_of_different_keys(world):
    open_shop(world)
    product = item(world, initial_stock=50, per_member_limit=2)
    m = member(world, points=50_000)

    outcomes = run_parallel(12, lambda i: _outcome(lambda: exchange(world, m, product, key=f"burst-{i}")))

    assert outcomes.count("ok") == 2
    assert set(outcomes) == {"ok", "commerce.limit_reached"}
    assert Sku.objects.get(product=product).stock == 48 and points_balance(member_id=m.pk) == 48_000


def test_a_pickup_code_hands_over_once_when_two_desks_confirm_at_once(world):
    open_shop(world)
    m = member(world, points=5000)
    order = exchange(world, m, item(world))

    outcomes = run_parallel(
        10,
        lambda i: _outcome(
            lambda: services.order_hand_over(
                mall_group_id=world.group.pk, code=order.pickup_code, order_id=order.pk, actor=ACTOR
            )
        ),
    )

    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", exceptions.PickupCodeUsedError.code}


def test_cancelling_twice_at_once_refunds_once(world):
    open_shop(world)
    product = item(world, initial_stock=3, price_points=1000, price_fen=200)
    m = member(world, points=5000, wallet_fen=1000)
    order = exchange(world, m, product, quantity=2)

    run_parallel(8, lambda i: services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR).pk)

    assert Refund.objects.filter(sale_id=order.sale_id).count() == 1
    assert points_balance(member_id=m.pk) == 5000
    sku = Sku.objects.get(product=product)
    assert (sku.stock, sku.sold) == (3, 0)
    assert ledger_check(mall_group_id=world.group.pk).ok
