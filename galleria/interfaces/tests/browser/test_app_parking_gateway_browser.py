"""Paying the rest of a parking stay with WeChat Pay in a real browser (390×844): the member's bound plate has been
parked 2 h 40 (¥15), one hour is paid with 500 points and the ¥10 left with WeChat Pay at the sandbox gateway's
cashier; the app's result page asks the gateway and shows the stay paid with the time to leave, and the exit
camera's request opens the barrier. Then a payment that arrived after the fee stepped up shows its refund. No CSP
violation on any page. Screenshots in zh-Hans and English under var/screenshots/parking/ (looked at by a person)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingSession
from galleria.parking.services_gateway import parking_pay_start
from galleria.parking.tests.helpers import car_park, member
from galleria.payments.models import Fulfilment, PaymentAttempt
from galleria.points.selectors import points_balance
from galleria.testing_points import give_points

from .test_app_parking_browser import ACTOR, member_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLATE = "粤B56789"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_points_then_wechat_pay_at_the_cashier_and_the_barrier_opens(
    browser, live_server, world, gateways, settings, lang
):
    if connection.vendor == "postgresql":  # the gateway's notifications reach this server too
        settings.GALLERIA_PUBLIC_URL = live_server.url
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    give_points(world, m, 500)
    entered = services.event_entry(
        car_park=park, event_id="cam-gw-1", plate=PLATE, at=timezone.now() - dt.timedelta(minutes=160)
    )
    stay = ParkingSession.objects.get(pk=entered.session_id)

    context, app, violations = member_page(browser, live_server, m, lang)
    try:
        app.goto(live_server.url + f"/app/parking/{stay.pk}/pay/")
        expect(app.get_by_test_id("fee-due")).to_have_text("¥15.00")
        expect(app.get_by_test_id("points-hours-1")).to_be_checked()  # 500 points pay one hour (¥5)
        expect(app.get_by_test_id("park-method-wechat")).to_be_checked()  # the wallet is empty
        expect(app.get_by_test_id("park-method-alipay")).to_be_visible()
        expect(app.get_by_test_id("park-pay-submit")).to_be_enabled()
        shot(app, f"pay-gateway-{lang}")
        app.get_by_test_id("park-pay-submit").click()

        # WeChat Pay's cashier (the sandbox gateway process): ¥10, then back to the app
        app.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")
        expect(app.locator(".amount")).to_contain_text("10.00")
        app.locator("button[value=pay]").click()
        app.wait_for_url(re.compile(r".*/app/parking/paid/\d+/$"), timeout=20_000)
        expect(app.get_by_test_id("paid-amount")).to_have_text("¥15.00")
        expect(app.get_by_test_id("paid-points")).to_have_attribute("data-points", "500")
        expect(app.get_by_test_id("paid-gateway")).to_have_text("¥10.00")
        stay.refresh_from_db()
        assert stay.leave_by is not None
        expect(app.get_by_test_id("leave-by")).to_contain_text(
            f"{timeutil.local(stay.leave_by, world.mall.timezone):%H:%M}"
        )
        shot(app, f"paid-gateway-{lang}")

        payment = ParkingPayment.objects.get(session=stay)
        assert (payment.amount_fen, payment.points_used, payment.other_fen) == (1_500, 500, 1_000)
        assert points_balance(member_id=m.pk) == 0
        attempt = PaymentAttempt.objects.get(member=m)
        assert (attempt.purpose, attempt.fulfilment, attempt.amount_fen) == ("parking", Fulfilment.DONE, 1_000)

        # the exit camera reads the plate: the barrier opens
        decision = services.exit_request(car_park=park, plate=PLATE, gate="X1")
        assert (decision.decision, decision.reason, decision.due_fen) == ("open", "paid", 0)
        services.event_exit(car_park=park, event_id="cam-gw-x1", plate=PLATE, at=timezone.now())

        # another stay: the money arrives after the fee stepped up → refunded, and the page says so
        again = services.event_entry(
            car_park=park, event_id="cam-gw-2", plate=PLATE, at=timezone.now() - dt.timedelta(minutes=185)
        )
        started = parking_pay_start(
            session_id=again.session_id,
            member_id=m.pk,
            points=0,
            coupon_ids=[],
            provider="wechat",
            kind="h5",
            key="browser-stepped-up-01",
            actor=ACTOR,
            client_ip="127.0.0.1",
            at=timezone.now() - dt.timedelta(minutes=10),
        )
        gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        app.goto(live_server.url + "/app/parking/payment/browser-stepped-up-01/")
        expect(app.get_by_test_id("park-payment-refunded")).to_be_visible()
        expect(app.get_by_test_id("park-pay-again")).to_be_visible()
        shot(app, f"payment-refunded-{lang}")
        assert PaymentAttempt.objects.get(pk=started.attempt_id).fulfilment == Fulfilment.REFUNDED
        assert ledger_check().ok
        assert not violations, violations
    finally:
        context.close()


def test_points_then_alipay_at_the_cashier_and_the_barrier_opens(browser, live_server, world, gateways, settings):
    if connection.vendor == "postgresql":  # the gateway's notifications reach this server too
        settings.GALLERIA_PUBLIC_URL = live_server.url
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    give_points(world, m, 500)
    entered = services.event_entry(
        car_park=park, event_id="cam-ali-1", plate=PLATE, at=timezone.now() - dt.timedelta(minutes=160)
    )
    stay = ParkingSession.objects.get(pk=entered.session_id)
    context, app, violations = member_page(browser, live_server, m, "en")
    try:
        app.goto(live_server.url + f"/app/parking/{stay.pk}/pay/")
        expect(app.get_by_test_id("fee-due")).to_have_text("¥15.00")
        app.get_by_test_id("park-method-alipay").check()
        app.get_by_test_id("park-pay-submit").click()
        # Alipay's WAP cashier (the sandbox gateway process, reached through alipay.trade.wap.pay): ¥10
        app.wait_for_url(re.compile(re.escape(gateways.base_url) + r"/.*"), timeout=20_000)
        expect(app.locator("body")).to_contain_text("10.00")
        app.locator("button[value=pay]").click()
        app.wait_for_url(re.compile(r".*/app/parking/paid/\d+/$"), timeout=20_000)
        expect(app.get_by_test_id("paid-gateway")).to_have_text("¥10.00")
        payment = ParkingPayment.objects.get(session=stay)
        assert (payment.amount_fen, payment.points_used, payment.other_fen) == (1_500, 500, 1_000)
        attempt = PaymentAttempt.objects.get(member=m)
        assert (attempt.provider, attempt.purpose, attempt.fulfilment) == ("alipay", "parking", Fulfilment.DONE)
        decision = services.exit_request(car_park=park, plate=PLATE, gate="X1")
        assert (decision.decision, decision.reason) == ("open", "paid")
        assert ledger_check().ok
        assert not violations, violations
    finally:
        context.close()
