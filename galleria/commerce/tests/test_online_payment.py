"""Paying an online checkout (docs/design/online-mall.md §5.2, §6; build step O2): the gateway's money makes one
sale per sub-order through the pipeline with the checkout's own holds, earned points held per order, stock left
allocated; a payment for a cancelled checkout is refunded in full; points, coupons or the wallet paying everything
make the sales at placement."""

from __future__ import annotations

import pytest

from galleria.commerce import services_checkout as checkout
from galleria.commerce.models import Checkout, Order, SkuStock
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.core.errors import ApplicationError
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.models import Account, AccountHold
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payments
from galleria.payments.models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund
from galleria.points.selectors import points_available, points_balance
from galleria.sales.models import Sale, SalePayment
from galleria.wallet.selectors import wallet_balance

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db


def _allocated(sku, store):
    return SkuStock.objects.get(sku=sku, store=store).allocated


def test_the_gateways_money_makes_one_sale_per_sub_order_with_the_checkouts_holds(world, gateways):
    s = Shops(world)
    m = member(world, points=5000)
    cross = claim(m, template(world, name="满50减5", value_fen=500, threshold_fen=5000)).coupon_id
    placed = place(world, m, [(s.tea_m, 2), (s.shirt_m, 1)], s.choices(s.a, s.b), points=2000, cart_coupon_id=cross)
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert payments.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAID

    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert attempt.fulfilment == Fulfilment.DONE
    placed.refresh_from_db()
    assert placed.state == "paid" and placed.paid_at is not None and placed.gateway_reference == started.out_trade_no
    orders = list(Order.objects.filter(checkout=placed).order_by("pk"))
    assert {o.state for o in orders} == {"paid"} and all(o.sale_id for o in orders)
    sales = [Sale.objects.get(pk=o.sale_id) for o in orders]
    assert [(sl.channel, sl.merchant_id) for sl in sales] == [("online", o.merchant_id) for o in orders]
    for o, sale in zip(orders, sales, strict=True):
        assert (sale.total_fen, sale.discount_fen, sale.points_used) == (o.goods_fen, o.discount_fen, o.total_points)
        assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [
            ("wechat", o.gateway_fen)
        ]
        assert o.points_earned == sale.points_earned and o.earn_hold_open == (sale.points_earned > 0)
        assert AccountHold.objects.get(key=f"earn:{o.pk}").amount == sale.points_earned
    assert orders[0].pickup_code and not orders[1].pickup_code  # A is picked up
    earned = sum(o.points_earned for o in orders)
    assert points_balance(member_id=m.pk) == 5000 - 2000 + earned
    assert points_available(member_id=m.pk) == 3000  # the earned points wait for the return window
    assert AccountHold.objects.get(key=f"chk:{placed.number}").released_at is not None
    assert Coupon.objects.get(pk=cross).status == "used" and not Coupon.objects.exclude(hold_key="").exists()
    assert _allocated(s.tea_m, s.a_store) == 2 and _allocated(s.shirt_m, s.b_store) == 1  # still promised
    assert checkout.checkouts_expire(now=placed.expires_at)["cancelled"] == 0
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_money_for_a_cancelled_checkout_is_refunded_in_full(world, gateways):
    s = Shops(world)
    m = member(world, points=3000)
    placed = place(world, m, [(s.tea_m, 1)], s.choices(s.a), points=1000)
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    Checkout.objects.filter(pk=placed.pk).update(state="cancelled")  # as if the job won before the money came

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)

    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert attempt.fulfilment == Fulfilment.REFUNDED
    assert not Sale.objects.exists() and points_balance(member_id=m.pk) == 3000


def test_coupons_paying_everything_make_the_sales_at_placement(world):
    s = Shops(world)
    m = member(world, points=5000)
    cross = claim(m, template(world, name="满28减28", value_fen=2800, threshold_fen=2800)).coupon_id
    placed = place(world, m, [(s.tea_m, 1)], s.choices(s.a), cart_coupon_id=cross, pay_method="points")

    assert placed.state == "paid" and (placed.gateway_fen, placed.wallet_fen) == (0, 0)
    order = Order.objects.get(checkout=placed)
    assert order.state == "paid" and order.sale_id and order.pickup_code
    assert points_balance(member_id=m.pk) == 5000 + order.points_earned
    assert Coupon.objects.get(pk=cross).status == "used"
    assert not AccountHold.objects.filter(key=f"chk:{placed.number}").exists()
    assert _allocated(s.tea_m, s.a_store) == 1
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_the_wallet_pays_the_rest_in_full_at_placement(world):
    s = Shops(world)
    m = member(world, wallet_fen=20000)
    placed = place(world, m, [(s.tea_l, 1), (s.shirt_m, 1)], s.choices(s.a, s.b), pay_method="wallet")
    assert placed.state == "paid" and (placed.wallet_fen, placed.gateway_fen) == (3200 + 2800, 0)
    orders = list(Order.objects.filter(checkout=placed).order_by("pk"))
    assert [(o.wallet_fen, o.gateway_fen, o.cash_fen) for o in orders] == [(3200, 0, 3200), (2800, 0, 2800)]
    assert wallet_balance(member_id=m.pk).total_fen == 20000 - 6000
    assert Account.objects.get(member_id=m.pk, kind="member_points").held == sum(o.points_earned for o in orders)
    assert ledger_check(mall_group_id=world.group.pk).ok
    again = place(world, m, [(s.tea_l, 1), (s.shirt_m, 1)], s.choices(s.a, s.b), pay_method="wallet", key="w")
    assert place(world, m, [(s.tea_l, 1), (s.shirt_m, 1)], s.choices(s.a, s.b), pay_method="wallet", key="w").pk == (
        again.pk
    )
    assert Checkout.objects.filter(member=m).count() == 2


def test_the_member_cancels_a_paid_sub_order_and_gets_everything_back(world, gateways):
    s = Shops(world)
    m, other = member(world, points=5000), member(world)
    placed = place(world, m, [(s.tea_m, 2), (s.shirt_m, 1)], s.choices(s.a, s.b), points=2000)
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)
    a_order, b_order = Order.objects.filter(checkout=placed).order_by("pk")
    with pytest.raises(ApplicationError) as err:
        online_order_cancel(order_id=b_order.pk, member_id=other.pk, actor=ACTOR)
    assert err.value.code == "commerce.order_not_found"

    done = online_order_cancel(order_id=b_order.pk, member_id=m.pk, actor=ACTOR, reason="不要了")

    assert done.state == "cancelled" and done.refunded_fen == b_order.goods_fen and done.refund_id
    booked = PaymentRefund.objects.get(attempt_id=started.attempt_id)
    assert (booked.amount_fen, booked.merchant_id) == (b_order.gateway_fen, s.b.pk)
    assert booked.out_refund_no == f"R{started.out_trade_no}-{b_order.number}"
    assert AccountHold.objects.get(key=f"earn:{b_order.pk}").released_at is not None
    assert _allocated(s.shirt_m, s.b_store) == 0 and _allocated(s.tea_m, s.a_store) == 2
    assert points_balance(member_id=m.pk) == 5000 - a_order.total_points + a_order.points_earned
    assert online_order_cancel(order_id=b_order.pk, member_id=m.pk, actor=ACTOR).refund_id == done.refund_id
    assert PaymentRefund.objects.filter(attempt_id=started.attempt_id).count() == 1
    # the merchant cancels A's order: everything of the checkout is back
    online_order_cancel(order_id=a_order.pk, merchant_id=s.a.pk, actor=ACTOR, reason="售罄")
    assert points_balance(member_id=m.pk) == 5000 and points_available(member_id=m.pk) == 5000
    assert sum(r.amount_fen for r in PaymentRefund.objects.filter(attempt_id=started.attempt_id)) == placed.gateway_fen
    assert _allocated(s.tea_m, s.a_store) == 0
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_wallet_paid_order_cancelled_returns_the_wallet_money(world):
    s = Shops(world)
    m = member(world, wallet_fen=10000)
    placed = place(world, m, [(s.tea_l, 1)], s.choices(s.a), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    online_order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    assert wallet_balance(member_id=m.pk).total_fen == 10000 and points_available(member_id=m.pk) == 0
    assert not PaymentRefund.objects.exists() and _allocated(s.tea_l, s.a_store) == 0
    assert ledger_check(mall_group_id=world.group.pk).ok
