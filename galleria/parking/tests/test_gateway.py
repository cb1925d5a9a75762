"""Paying the rest of a stay by WeChat Pay / Alipay (services_gateway.py) against the sandbox gateway process: the
amount asked after coupons and points, the notification through the real notify URL (signed and encrypted by the
sandbox, posted to Django's view), and every way the payment can no longer be honoured — refunded in full, the
stay left unpaid. Stays are dated from the real clock: the sandbox stamps the payment with it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.messaging.models import InboxMessage
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingSession
from galleria.parking.services_gateway import gateway_payment_key, parking_pay_start
from galleria.parking.services_receipt import parking_receipt_send
from galleria.payments import services as payments
from galleria.payments.exceptions import IdempotencyConflictError
from galleria.payments.models import (
    AttemptState,
    Fulfilment,
    NoticeOutcome,
    PaymentAttempt,
    PaymentNotice,
    PaymentRefund,
)
from galleria.payments.testing import NotifyReceiver, Received
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale, SalePayment
from galleria.testing_points import give_points

from .helpers import ACTOR, car_park, member

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def receiver():
    """Stands in for our web server at GALLERIA_PUBLIC_URL: keeps what the sandbox posts, answers "try again"."""
    rec = NotifyReceiver(answer=lambda r: (500, "application/json", b'{"code":"FAIL","message":"held"}'))
    yield rec
    rec.close()


@pytest.fixture
def pay(world, payment_gateway_process, receiver, settings):
    settings.GALLERIA_PUBLIC_URL = receiver.url.removesuffix("/notify")
    payments.sandbox_credentials_install(
        mall_group_id=world.group.pk,
        keys=payment_gateway_process.keys,
        base_url=payment_gateway_process.base_url,
        actor=ACTOR,
    )
    return world


def post_notice(client, got: Received):
    """The notification as the gateway sent it, posted to Django's notify URL (payments_notify)."""
    headers = {k: v for k, v in got.headers.items() if k.lower() not in ("content-type", "content-length", "host")}
    return client.post(
        got.path, data=got.body, content_type=got.headers.get("Content-Type", "application/json"), headers=headers
    )


def parked(world, park, plate: str, *, minutes: int, points: int = 0):
    """A member's bound plate parked `minutes` ago (first 30 min free, then ¥5 an hour from entry)."""
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)
    if points:
        give_points(world, m, points)
    entered = services.event_entry(
        car_park=park, event_id=f"in-{plate}", plate=plate, at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    assert entered.session_id is not None
    return m, ParkingSession.objects.get(pk=entered.session_id)


def start(session, m, *, points=0, coupons=(), key="gw-1", provider="wechat", at=None):
    return parking_pay_start(
        session_id=session.pk,
        member_id=m.pk,
        points=points,
        coupon_ids=list(coupons),
        provider=provider,
        kind="h5" if provider == "wechat" else "wap",
        key=key,
        actor=ACTOR,
        client_ip="10.0.0.8",
        at=at,
    )


def test_points_pay_whole_hours_and_wechat_pay_the_rest_through_the_notify_url(
    pay, payment_gateway_process, receiver, client
):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10001", minutes=160, points=1_000)  # 2 h 40 → 3 units = ¥15
    view, quote = services.pay_quote(session=session)
    assert view.due_fen == 1_500 and quote is not None and quote.points == 1_000  # two hours of points at most
    started = start(session, m, points=500)  # one hour of points (¥5): ¥10 at the gateway
    assert started.amount_fen == 1_000 and started.provider == "wechat" and started.payload["h5_url"]
    assert start(session, m, points=500).attempt_id == started.attempt_id  # the same form again: the same attempt
    with pytest.raises(IdempotencyConflictError):
        start(session, m, points=1_000)
    assert not ParkingPayment.objects.filter(session=session).exists()  # nothing recorded before the money

    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    answer = post_notice(client, receiver.wait_for(1)[0])
    assert answer.status_code in (200, 204)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.purpose, attempt.state, attempt.fulfilment) == ("parking", AttemptState.PAID, Fulfilment.DONE)
    payment = ParkingPayment.objects.get(session=session)
    assert payment.key == gateway_payment_key(started.out_trade_no)
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen, payment.other_fen) == (1_500, 500, 0, 1_000)
    assert payment.reference == started.out_trade_no and payment.sale_id == attempt.sale_id
    sale = Sale.objects.get(pk=payment.sale_id)
    assert (sale.channel, sale.total_fen, sale.points_used) == ("parking", 1_500, 500)
    assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [("wechat", 1_000)]
    assert points_balance(member_id=m.pk) == 500
    session.refresh_from_db()
    assert session.paid_fen == 1_500 and session.leave_by is not None
    parking_receipt_send(payment_id=payment.pk)  # the member's receipt names the gateway's part
    receipt = InboxMessage.objects.get(member_id=m.pk)
    assert "¥15.00" in receipt.body and "¥10.00" in receipt.body and "500" in receipt.body

    decision = services.exit_request(car_park=park, plate="粤B10001")
    assert (decision.decision, decision.reason, decision.due_fen) == ("open", "paid", 0)
    assert ledger_check().ok


def test_coupons_first_then_alipay_pays_the_rest(pay, payment_gateway_process, receiver, client):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10002", minutes=220)  # 3 h 40 → 4 units = ¥20
    one_hour = template(
        pay,
        name="停车 1 小时",
        kind="parking",
        parking_hours=1,
        value_fen=0,
        threshold_fen=0,
        valid_from=timezone.now() - dt.timedelta(days=1),
    )
    coupon = claim(m, one_hour)
    started = start(session, m, coupons=[coupon.coupon_id], provider="alipay", key="gw-ali")
    assert started.amount_fen == 1_500  # one hour off: ¥15 to pay
    payment_gateway_process.control.pay(
        provider="alipay", out_trade_no=started.out_trade_no, url=started.payload["url"]
    )
    assert post_notice(client, receiver.wait_for(1)[0]).status_code == 200
    payment = ParkingPayment.objects.get(session=session)
    assert (payment.amount_fen, payment.other_fen, payment.points_used) == (1_500, 1_500, 0)
    assert [b["kind"] for b in payment.benefits] == ["coupon_hours"]
    assert Coupon.objects.get(pk=coupon.coupon_id).status == "used"
    sale = Sale.objects.get(pk=payment.sale_id)
    assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [("alipay", 1_500)]
    assert ledger_check().ok


def test_a_fee_that_stepped_up_before_the_money_arrived_is_refunded_in_full(
    pay, payment_gateway_process, receiver, client
):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10003", minutes=185, points=1_000)  # 3 h 05 now: 4 units = ¥20
    quoted_at = timezone.now() - dt.timedelta(minutes=10)  # the quote: 2 h 55 → 3 units = ¥15
    started = start(session, m, points=500, at=quoted_at)
    assert started.amount_fen == 1_000
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert post_notice(client, receiver.wait_for(1)[0]).status_code in (200, 204)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.state, attempt.fulfilment, attempt.failure) == (
        AttemptState.PAID,
        Fulfilment.REFUNDED,
        "parking.fee_changed",
    )
    refund = PaymentRefund.objects.get(attempt=attempt)
    assert refund.amount_fen == 1_000 == attempt.refunded_fen
    assert not ParkingPayment.objects.filter(session=session).exists()
    session.refresh_from_db()
    assert session.paid_fen == 0 and session.paid_until is None
    assert points_balance(member_id=m.pk) == 1_000  # the points were not spent either
    assert not Sale.objects.filter(member=m).exists()
    assert services.exit_request(car_park=park, plate="粤B10003").decision == "pay"
    trade = payment_gateway_process.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
    assert trade["refunded_fen"] == 1_000


def test_a_redelivered_notification_and_a_query_record_one_payment(pay, payment_gateway_process, receiver, client):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10004", minutes=100)  # 1 h 40 → 2 units = ¥10
    started = start(session, m)
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    first, again = receiver.wait_for(2)[:2]  # the sandbox retries: we answered 500
    for got in (first, again, first):
        assert post_notice(client, got).status_code in (200, 204)
    assert payments.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAID
    assert ParkingPayment.objects.filter(session=session).count() == 1
    assert Sale.objects.filter(member=m).count() == 1
    outcomes = list(
        PaymentNotice.objects.filter(out_trade_no=started.out_trade_no, verified=True).values_list("outcome", flat=True)
    )
    assert outcomes.count(NoticeOutcome.APPLIED) == 1
    session.refresh_from_db()
    assert session.paid_fen == 1_000


def test_the_car_left_before_the_money_arrived_refunded(pay, payment_gateway_process, receiver, client):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10005", minutes=100)
    started = start(session, m)
    services.event_exit(car_park=park, event_id="out-10005", plate="粤B10005", at=timezone.now())  # paid at the booth
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert post_notice(client, receiver.wait_for(1)[0]).status_code in (200, 204)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.fulfilment, attempt.failure) == (Fulfilment.REFUNDED, "parking.left")
    assert not ParkingPayment.objects.filter(session=session).exists()
    assert PaymentRefund.objects.get(attempt=attempt).amount_fen == attempt.amount_fen


def test_paid_with_the_wallet_meanwhile_refunded(pay, payment_gateway_process, receiver, client):
    from .helpers import fund_wallet

    park = car_park(pay)
    m, session = parked(pay, park, "粤B10006", minutes=100)
    fund_wallet(pay, m, 5_000)
    started = start(session, m)
    services.parking_pay(session_id=session.pk, member_id=m.pk, points=0, key="wallet-1", actor=ACTOR)
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert post_notice(client, receiver.wait_for(1)[0]).status_code in (200, 204)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.fulfilment, attempt.failure) == (Fulfilment.REFUNDED, "parking.already_paid")
    assert ParkingPayment.objects.filter(session=session).count() == 1


def test_nothing_left_for_the_gateway_is_refused(pay):
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10007", minutes=50, points=1_000)  # 1 unit = ¥5 = 500 points
    from galleria.core.errors import ConflictError

    with pytest.raises(ConflictError) as exc:
        start(session, m, points=500)
    assert exc.value.code == "parking.gateway_nothing_left"
    assert not PaymentAttempt.objects.filter(member_id=m.pk).exists()


def test_inside_wechat_the_rest_is_paid_by_jsapi_for_the_members_openid(pay, payment_gateway_process, receiver, client):
    """In WeChat's own browser the app pays by JSAPI (the member's openid): the page gets the signed parameters of
    getBrandWCPayRequest, and the notification records the stay paid as any other."""
    park = car_park(pay)
    m, session = parked(pay, park, "粤B10009", minutes=160)  # ¥15, no points
    started = parking_pay_start(
        session_id=session.pk,
        member_id=m.pk,
        points=0,
        coupon_ids=[],
        provider="wechat",
        kind="jsapi",
        key="gw-jsapi-1",
        actor=ACTOR,
        payer="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )
    assert started.amount_fen == 1_500 and started.payload["package"].startswith("prepay_id=")
    assert {"appId", "timeStamp", "nonceStr", "signType", "paySign"} <= set(started.payload)
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert post_notice(client, receiver.wait_for(1)[0]).status_code in (200, 204)
    payment = ParkingPayment.objects.get(session=session)
    assert (payment.amount_fen, payment.other_fen) == (1_500, 1_500)
    assert PaymentAttempt.objects.get(pk=started.attempt_id).pay_kind == "jsapi"
    assert ledger_check().ok
