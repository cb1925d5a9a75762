"""The member app's parking pay page with WeChat Pay / Alipay (the group's sandbox accounts): the choice of how to
pay the rest after points, the start at the gateway, the result page that asks the gateway (attempt_sync) and then
shows the paid stay, or the refund when the fee stepped up before the money arrived. Real clock: the sandbox checks
request timestamps."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from galleria.members.services import member_identifier_add
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingSession
from galleria.parking.services_gateway import parking_pay_start
from galleria.parking.tests.helpers import ACTOR, car_park, member
from galleria.payments.models import Fulfilment, PaymentAttempt
from galleria.testing_points import give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def sign_in(client, m) -> None:
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    session = client.session
    session["member_id"] = m.pk
    session.save()


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def form_of(resp) -> dict[str, str]:
    html = resp.content.decode()
    key = re.search(r'name="key" value="([^"]+)"', html)
    due = re.search(r'name="due" value="(\d+)"', html)
    assert key is not None and due is not None
    return {"key": key.group(1), "due": due.group(1)}


def parked(world, client, plate: str, *, minutes: int, points: int = 0):
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)
    if points:
        give_points(world, m, points)
    entered = services.event_entry(
        car_park=car_park(world), event_id=f"in-{plate}", plate=plate, at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    sign_in(client, m)
    assert entered.session_id is not None
    return m, ParkingSession.objects.get(pk=entered.session_id)


def test_points_then_wechat_pay_the_result_page_asks_the_gateway_and_shows_the_paid_stay(client, world, gateways):
    m, stay = parked(world, client, "粤B30001", minutes=160, points=1_000)  # ¥15 due; points pay up to 2 hours
    page = client.get(f"/app/parking/{stay.pk}/pay/")
    html = text(page)
    assert 'data-testid="park-method-wechat"' in html and 'data-testid="park-method-alipay"' in html
    assert 'value="wechat" checked' in html  # the wallet holds nothing: WeChat Pay is chosen for the rest
    started = client.post(f"/app/parking/{stay.pk}/pay/", {**form_of(page), "hours": "1", "method": "wechat"})
    key = form_of(page)["key"]
    assert started.status_code == 302 and started["Location"] == f"/app/parking/payment/{key}/?go=1"
    attempt = PaymentAttempt.objects.get(member_id=m.pk, idempotency_key=key)
    assert (attempt.purpose, attempt.amount_fen, attempt.order["points"]) == ("parking", 1_000, 500)

    waiting = client.get(started["Location"])
    assert waiting.status_code == 200 and "data-autogo" in text(waiting)
    assert 'data-testid="park-payment-amount" data-fen="1000"' in text(waiting)
    again = client.post(f"/app/parking/{stay.pk}/pay/", {**form_of(page), "hours": "1", "method": "wechat"})
    assert again["Location"] == f"/app/parking/payment/{key}/"  # a double tap: the same payment

    gateways.control.pay(provider="wechat", out_trade_no=attempt.out_trade_no)
    back = client.get(f"/app/parking/payment/{key}/")  # the cashier sends the member back; no notification yet
    payment = ParkingPayment.objects.get(session=stay)
    assert back.status_code == 302 and back["Location"] == f"/app/parking/paid/{payment.pk}/"
    paid = text(client.get(back["Location"]))
    assert 'data-testid="paid-gateway" data-fen="1000"' in paid and "WeChat Pay" in paid
    assert 'data-testid="leave-by"' in paid
    assert services.exit_request(car_park=stay.car_park, plate="粤B30001").decision == "open"


def test_a_fee_that_stepped_up_shows_the_refund_and_pay_again(client, world, gateways):
    m, stay = parked(world, client, "粤B30002", minutes=185)  # ¥20 now; ¥15 ten minutes ago
    started = parking_pay_start(
        session_id=stay.pk,
        member_id=m.pk,
        points=0,
        coupon_ids=[],
        provider="wechat",
        kind="h5",
        key="stepped-up-key-0001",
        client_ip="10.0.0.8",
        actor=ACTOR,
        at=timezone.now() - dt.timedelta(minutes=10),
    )
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    resp = client.get("/app/parking/payment/stepped-up-key-0001/")
    assert resp.status_code == 200
    assert PaymentAttempt.objects.get(pk=started.attempt_id).fulfilment == Fulfilment.REFUNDED
    page = text(resp)
    assert "The parking fee changed before the payment arrived" in page
    assert f'href="/app/parking/{stay.pk}/pay/"' in page and not ParkingPayment.objects.exists()
    state = client.get("/app/parking/payment/stepped-up-key-0001/state/")
    assert state.status_code == 200 and state["HX-Refresh"] == "true"


def test_a_way_to_pay_that_is_not_offered_is_an_inline_error(client, world, gateways):
    _m, stay = parked(world, client, "粤B30003", minutes=100)
    page = client.get(f"/app/parking/{stay.pk}/pay/")
    assert 'value="wechat" checked' in text(page)  # the wallet is empty: WeChat Pay is chosen
    resp = client.post(f"/app/parking/{stay.pk}/pay/", {**form_of(page), "hours": "0", "method": "paypal"})
    assert resp.status_code == 422 and "Choose how to pay the rest." in text(resp)
    assert not PaymentAttempt.objects.exists()


def test_another_members_payment_looks_unknown(client, world, gateways):
    m, stay = parked(world, client, "粤B30004", minutes=100)
    parking_pay_start(
        session_id=stay.pk,
        member_id=m.pk,
        points=0,
        coupon_ids=[],
        provider="alipay",
        kind="wap",
        key="someone-elses-key-01",
        actor=ACTOR,
    )
    sign_in(client, member(world))
    resp = client.get("/app/parking/payment/someone-elses-key-01/")
    assert resp.status_code == 302 and resp["Location"] == "/app/parking/"
    assert client.get("/app/parking/payment/someone-elses-key-01/state/").status_code == 404
