"""The cash part of an exchange paid at WeChat Pay / Alipay (services_gateway.py) against the sandbox gateway
process: nothing is taken before the money arrives; then the order is made through the fulfilment registry
(payments never imports commerce); an exchange that cannot be made any more is refunded in full; cancelling a
gateway-paid order refunds the cash at the gateway."""

from __future__ import annotations

import pytest

from galleria.commerce import services, services_gateway
from galleria.commerce.models import Order, Sku
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payments
from galleria.payments.models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale, SalePayment

from .helpers import ACTOR, exchange_in, item, member, open_shop

pytestmark = pytest.mark.django_db(transaction=False)


def start(world, m, product, key="gw-form-1", **kw):
    return services_gateway.exchange_pay_start(
        exchange_in(world, m, product, **kw), provider="wechat", kind="h5", key=key, actor=ACTOR, client_ip="127.0.0.1"
    )


def test_points_here_and_wechat_pay_for_the_cash_make_the_order_when_the_money_arrives(
    world, gateways, django_capture_on_commit_callbacks
):
    open_shop(world)
    product = item(world, price_points=1000, price_fen=1500, initial_stock=3)
    m = member(world, points=3000)
    started = start(world, m, product, quantity=2)
    assert started.amount_fen == 3000
    assert start(world, m, product, quantity=2).attempt_id == started.attempt_id  # the same form again
    assert not Order.objects.exists() and points_balance(member_id=m.pk) == 3000  # nothing taken yet

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert payments.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAID
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.purpose, attempt.fulfilment) == ("exchange", Fulfilment.DONE)
    order = Order.objects.get(idempotency_key=services_gateway.gateway_order_key(started.out_trade_no))
    assert (order.total_points, order.cash_fen, order.gateway_fen, order.pay_method) == (2000, 3000, 3000, "wechat")
    assert order.sale_id == attempt.sale_id and order.state == "paid"
    sale = Sale.objects.get(pk=order.sale_id)
    assert (sale.channel, sale.points_used, sale.points_earned) == ("points_mall", 2000, 0)
    assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [("wechat", 3000)]
    assert points_balance(member_id=m.pk) == 1000 and Sku.objects.get(product=product).stock == 1

    # cancelled by the desk: points back, the stock back, the cash refunded at the gateway (after commit)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=order.pk, mall_group_id=world.group.pk, actor=ACTOR)
    refund = PaymentRefund.objects.get(attempt=attempt)
    assert refund.amount_fen == 3000 and refund.out_refund_no == f"R{started.out_trade_no}C"
    assert points_balance(member_id=m.pk) == 3000 and Sku.objects.get(product=product).stock == 3
    trade = gateways.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
    assert trade["refunded_fen"] == 3000
    assert ledger_check().ok


def test_the_last_unit_taken_before_the_money_arrived_is_refunded_in_full(world, gateways):
    open_shop(world)
    product = item(world, price_points=1000, price_fen=500, initial_stock=1)
    m = member(world, points=3000)
    started = start(world, m, product)
    services.stock_adjust(mall_group_id=world.group.pk, product_id=product.pk, delta=-1, reason="损坏", actor=ACTOR)

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.fulfilment, attempt.failure) == (Fulfilment.REFUNDED, "commerce.out_of_stock")
    assert PaymentRefund.objects.get(attempt=attempt).amount_fen == 500
    assert not Order.objects.exists() and points_balance(member_id=m.pk) == 3000
    assert not Sale.objects.filter(member=m).exists()


def test_points_only_items_need_no_gateway(world, gateways):
    open_shop(world)
    m = member(world, points=3000)
    with pytest.raises(Exception) as err:
        start(world, m, item(world, price_points=1000))
    assert getattr(err.value, "code", "") == "commerce.nothing_to_pay"
