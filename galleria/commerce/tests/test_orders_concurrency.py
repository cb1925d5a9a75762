"""Fulfilment and after-sales races on PostgreSQL with real threads (docs/design/online-mall.md §5.7, §12): two
clerks scanning one pickup code hand over once; the progress job on several workers racing a clerk's hand-over of
an uncollected pickup either cancels it (refunded once) or hands it over, never both; two answers to one request
refund once; two requests for the last unit open one; a cancel racing a ship does one of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from galleria.commerce import services_after_sales as after_sales
from galleria.commerce import services_orders as orders
from galleria.commerce.models import Order, OrderLine, ReturnRequest, SkuStock
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check
from galleria.sales.models import Refund
from galleria.testing import run_parallel
from galleria.wallet.selectors import wallet_balance

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def _order(world: Any, s: Shops, lines: list, merchant: Any) -> tuple[Any, Order]:
    m = member(world, wallet_fen=50000)
    placed = place(world, m, lines, s.choices(merchant), pay_method="wallet")
    return m, Order.objects.get(checkout=placed)


def test_two_clerks_one_pickup_code_hand_over_once(world):
    s = Shops(world)
    _m, order = _order(world, s, [(s.tea_m, 2)], s.a)
    outcomes = run_parallel(
        8, lambda i: _outcome(lambda: orders.order_hand_over(merchant_id=s.a.pk, code=order.pickup_code, actor=ACTOR))
    )
    assert outcomes.count("ok") == 1 and set(outcomes) == {"ok", "commerce.pickup_code_used"}
    row = SkuStock.objects.get(sku=s.tea_m, store=s.a_store)
    assert (row.on_hand, row.allocated, row.sold) == (8, 0, 2)


def test_the_job_on_four_workers_racing_a_hand_over_does_one_of_them(world):
    s = Shops(world)
    m, order = _order(world, s, [(s.tea_m, 1)], s.a)
    ready = orders.order_ready(order_id=order.pk, merchant_id=s.a.pk, actor=ACTOR)
    wallet = wallet_balance(member_id=m.pk).total_fen
    due = ready.ready_at + dt.timedelta(days=7)

    def work(i: int) -> str:
        if i == 0:
            return _outcome(lambda: orders.order_hand_over(merchant_id=s.a.pk, code=order.pickup_code, actor=ACTOR))
        return str(orders.orders_progress(now=due)["uncollected"])

    outcomes = run_parallel(5, work)
    order.refresh_from_db()
    row = SkuStock.objects.get(sku=s.tea_m, store=s.a_store)
    if order.state == "cancelled":
        assert outcomes[0] == "commerce.wrong_state" and outcomes[1:].count("1") == 1
        assert Refund.objects.count() == 1 and wallet_balance(member_id=m.pk).total_fen == wallet + order.wallet_fen
        assert (row.on_hand, row.allocated, row.sold) == (10, 0, 0)
    else:
        assert order.state == "delivered" and outcomes[0] == "ok" and set(outcomes[1:]) == {"0"}
        assert Refund.objects.count() == 0 and (row.on_hand, row.allocated, row.sold) == (9, 0, 1)
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_two_answers_to_one_request_refund_once_and_the_last_unit_is_asked_once(world):
    s = Shops(world)
    m, order = _order(world, s, [(s.shirt_m, 1)], s.b)
    orders.order_ship(order_id=order.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF3000001", actor=ACTOR)
    line = OrderLine.objects.get(order=order)

    def ask(i: int) -> str:
        data = after_sales.ReturnIn(order.pk, "refund_only", {line.pk: 1}, "未收到")
        return _outcome(lambda: after_sales.after_sale_request(member_id=m.pk, data=data, key=f"k{i}", actor=ACTOR))

    asked = run_parallel(6, ask)
    assert asked.count("ok") == 1 and set(asked) == {"ok", "commerce.return_quantity_exceeded"}
    request = ReturnRequest.objects.get()
    wallet = wallet_balance(member_id=m.pk).total_fen

    answers = run_parallel(
        6,
        lambda i: _outcome(
            lambda: after_sales.after_sale_accept(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR)
        ),
    )
    assert answers.count("ok") == 1 and set(answers) == {"ok", "commerce.return_wrong_state"}
    assert Refund.objects.count() == 1 and wallet_balance(member_id=m.pk).total_fen == wallet + order.wallet_fen
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_cancel_racing_a_ship_does_one_of_them(world):
    s = Shops(world)
    m, order = _order(world, s, [(s.shirt_m, 1)], s.b)

    def work(i: int) -> str:
        if i % 2:
            return _outcome(lambda: online_order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR))
        return _outcome(
            lambda: orders.order_ship(
                order_id=order.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF3000002", actor=ACTOR
            )
        )

    run_parallel(6, work)
    order.refresh_from_db()
    row = SkuStock.objects.get(sku=s.shirt_m, store=s.b_store)
    if order.state == "cancelled":
        assert (row.on_hand, row.allocated, row.sold) == (10, 0, 0) and Refund.objects.count() == 1
    else:
        assert order.state == "shipped" and (row.on_hand, row.allocated, row.sold) == (9, 0, 1)
        assert Refund.objects.count() == 0
    assert ledger_check(mall_group_id=world.group.pk).ok
