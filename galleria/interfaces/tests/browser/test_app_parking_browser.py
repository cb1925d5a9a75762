"""Parking in the member app on a phone (390×844), issue #16's journey as far as the app goes: a gold member's bound
plate enters (the car-park system's entry event, sent here through the service), the member shops for ¥250, the
app shows the fee with the tier's and the spend's free hours (¥30 − ¥15 − ¥10 = ¥5), the member pays it with 500
points, the exit camera's request opens the barrier, the receipt is in the inbox; then the frictionless exit is
turned on, the car leaves and the stay is in the history with its explanation. No CSP violation on any page.
Screenshots in zh-Hans and English under var/screenshots/parking/ (looked at by a person)."""

from __future__ import annotations

import datetime as dt
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingProfile, ParkingSession, Zone
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.parking.tests.helpers import car_park, member, spend
from galleria.points.selectors import points_balance
from galleria.testing_points import give_points

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "parking"
ACTOR = Actor.system("browser-test")
PLATE = "粤B12345"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def member_page(browser, live_server, m, lang: str):
    """A phone signed in as the member (the session an SMS sign-in leaves), in `lang`."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = m.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: violations.append(f"page error: {exc}"))
    return context, page, violations


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_app_shows_the_fee_with_benefits_the_member_pays_with_points_and_the_barrier_opens(
    browser, live_server, world, lang
):
    now = timezone.now()
    park = car_park(world)
    Zone.objects.filter(car_park=park).update(free_reported=57, free_reported_at=now)
    gold = member(world, tier="gold")
    member_identifier_add(member_id=gold.pk, actor=ACTOR, kind="plate", value="粤b·12345")
    give_points(world, gold, 2_000)

    # the plate enters 5½ hours ago at the B1 gate (the car-park system's entry event)
    entered = services.event_entry(
        car_park=park, event_id="cam-e1-0001", plate=PLATE, at=now - dt.timedelta(hours=5, minutes=30), zone="B1"
    )
    stay = ParkingSession.objects.get(pk=entered.session_id)
    assert stay.member_id == gold.pk
    # the member shops: ¥250 at 喜茶 (through the checkout pipeline)
    spend(world, gold, 25_000, at=now - dt.timedelta(seconds=10))

    context, app, violations = member_page(browser, live_server, gold, lang)
    try:
        app.goto(live_server.url + "/app/parking/")
        car = app.get_by_test_id("parked-car")
        expect(car.get_by_test_id("car-plate")).to_have_text("粤B·12345")
        expect(car.get_by_test_id("car-zone")).to_have_text("B1 · B1 区")  # find my car
        # 6 units = ¥30; gold 3 h −¥15; ¥250 today ≥ ¥200 → 2 h −¥10; ¥5 due
        expect(car.get_by_test_id("fee-gross")).to_have_text("¥30.00")
        benefits = car.get_by_test_id("fee-benefit")
        expect(benefits).to_have_count(2)
        expect(benefits.nth(0)).to_have_attribute("data-kind", "tier_hours")
        expect(benefits.nth(0).locator("dd")).to_have_text("−¥15.00")
        expect(benefits.nth(1)).to_have_attribute("data-kind", "spend_hours")
        expect(benefits.nth(1)).to_contain_text("¥250.00")
        expect(benefits.nth(1).locator("dd")).to_have_text("−¥10.00")
        expect(car.get_by_test_id("fee-due")).to_have_text("¥5.00")
        shot(app, f"my-car-{lang}")

        # pay with points: one hour (500 points) pays the ¥5
        car.get_by_test_id("car-pay").click()
        app.wait_for_url(f"**/app/parking/{stay.pk}/pay/")
        expect(app.get_by_test_id("points-option")).to_have_count(2)  # no points, or 1 hour
        expect(app.get_by_test_id("points-hours-1")).to_be_checked()
        expect(app.get_by_test_id("wallet-balance")).to_have_text(re.compile(r"¥0\.00"))
        shot(app, f"pay-{lang}")
        before = points_balance(member_id=gold.pk)
        app.get_by_test_id("park-pay-submit").click()
        app.wait_for_url(re.compile(r".*/app/parking/paid/\d+/$"))
        expect(app.get_by_test_id("paid-amount")).to_have_text("¥5.00")
        expect(app.get_by_test_id("paid-points")).to_have_attribute("data-points", "500")
        stay.refresh_from_db()
        assert stay.leave_by is not None
        leave_by = f"{timeutil.local(stay.leave_by, world.mall.timezone):%H:%M}"
        expect(app.get_by_test_id("leave-by")).to_contain_text(leave_by)
        shot(app, f"paid-{lang}")
        payment = ParkingPayment.objects.get(session=stay)
        assert (payment.points_used, payment.wallet_fen, payment.amount_fen) == (500, 0, 500)
        assert points_balance(member_id=gold.pk) == before - 500

        # the exit camera reads the plate: the barrier opens
        decision = services.exit_request(car_park=park, plate=PLATE, gate="X1")
        assert (decision.decision, decision.reason, decision.due_fen) == ("open", "paid", 0)

        # back on my car: paid, leave by; the receipt is in the inbox
        app.get_by_test_id("back-to-car").click()
        app.wait_for_url("**/app/parking/")
        expect(app.get_by_test_id("car-paid")).to_contain_text(leave_by)
        app.goto(live_server.url + "/app/inbox/")
        expect(app.locator("body")).to_contain_text("粤B·12345")
        shot(app, f"inbox-receipt-{lang}")

        # the frictionless exit, turned on from the parking page once the plate is verified (licence seen at the desk)
        plate_verify_at_desk(mall_group_id=gold.mall_group_id, member_id=gold.pk, plate=PLATE, actor=ACTOR)
        app.goto(live_server.url + "/app/parking/")
        expect(app.get_by_test_id("auto-pay-state")).to_have_attribute("data-on", "0")
        app.get_by_test_id("auto-pay-toggle").click()
        app.wait_for_url("**/app/parking/#auto-pay")
        expect(app.get_by_test_id("auto-pay-state")).to_have_attribute("data-on", "1")
        assert ParkingProfile.objects.get(member_id=gold.pk).auto_pay
        app.get_by_test_id("auto-pay").scroll_into_view_if_needed()
        shot(app, f"auto-pay-on-{lang}")

        # the car leaves: no car now, the free spaces (B1's sensors), then the stay in the history
        services.event_exit(car_park=park, event_id="cam-x1-0001", plate=PLATE, at=timezone.now(), gate="X1")
        app.goto(live_server.url + "/app/parking/")
        expect(app.get_by_test_id("no-car")).to_be_visible()
        expect(app.get_by_test_id("space-free")).to_have_text("57")
        shot(app, f"no-car-{lang}")
        app.get_by_test_id("history-link").click()
        app.wait_for_url("**/app/parking/history/")
        expect(app.get_by_test_id("stay-row")).to_have_count(1)
        expect(app.get_by_test_id("stay-fee")).to_have_text("¥5.00")
        shot(app, f"history-{lang}")
        app.get_by_test_id("stay-row").click()
        app.wait_for_url(f"**/app/parking/history/{stay.pk}/")
        expect(app.get_by_test_id("stay-payment")).to_have_count(1)
        expect(app.get_by_test_id("stay-benefit")).to_have_count(2)  # the free hours the payment used
        shot(app, f"stay-{lang}")
        assert violations == []
        assert ledger_check().ok
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_member_ticks_a_parking_coupon_and_pays_only_what_it_leaves(browser, live_server, world, lang):
    from galleria.coupons.models import Coupon
    from galleria.coupons.tests.helpers import claim, template

    now = timezone.now()
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    give_points(world, m, 1_000)
    free_two = template(world, name="观影停车 2 小时", kind="parking", parking_hours=2, value_fen=0, threshold_fen=0,
                        valid_from=now - dt.timedelta(days=1))  # fmt: skip
    coupon = claim(m, free_two)
    entered = services.event_entry(
        car_park=park, event_id="cam-e1-0002", plate=PLATE, at=now - dt.timedelta(hours=3, minutes=10), zone="B1"
    )
    context, app, violations = member_page(browser, live_server, m, lang)
    try:
        app.goto(f"{live_server.url}/app/parking/{entered.session_id}/pay/")
        expect(app.get_by_test_id("park-coupon")).to_have_count(1)
        app.get_by_test_id(f"park-coupon-{coupon.coupon_id}").check()
        app.get_by_test_id("park-coupons-apply").click()
        # 4 units = ¥20; the coupon's 2 hours take ¥10 off: ¥10 left, which 2 hours of points pay
        expect(app.get_by_test_id("park-coupons-saving")).to_contain_text("¥10.00")
        shot(app, f"pay-coupon-{lang}")
        app.get_by_test_id("points-hours-2").check()
        app.get_by_test_id("park-pay-submit").click()
        expect(app.get_by_test_id("paid-amount")).to_be_visible()
        payment = ParkingPayment.objects.get()
        assert (payment.amount_fen, payment.points_used) == (1000, 1000)
        assert Coupon.objects.get(pk=coupon.coupon_id).status == "used"
        decision = services.exit_request(car_park=park, plate=PLATE, gate="X1")
        assert decision.decision == "open"
        assert violations == []
    finally:
        context.close()
