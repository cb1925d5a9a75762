"""After-sales of online orders (docs/design/online-mall.md §7; build step O4): requests per line and quantity,
the merchant's answer, escalation (rejected, or not answered in time) and the mall's arbitration, the refund
through the pipeline with its preview — money per method (the gateway's part booked for the merchant), points
returned, points earned clawed back from the earn hold — and restock."""

from __future__ import annotations

import datetime as dt

import pytest

from galleria.commerce import services_after_sales as after_sales
from galleria.commerce import services_checkout as checkout
from galleria.commerce import services_orders as orders
from galleria.commerce.models import Order, OrderLine, ReturnRequest, SkuStock
from galleria.core.errors import ApplicationError
from galleria.ledger.models import AccountHold
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payments
from galleria.payments.models import PaymentRefund
from galleria.points.selectors import points_balance
from galleria.wallet.selectors import wallet_balance

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
_n = iter(range(1, 10_000))


def _key():
    return f"rr{next(_n)}"


def _delivered_wallet_order(world, quantity=3):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.shirt_m, quantity)], s.choices(s.b), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    orders.order_ship(order_id=order.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF1000001", actor=ACTOR)
    orders.order_receive(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    order.refresh_from_db()
    return s, m, order, OrderLine.objects.get(order=order)


def _ask(m, order, line, quantity, kind="return_refund", key=None):
    return after_sales.after_sale_request(
        member_id=m.pk,
        data=after_sales.ReturnIn(order.pk, kind, {line.pk: quantity}, "尺码不合适"),
        key=key or _key(),
        actor=ACTOR,
    )


def test_a_partial_return_by_the_gateway_then_the_rest_ends_at_zero(world, gateways):
    s = Shops(world)
    m = member(world, points=5000)
    placed = place(world, m, [(s.shirt_m, 3)], s.choices(s.b), points=1000)
    started = checkout.checkout_pay_start(
        member_id=m.pk, checkout_id=placed.pk, provider="wechat", kind="h5", client_ip="127.0.0.1"
    )
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)
    order = Order.objects.get(checkout=placed)
    line = OrderLine.objects.get(order=order)
    orders.order_ship(order_id=order.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF1000002", actor=ACTOR)
    orders.order_receive(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    hold = AccountHold.objects.get(key=f"earn:{order.pk}")
    assert hold.amount == order.points_earned > 0
    balance = points_balance(member_id=m.pk)

    request = _ask(m, order, line, 1)
    preview = after_sales.after_sale_preview(request_id=request.pk, merchant_id=s.b.pk)
    assert not PaymentRefund.objects.exists()  # the preview wrote nothing
    with pytest.raises(ApplicationError) as err:
        _ask(m, order, line, 3)
    assert err.value.code == "commerce.return_quantity_exceeded"
    accepted = after_sales.after_sale_accept(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR)
    assert accepted.state == "awaiting_goods"
    done = after_sales.after_sale_receive(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR, restock=True)

    assert done.state == "refunded" and done.money_fen == preview.money_fen == preview.payments["wechat"]
    booked = PaymentRefund.objects.get(attempt_id=started.attempt_id)
    assert (booked.amount_fen, booked.merchant_id) == (preview.payments["wechat"], s.b.pk)
    assert booked.out_refund_no == f"R{started.out_trade_no}-{request.number}"
    assert done.points_returned == preview.points_returned > 0
    hold.refresh_from_db()
    assert hold.amount == order.points_earned - preview.points_clawed_back and hold.released_at is None
    assert points_balance(member_id=m.pk) == balance + preview.points_returned - preview.points_clawed_back
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.refunded_qty == 1 and order.refunded_fen == preview.amount_fen
    assert SkuStock.objects.get(sku=s.shirt_m, store=s.b_store).on_hand == 10 - 3 + 1

    rest = _ask(m, order, line, 2, kind="refund_only")
    after_sales.after_sale_accept(merchant_id=s.b.pk, request_id=rest.pk, actor=ACTOR)  # refund only: at once
    order.refresh_from_db()
    assert order.refunded_fen == order.goods_fen
    refunded = sum(r.amount_fen for r in PaymentRefund.objects.filter(attempt_id=started.attempt_id))
    assert refunded == order.gateway_fen
    hold.refresh_from_db()
    assert hold.amount == 0
    assert points_balance(member_id=m.pk) == 5000  # the 1,000 spent back, every earned point taken back
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_rejected_then_escalated_then_the_mall_refunds(world):
    s, m, order, line = _delivered_wallet_order(world)
    wallet = wallet_balance(member_id=m.pk).total_fen
    request = _ask(m, order, line, 1, kind="refund_only")
    with pytest.raises(ApplicationError) as err:
        after_sales.after_sale_reject(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR, note="  ")
    assert err.value.code == "commerce.note_required"
    with pytest.raises(ApplicationError) as err:  # another merchant's request reads as absent
        after_sales.after_sale_accept(merchant_id=s.a.pk, request_id=request.pk, actor=ACTOR)
    assert err.value.code == "commerce.return_not_found"
    rejected = after_sales.after_sale_reject(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR, note="已穿过")
    assert rejected.state == "rejected" and rejected.decision_note == "已穿过"
    with pytest.raises(ApplicationError):  # the merchant cannot change its mind into a refund
        after_sales.after_sale_accept(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR)
    escalated = after_sales.after_sale_escalate(member_id=m.pk, request_id=request.pk, actor=ACTOR)
    assert escalated.state == "escalated" and escalated.escalated_at is not None

    done = after_sales.after_sale_arbitrate(
        mall_group_id=world.group.pk, request_id=request.pk, refund=True, actor=ACTOR, note="质量问题，支持退款"
    )

    assert done.state == "refunded" and done.money_fen == round(order.wallet_fen / 3)
    assert wallet_balance(member_id=m.pk).total_fen == wallet + round(order.wallet_fen / 3)
    assert not PaymentRefund.objects.exists()  # wallet money goes back by the pipeline
    with pytest.raises(ApplicationError) as err:
        after_sales.after_sale_arbitrate(
            mall_group_id=world.group.pk, request_id=request.pk, refund=True, actor=ACTOR, note="again"
        )
    assert err.value.code == "commerce.return_wrong_state"
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_an_unanswered_request_goes_to_the_mall_and_holds_completion(world):
    _s, m, order, line = _delivered_wallet_order(world)
    request = _ask(m, order, line, 1)
    counts = orders.orders_progress(now=request.respond_by - dt.timedelta(seconds=1))
    assert counts["escalated"] == 0
    assert orders.orders_progress(now=request.respond_by)["escalated"] == 1
    request.refresh_from_db()
    assert request.state == "escalated"
    # the return window passes with the request still open: the order waits, its earn hold too
    assert orders.orders_progress(now=order.return_until + DAY)["completed"] == 0
    after_sales.after_sale_arbitrate(
        mall_group_id=world.group.pk, request_id=request.pk, refund=False, actor=ACTOR, note="x"
    )
    assert orders.orders_progress(now=order.return_until + DAY)["completed"] == 1
    order.refresh_from_db()
    assert order.state == "completed" and not order.earn_hold_open


def test_when_a_request_is_refused(world):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.tea_m, 1), (s.shirt_m, 1)], s.choices(s.a, s.b), pay_method="wallet")
    tea, shirt = Order.objects.filter(checkout=placed).order_by("pk")
    tea_line, shirt_line = OrderLine.objects.get(order=tea), OrderLine.objects.get(order=shirt)
    with pytest.raises(ApplicationError) as err:  # not handed over yet: cancel instead
        _ask(m, tea, tea_line, 1, kind="refund_only")
    assert err.value.code == "commerce.cancel_instead"
    orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF1000003", actor=ACTOR)
    with pytest.raises(ApplicationError) as err:  # goods not received yet cannot be sent back
        _ask(m, shirt, shirt_line, 1)
    assert err.value.code == "commerce.not_received"
    with pytest.raises(ApplicationError) as err:
        after_sales.after_sale_request(
            member_id=m.pk, data=after_sales.ReturnIn(shirt.pk, "refund_only", {}, ""), key="k", actor=ACTOR
        )
    assert set(err.value.fields) == {"reason", "lines"}
    first = _ask(m, shirt, shirt_line, 1, kind="refund_only", key="same")
    assert _ask(m, shirt, shirt_line, 1, kind="refund_only", key="same").pk == first.pk
    assert ReturnRequest.objects.count() == 1
    withdrawn = after_sales.after_sale_withdraw(member_id=m.pk, request_id=first.pk, actor=ACTOR)
    assert withdrawn.state == "withdrawn"
    orders.order_receive(order_id=shirt.pk, member_id=m.pk, actor=ACTOR)
    shirt.refresh_from_db()
    orders.orders_progress(now=shirt.return_until)
    with pytest.raises(ApplicationError) as err:
        _ask(m, shirt, shirt_line, 1)
    assert err.value.code == "commerce.return_window_over"


def test_the_member_is_told_the_shops_answer(world, django_capture_on_commit_callbacks):
    from galleria.messaging.models import InboxMessage

    s, m, order, line = _delivered_wallet_order(world)
    request = _ask(m, order, line, 1)
    with django_capture_on_commit_callbacks(execute=True):
        after_sales.after_sale_reject(merchant_id=s.b.pk, request_id=request.pk, actor=ACTOR, note="吊牌已拆")
    message = InboxMessage.objects.get(member_id=m.pk)
    assert request.number in message.body and "吊牌已拆" in message.body
