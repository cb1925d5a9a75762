"""Online placement races on PostgreSQL with real threads (docs/design/online-mall.md §4, §5.7, §12): members racing
for the last units never oversell (the allocation statement's condition, rows locked in primary-key order);
three-shop carts over the same stock rows in shuffled orders never deadlock; one key tapped twenty times places one
checkout; the expiry job on several workers racing the member's cancel releases once; a staff count racing
allocations never goes below what is allocated. The ledger check passes after each."""

from __future__ import annotations

import random
from typing import Any

import pytest

from galleria.commerce import services_catalog as catalog
from galleria.commerce import services_checkout as checkout
from galleria.commerce.models import Checkout, Order, SkuStock
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Account, AccountHold
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payments
from galleria.payments.models import Fulfilment, PaymentAttempt
from galleria.points.selectors import points_available
from galleria.sales.models import Refund, Sale
from galleria.testing import run_parallel
from galleria.wallet.selectors import wallet_balance

from .checkout_helpers import Shops, place_in
from .helpers import ACTOR, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def _row(sku: Any, store: Any) -> SkuStock:
    return SkuStock.objects.get(sku=sku, store=store)


def test_twenty_members_racing_for_the_last_five_units_never_oversell(world):
    s = Shops(world, stock=5)
    members = [member(world, points=1000) for _ in range(20)]
    forms = [place_in(world, m, [(s.tea_m, 1)], s.choices(s.a), points=100) for m in members]

    outcomes = run_parallel(
        20, lambda i: _outcome(lambda: checkout.checkout_place(forms[i], key=f"race-{i}", actor=ACTOR))
    )

    assert outcomes.count("ok") == 5 and set(outcomes) == {"ok", "commerce.out_of_stock"}
    row = _row(s.tea_m, s.a_store)
    assert (row.on_hand, row.allocated, row.sold) == (5, 5, 0)
    assert Checkout.objects.count() == 5 and AccountHold.objects.filter(released_at__isnull=True).count() == 5
    assert sorted(points_available(member_id=m.pk) for m in members) == [900] * 5 + [1000] * 15  # losers hold nothing
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_three_shop_carts_in_shuffled_orders_never_deadlock(world):
    s = Shops(world, stock=100)
    c, _c_store, c_sku = s.third()
    s.stock(c_sku, _c_store, 100)
    members = [member(world) for _ in range(16)]
    skus = [s.tea_m, s.tea_l, s.shirt_m, c_sku]
    forms = []
    for i, m in enumerate(members):
        lines = [(sku, 1 + (i % 2)) for sku in skus]
        random.Random(i).shuffle(lines)
        shops = list(s.choices(s.a, s.b, c))
        random.Random(i + 100).shuffle(shops)
        forms.append(place_in(world, m, lines, tuple(shops)))

    outcomes = run_parallel(16, lambda i: _outcome(lambda: checkout.checkout_place(forms[i], key="k", actor=ACTOR)))

    assert outcomes == ["ok"] * 16
    units = sum(1 + (i % 2) for i in range(16))
    for sku, store in ((s.tea_m, s.a_store), (s.tea_l, s.a_store), (s.shirt_m, s.b_store), (c_sku, _c_store)):
        assert _row(sku, store).allocated == units


def test_one_key_tapped_twenty_times_at_once_places_one_checkout(world):
    s = Shops(world)
    m = member(world, points=5000)
    form = place_in(world, m, [(s.tea_m, 2), (s.shirt_m, 1)], s.choices(s.a, s.b), points=1000)

    ids = run_parallel(20, lambda i: checkout.checkout_place(form, key="the-same-tap", actor=ACTOR).pk)

    assert len(set(ids)) == 1 and Checkout.objects.count() == 1
    assert _row(s.tea_m, s.a_store).allocated == 2 and _row(s.shirt_m, s.b_store).allocated == 1
    assert points_available(member_id=m.pk) == 4000
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_expiry_workers_and_the_members_cancel_release_once(world):
    s = Shops(world)
    m = member(world, points=5000)
    placed = checkout.checkout_place(
        place_in(world, m, [(s.tea_m, 3), (s.shirt_m, 2)], s.choices(s.a, s.b), points=2000), key="x", actor=ACTOR
    )
    late = placed.expires_at

    def one(i: int) -> str:
        if i % 4 == 0:
            return _outcome(lambda: checkout.checkout_cancel(member_id=m.pk, checkout_id=placed.pk, actor=ACTOR))
        return str(checkout.checkouts_expire(now=late)["cancelled"])

    run_parallel(12, one)

    placed.refresh_from_db()
    assert placed.state == "cancelled"
    assert _row(s.tea_m, s.a_store).allocated == 0 and _row(s.shirt_m, s.b_store).allocated == 0
    assert Account.objects.get(member_id=m.pk, kind="member_points").held == 0
    assert points_available(member_id=m.pk) == 5000
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_staff_count_racing_allocations_never_goes_below_what_is_allocated(world):
    s = Shops(world, stock=10)
    members = [member(world) for _ in range(10)]
    forms = [place_in(world, m, [(s.tea_m, 1)], s.choices(s.a)) for m in members]

    def one(i: int) -> str:
        if i < 10:
            return _outcome(lambda: checkout.checkout_place(forms[i], key=f"c{i}", actor=ACTOR))
        return _outcome(
            lambda: catalog.sku_stock_adjust(
                mall_group_id=world.group.pk,
                merchant_id=None,
                sku_id=s.tea_m.pk,
                store_id=s.a_store.pk,
                delta=-4,
                reason="damaged",
                actor=ACTOR,
            )
        )

    outcomes = run_parallel(12, one)

    row = _row(s.tea_m, s.a_store)
    assert 0 <= row.allocated <= row.on_hand
    assert row.allocated == outcomes[:10].count("ok") == Checkout.objects.count()
    assert row.on_hand == 10 - 4 * outcomes[10:].count("ok")


def test_notifications_queries_and_the_expiry_job_on_one_checkout_pay_it_once(world, gateways):
    s = Shops(world)
    m = member(world, points=5000)
    placed = checkout.checkout_place(
        place_in(world, m, [(s.tea_m, 1), (s.shirt_m, 1)], s.choices(s.a, s.b), points=1000), key="p", actor=ACTOR
    )
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    late = placed.expires_at

    def one(i: int) -> str:
        if i % 3 == 0:
            return str(checkout.checkouts_expire(now=late))
        return _outcome(lambda: payments.attempt_sync(attempt_id=started.attempt_id))

    run_parallel(12, one)

    placed.refresh_from_db()
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    sales = Sale.objects.filter(channel="online").count()
    if placed.state == "paid":
        assert attempt.fulfilment == Fulfilment.DONE and sales == 2
    else:
        assert placed.state == "cancelled" and attempt.fulfilment == Fulfilment.REFUNDED and sales == 0
    assert AccountHold.objects.get(key=f"chk:{placed.number}").released_at is not None
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_cancelling_a_paid_order_twice_at_once_refunds_once(world):
    s = Shops(world)
    m = member(world, wallet_fen=10000)
    placed = checkout.checkout_place(
        place_in(world, m, [(s.tea_l, 2)], s.choices(s.a), pay_method="wallet"), key="w", actor=ACTOR
    )
    order_id = Order.objects.get(checkout=placed).pk

    run_parallel(8, lambda i: online_order_cancel(order_id=order_id, member_id=m.pk, actor=ACTOR).pk)

    assert Refund.objects.count() == 1 and _row(s.tea_l, s.a_store).allocated == 0
    assert wallet_balance(member_id=m.pk).total_fen == 10000
    assert ledger_check(mall_group_id=world.group.pk).ok
