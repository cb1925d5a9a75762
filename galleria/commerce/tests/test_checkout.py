"""Online placement, pay later (docs/design/online-mall.md §5.1, §6, §10, §12): points held, coupons held, stock
allocated, nothing posted; the same key returns the first checkout; a changed price, a missing unit or a bad choice
write nothing; the member's cancel and the expiry job release all three exactly once and never write a ledger
transaction; the cart."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from galleria.commerce import services_cart as cart
from galleria.commerce import services_checkout as checkout
from galleria.commerce import sql as commerce_sql
from galleria.commerce.models import CartItem, Checkout, Order, OrderLine, SkuStock
from galleria.core.errors import ApplicationError
from galleria.core.sql import portable_writes_for_tests
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.models import Account, AccountHold, Transaction
from galleria.ledger.selectors import ledger_check
from galleria.payments.models import AttemptState, PaymentAttempt
from galleria.points.selectors import points_available, points_balance
from galleria.sales.models import Sale

from .checkout_helpers import Shops, place, place_in
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db


def stock(sku, store):
    row = SkuStock.objects.get(sku=sku, store=store)
    return row.on_hand, row.allocated, row.sold


def code_of(fn):
    with pytest.raises(ApplicationError) as err:
        fn()
    return err.value.code


def test_placement_holds_points_and_coupons_and_allocates_stock_posting_nothing(world):
    s = Shops(world)
    m = member(world, points=5000)
    cross = claim(m, template(world, name="满50减5", value_fen=500, threshold_fen=5000)).coupon_id
    shop_coupon = claim(
        m, template(world, name="喜茶满50减3", value_fen=300, threshold_fen=5000, merchant_id=s.a.pk, funder="merchant")
    ).coupon_id
    CartItem.objects.create(member=m, sku=s.tea_m, quantity=2)
    CartItem.objects.create(member=m, sku=s.tea_l, quantity=1)  # not bought: stays in the cart
    transactions = Transaction.objects.count()

    placed = place(
        world,
        m,
        [(s.tea_m, 2), (s.shirt_m, 1)],
        s.choices(s.a, s.b, coupons={s.a.pk: (shop_coupon,)}),
        points=2000,
        cart_coupon_id=cross,
    )

    # goods 5,600 + 2,800; A's coupon 300; the cross-shop 500 over 5,300 + 2,800; 2,000 points = ¥20
    assert (placed.state, placed.goods_fen, placed.discount_fen, placed.points) == ("pending_payment", 8400, 800, 2000)
    assert placed.points_value_fen == 2000 and placed.gateway_fen == 8400 - 800 - 2000 and placed.wallet_fen == 0
    assert placed.expires_at == placed.placed_at + dt.timedelta(minutes=15)
    orders = list(Order.objects.filter(checkout=placed).order_by("merchant_id"))
    assert [(o.merchant_id, o.store_id, o.fulfilment, o.state) for o in orders] == [
        (s.a.pk, s.a_store.pk, "pickup", "pending_payment"),
        (s.b.pk, s.b_store.pk, "delivery", "pending_payment"),
    ]
    assert sum(o.goods_fen for o in orders) == 8400 and sum(o.cash_fen for o in orders) == placed.gateway_fen
    assert sum(o.cart_discount_fen for o in orders) == 500 and sum(o.total_points for o in orders) == 2000
    for o in orders:
        assert o.goods_fen == o.discount_fen + o.points_value_fen + o.cash_fen and o.paid_at is None
        assert o.pos_sale_id == f"on:{o.number}" and o.number.startswith("ON")
    assert orders[1].ship_address == "深圳市南山区星河路 1 号" and orders[0].ship_address == ""
    line = OrderLine.objects.get(order=orders[0])
    assert (line.quantity, line.unit_fen, line.amount_fen) == (2, 2800, 5600) and line.discount_fen == orders[
        0
    ].discount_fen
    assert line.coupon_ids == [shop_coupon]
    # held, not spent
    assert points_balance(member_id=m.pk) == 5000 and points_available(member_id=m.pk) == 3000
    hold = AccountHold.objects.get(key=f"chk:{placed.number}")
    assert hold.amount == 2000 and hold.released_at is None
    assert set(Coupon.objects.filter(hold_key=placed.number).values_list("pk", flat=True)) == {cross, shop_coupon}
    assert Coupon.objects.get(pk=cross).status == "available"
    assert stock(s.tea_m, s.a_store) == (10, 2, 0) and stock(s.shirt_m, s.b_store) == (10, 1, 0)
    assert not Sale.objects.exists() and Transaction.objects.count() == transactions
    assert list(CartItem.objects.filter(member=m).values_list("sku_id", flat=True)) == [s.tea_l.pk]
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_the_same_key_returns_the_first_checkout_and_another_body_is_a_conflict(world):
    s = Shops(world)
    m = member(world)
    first = place(world, m, [(s.tea_m, 1)], s.choices(s.a), key="tap")
    again = place(world, m, [(s.tea_m, 1)], s.choices(s.a), key="tap")
    assert again.pk == first.pk and Checkout.objects.count() == 1
    assert (
        code_of(lambda: place(world, m, [(s.tea_m, 2)], s.choices(s.a), key="tap")) == "commerce.idempotency_conflict"
    )
    assert stock(s.tea_m, s.a_store) == (10, 1, 0)


def test_a_changed_price_or_a_missing_unit_writes_nothing(world):
    s = Shops(world, stock=1)
    m = member(world, points=5000)
    cross = claim(m, template(world, name="满20减2", value_fen=200, threshold_fen=2000)).coupon_id
    data = place_in(world, m, [(s.tea_m, 1)], s.choices(s.a), points=1000, cart_coupon_id=cross)
    changed = checkout.PlaceIn(**{**data.__dict__, "rest_fen": data.rest_fen + 1})
    assert code_of(lambda: checkout.checkout_place(changed, key="k1", actor=ACTOR)) == "commerce.price_changed"
    two = place_in(world, m, [(s.tea_m, 2)], s.choices(s.a), points=1000, cart_coupon_id=cross)
    assert code_of(lambda: checkout.checkout_place(two, key="k2", actor=ACTOR)) == "commerce.out_of_stock"
    assert not Checkout.objects.exists() and not Order.objects.exists()
    assert points_available(member_id=m.pk) == 5000 and not AccountHold.objects.exists()
    assert not Coupon.objects.exclude(hold_key="").exists()
    assert stock(s.tea_m, s.a_store) == (1, 0, 0)


def test_choices_are_checked_before_anything_is_held(world):
    s = Shops(world)
    m = member(world, points=100)
    lines = [(s.shirt_m, 1)]
    pickup_b = (checkout.ShopChoiceIn(s.b.pk, "pickup", s.b_store.pk),)
    assert code_of(lambda: place(world, m, lines, pickup_b, rest_fen=2800)) == "commerce.fulfilment_invalid"
    assert code_of(lambda: place(world, m, lines, s.choices(s.a), rest_fen=2800)) == "commerce.fulfilment_invalid"
    assert code_of(lambda: place(world, m, lines, s.choices(s.b), rest_fen=2800, points=200)).startswith("points.")
    assert code_of(lambda: place(world, m, lines, s.choices(s.b), pay_method="cash", rest_fen=2800)) == (
        "commerce.pay_method_invalid"
    )
    assert code_of(lambda: place(world, m, lines, s.choices(s.b), pay_method="wechat", rest_fen=0)) == (
        "commerce.pay_method_invalid"
    )
    assert code_of(lambda: place(world, m, lines, s.choices(s.b), pay_method="points", rest_fen=2800)) == (
        "commerce.pay_method_invalid"
    )
    assert code_of(lambda: place(world, m, lines, s.choices(s.b), pay_method="wallet", rest_fen=2800)) == (
        "wallet.insufficient"  # pay now: the sale is refused, nothing is held
    )
    no_stock_here = Shops.third(s)[2]  # a SKU without a stock row at its store
    assert code_of(lambda: place(world, m, [(no_stock_here, 1)], s.choices(no_stock_here.product.merchant))) == (
        "commerce.out_of_stock"
    )
    assert not Checkout.objects.exists()


def test_the_expiry_job_releases_points_coupons_and_stock_once_and_posts_nothing(world):
    s = Shops(world)
    m = member(world, points=5000)
    cross = claim(m, template(world, name="满20减2", value_fen=200, threshold_fen=2000)).coupon_id
    placed = place(world, m, [(s.tea_m, 3), (s.shirt_m, 1)], s.choices(s.a, s.b), points=1000, cart_coupon_id=cross)
    transactions = Transaction.objects.count()

    assert checkout.checkouts_expire(now=placed.expires_at - dt.timedelta(seconds=1))["cancelled"] == 0
    counts = checkout.checkouts_expire(now=placed.expires_at + dt.timedelta(seconds=1))

    assert counts == {"cancelled": 1, "paid": 0, "waiting": 0, "skipped": 0}
    placed.refresh_from_db()
    assert placed.state == "cancelled" and placed.cancelled_at is not None
    assert set(Order.objects.filter(checkout=placed).values_list("state", flat=True)) == {"cancelled"}
    assert points_available(member_id=m.pk) == 5000
    assert Account.objects.get(member_id=m.pk, kind="member_points").held == 0
    assert AccountHold.objects.get(key=f"chk:{placed.number}").released_at is not None
    assert not Coupon.objects.exclude(hold_key="").exists() and Coupon.objects.get(pk=cross).status == "available"
    assert stock(s.tea_m, s.a_store) == (10, 0, 0) and stock(s.shirt_m, s.b_store) == (10, 0, 0)
    assert Transaction.objects.count() == transactions and not Sale.objects.exists()
    assert checkout.checkouts_expire(now=placed.expires_at + dt.timedelta(minutes=5))["cancelled"] == 0
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_the_member_cancels_an_unpaid_checkout(world):
    s = Shops(world)
    m, other = member(world, points=3000), member(world)
    placed = place(world, m, [(s.tea_l, 2)], s.choices(s.a), points=1000)
    assert code_of(lambda: checkout.checkout_cancel(member_id=other.pk, checkout_id=placed.pk, actor=ACTOR)) == (
        "commerce.order_not_found"
    )
    done = checkout.checkout_cancel(member_id=m.pk, checkout_id=placed.pk, actor=ACTOR)
    assert done.state == "cancelled" and points_available(member_id=m.pk) == 3000
    assert stock(s.tea_l, s.a_store) == (10, 0, 0)
    again = checkout.checkout_cancel(member_id=m.pk, checkout_id=placed.pk, actor=ACTOR)
    assert again.state == "cancelled" and stock(s.tea_l, s.a_store) == (10, 0, 0)


def test_the_command_runs_the_job(world, capsys):
    s = Shops(world)
    m = member(world)
    placed = place(world, m, [(s.tea_m, 1)], s.choices(s.a))
    Checkout.objects.filter(pk=placed.pk).update(
        placed_at=timezone.now() - dt.timedelta(minutes=20), expires_at=timezone.now() - dt.timedelta(minutes=5)
    )
    call_command("online_checkouts_expire")
    assert "1 cancelled" in capsys.readouterr().out
    assert stock(s.tea_m, s.a_store) == (10, 0, 0)


def test_the_gateway_payment_starts_for_the_rest_and_the_job_closes_it(world, gateways):
    s = Shops(world)
    m = member(world, points=3000)
    placed = place(world, m, [(s.tea_m, 1), (s.shirt_m, 2)], s.choices(s.a, s.b), points=1000)
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    again = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    assert started.amount_fen == placed.gateway_fen == 2800 * 3 - 1000 and again.attempt_id == started.attempt_id
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert attempt.purpose == "online" and attempt.expires_at == placed.expires_at
    split = {str(o.merchant_id): o.gateway_fen for o in Order.objects.filter(checkout=placed)}
    assert attempt.order == {"checkout": placed.number, "split": split} and sum(split.values()) == 7400

    counts = checkout.checkouts_expire(now=placed.expires_at + dt.timedelta(seconds=1))

    assert counts["cancelled"] == 1
    assert PaymentAttempt.objects.get(pk=started.attempt_id).state == AttemptState.CLOSED
    assert code_of(
        lambda: checkout.checkout_pay_start(member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5")
    ) == ("commerce.checkout_not_payable")


def test_the_cart_adds_sets_and_removes(world):
    s = Shops(world)
    m = member(world)
    gid = world.group.pk
    assert cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_m.pk).quantity == 1
    assert cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_m.pk, quantity=3).quantity == 4
    assert cart.cart_set(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_m.pk, quantity=99).quantity == 99
    assert code_of(lambda: cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_m.pk)) == (
        "commerce.quantity_invalid"
    )
    assert cart.cart_set(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_m.pk, quantity=0) is None
    assert code_of(lambda: cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=10**9)) == "commerce.not_found"
    s.tea.status = "off_sale"
    s.tea.save()
    assert code_of(lambda: cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=s.tea_l.pk)) == (
        "commerce.not_on_sale"
    )
    cart.cart_add(member_id=m.pk, mall_group_id=gid, sku_id=s.shirt_m.pk)
    assert cart.cart_remove(member_id=m.pk, sku_ids=[s.shirt_m.pk]) == 1
    assert not CartItem.objects.filter(member=m).exists()


@pytest.mark.parametrize("portable", [False, True])
def test_the_stock_statements_take_only_what_is_there_in_both_forms(world, portable):
    s = Shops(world, stock=3)
    rows = {r.sku_id: r.pk for r in SkuStock.objects.filter(store=s.a_store)}
    first, second = rows[s.tea_m.pk], rows[s.tea_l.pk]
    now = timezone.now()
    with portable_writes_for_tests() if portable else nullcontext(), transaction.atomic():
        assert commerce_sql.stock_allocate(wanted={first: 2, second: 3}, at=now) == {first, second}
        assert commerce_sql.stock_allocate(wanted={first: 2, second: 0}, at=now) == {second}  # 1 left of the first
        assert commerce_sql.stock_release(wanted={first: 3, second: 3}, at=now) == {second}  # only 2 allocated
        assert commerce_sql.stock_release(wanted={first: 2}, at=now) == {first}
    assert stock(s.tea_m, s.a_store) == (3, 0, 0) and stock(s.tea_l, s.a_store) == (3, 0, 0)
