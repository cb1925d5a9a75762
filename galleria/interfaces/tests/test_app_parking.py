"""The member app's parking screens (#16): my car with the fee so far and each benefit explained, find my car,
paying with points and the wallet (idempotent, errors inline, an inbox receipt), past stays with the stored
explanation, free spaces, the frictionless exit — and one member never reaching another's stay.

Times are frozen at 16:00 (Asia/Shanghai) on a day of the tariff's validity: the issue's car park (first 30 min
free, ¥5/h, ¥50 a day; spend ≥ ¥200 today → +2 h) and a gold member (3 free hours)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.conf import settings

from galleria.audit.models import AuditEvent
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.interfaces.app.presenters.home import page_url
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.messaging.models import InboxMessage
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingProfile, ParkingSession, Zone
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.parking.tests.helpers import ACTOR, car_park, fund_wallet, local, member, spend
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing_points import give_points
from galleria.wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 10, 16, 0)
PLATE = "粤B12345"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def sign_in(client, m) -> None:
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    session = client.session
    session["member_id"] = m.pk
    session.save()


def bind(m, plate: str = PLATE) -> None:
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)


def enter(park, plate: str = PLATE, *, h: int = 10, mi: int = 0, zone: str = "B1") -> ParkingSession:
    result = services.event_entry(
        car_park=park, event_id=f"in-{plate}-{h}{mi}", plate=plate, at=local(2026, 3, 10, h, mi), zone=zone
    )
    assert result.session_id is not None
    return ParkingSession.objects.get(pk=result.session_id)


@pytest.fixture
def park(world):
    return car_park(world)


@pytest.fixture
def gold(world, client):
    """The issue's member: gold, 粤B12345 bound, ¥250 spent at 11:00 today, 2,000 points given."""
    m = member(world, tier="gold")
    bind(m)
    give_points(world, m, 2_000)
    spend(world, m, 25_000, at=local(2026, 3, 10, 11))
    sign_in(client, m)
    return m


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


def by_testid(resp, name: str) -> list[str]:
    return re.findall(rf'data-testid="{name}"[^>]*>([^<]*)<', resp.content.decode())


def pay_form(resp) -> dict[str, str]:
    """The hidden fields of the pay form: its idempotency key and the amount it showed."""
    html = resp.content.decode()
    key = re.search(r'name="key" value="([^"]+)"', html)
    due = re.search(r'name="due" value="(\d+)"', html)
    assert key is not None and due is not None, "no pay form on the page"
    return {"key": key.group(1), "due": due.group(1)}


# ---------------------------------------------------------------- my car


def test_my_car_shows_the_fee_so_far_with_each_benefit_and_where_the_car_is(client, world, park, gold):
    stay = enter(park)
    resp = client.get("/app/parking/")
    assert resp.status_code == 200
    page = text(resp)
    assert by_testid(resp, "car-plate") == ["粤B·12345"]
    assert by_testid(resp, "car-stay") == ["6 h"] and by_testid(resp, "car-entry") == ["03-10 10:00"]
    assert by_testid(resp, "car-zone") == ["B1 · B1 区"]  # find my car: the floor and the zone of the entry
    assert by_testid(resp, "fee-gross") == ["¥30.00"] and by_testid(resp, "fee-due") == ["¥5.00"]
    # the example: 6 h = ¥30, gold 3 h −¥15, ¥250 spent today ≥ ¥200 → 2 h −¥10, ¥5 to pay
    assert "3 free hours for 金卡 members" in page and "−¥15.00" in page
    assert "2 free hours for spending ¥200.00 today" in page and "you spent ¥250.00 today" in page
    assert "−¥10.00" in page
    assert f'href="/app/parking/{stay.pk}/pay/"' in page and "Pay ¥5.00" in page
    assert "by 16:15 if you pay now" in page  # 15 minutes to leave after paying
    assert 'data-testid="no-car"' not in page


def test_a_short_stay_is_free_and_says_why(client, world, park, gold):
    enter(park, h=15, mi=40)
    resp = client.get("/app/parking/")
    page = text(resp)
    assert by_testid(resp, "fee-due") == ["¥0.00"]
    assert "Free: a stay of up to 30 minutes costs nothing." in page
    assert 'data-testid="car-free"' in page and 'data-testid="car-pay"' not in page


def test_the_spend_hint_says_how_much_more_to_spend(client, world, park):
    m = member(world)  # no tier hours, nothing spent yet
    bind(m)
    spend(world, m, 12_000, at=local(2026, 3, 10, 11))
    sign_in(client, m)
    enter(park, h=12)
    resp = client.get("/app/parking/")
    assert by_testid(resp, "spend-hint") == ["Spend ¥80.00 more in the mall today for 2 free hours of parking."]
    assert by_testid(resp, "fee-due") == ["¥20.00"]


def test_a_stay_of_a_plate_bound_after_entry_is_shown_and_priced_as_the_members(client, world, park):
    stay = enter(park)  # nobody's plate yet
    m = member(world, tier="gold")
    bind(m)
    sign_in(client, m)
    resp = client.get("/app/parking/")
    assert by_testid(resp, "fee-due") == ["¥15.00"]  # 6 h − the gold 3 h
    stay.refresh_from_db()
    assert stay.member_id is None  # showing it claims nothing


def test_nothing_parked_shows_the_plates_and_the_free_spaces(client, world, park, gold):
    enter(park, "沪A00001")  # someone else's car
    resp = client.get("/app/parking/")
    page = text(resp)
    assert 'data-testid="no-car"' in page
    assert by_testid(resp, "space-free") == ["799"]  # 800 spaces − 1 car
    assert "粤B·12345" in page and 'href="/app/profile/#plates"' in page
    Zone.objects.filter(car_park=park).update(free_reported=123, free_reported_at=NOW)
    resp = client.get("/app/parking/")
    assert by_testid(resp, "space-free") == ["123"]  # the zone's sensors, when every zone reported lately
    assert "at 16:00" in text(resp)


def test_without_a_plate_the_page_asks_to_bind_one(client, world, park):
    m = member(world)
    sign_in(client, m)
    page = text(client.get("/app/parking/"))
    assert "Bind a plate ›" in page and 'data-testid="auto-pay-needs-plate"' in page
    assert 'data-testid="auto-pay-toggle"' not in page


def test_the_home_entry_links_to_the_parking_page():
    assert page_url("parking") == "/app/parking/"


# ---------------------------------------------------------------- paying


def test_paying_with_points_then_the_barrier_opens_and_a_receipt_arrives(
    client, world, park, gold, django_capture_on_commit_callbacks
):
    stay = enter(park)
    before = points_balance(member_id=gold.pk)
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert resp.status_code == 200
    assert 'value="1" checked' in resp.content.decode()  # all the hours points can pay, chosen by default
    assert "500 points pay one hour (¥5.00)." in text(resp)
    with django_capture_on_commit_callbacks(execute=True):  # the receipt is sent once the payment has committed
        resp = client.post(f"/app/parking/{stay.pk}/pay/", {**pay_form(resp), "hours": "1"})
    payment = ParkingPayment.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/app/parking/paid/{payment.pk}/"
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen, payment.source) == (500, 500, 0, "app")
    assert points_balance(member_id=gold.pk) == before - 500
    assert Sale.objects.get(pk=payment.sale_id).channel == "parking"

    page = client.get(resp["Location"])
    assert by_testid(page, "paid-amount") == ["¥5.00"]
    assert "Leave by <b>16:15</b>" in text(page)
    assert f'href="/app/bills/{payment.sale_id}/"' in text(page)
    receipt = InboxMessage.objects.get(member_id=gold.pk)
    assert "粤B·12345" in receipt.title and "¥5.00" in receipt.body and "16:15" in receipt.body

    decision = services.exit_request(car_park=park, plate=PLATE)
    assert (decision.decision, decision.reason) == ("open", "paid")
    mine = client.get("/app/parking/")
    assert "Leave by <b>16:15</b>" in text(mine) and 'data-testid="car-pay"' not in text(mine)
    assert ledger_check().ok


def test_the_rest_is_paid_from_the_wallet_and_a_short_wallet_is_said_before_anything_is_taken(client, world, park):
    m = member(world)  # no points, no tier hours
    bind(m)
    sign_in(client, m)
    stay = enter(park, h=13)  # 3 h = ¥15
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    page = text(resp)
    assert "Your wallet is ¥15.00 short, even with your points." in page
    assert 'href="/app/wallet/#topup"' in page and "disabled" in page
    assert "Points pay whole hours: an hour takes 500 points, you have 0." in page
    refused = client.post(f"/app/parking/{stay.pk}/pay/", {**pay_form(resp), "hours": "0"})
    assert refused.status_code == 422
    assert "Your wallet holds ¥0.00, not enough for the ¥15.00 left to pay." in text(refused)
    assert not ParkingPayment.objects.exists()

    fund_wallet(world, m, 2_000)
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert 'data-testid="wallet-short"' not in text(resp)
    done = client.post(f"/app/parking/{stay.pk}/pay/", {**pay_form(resp), "hours": "0"})
    assert done.status_code == 302
    payment = ParkingPayment.objects.get()
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen) == (1500, 0, 1500)
    assert wallet_balance(member_id=m.pk).total_fen == 500


def test_points_and_wallet_together(client, world, park, gold):
    stay = enter(park, h=8)  # 8 h = ¥40 − 5 free hours = ¥15: points pay at most 3 hours
    fund_wallet(world, gold, 1_000)
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert by_testid(resp, "fee-due") == ["¥15.00"]
    assert 'data-hours="3"' in resp.content.decode() and 'data-hours="4"' not in resp.content.decode()
    client.post(f"/app/parking/{stay.pk}/pay/", {**pay_form(resp), "hours": "2"})
    payment = ParkingPayment.objects.get()
    assert (payment.points_used, payment.wallet_fen) == (1_000, 500)


def parking_coupon(world, m, hours: int):
    since = local(2026, 3, 1)
    t = template(world, name=f"停车 {hours} 小时", kind="parking", parking_hours=hours, value_fen=0, threshold_fen=0,
                 valid_from=since)  # fmt: skip
    return claim(m, t)


def test_parking_coupons_are_chosen_on_the_pay_page_and_only_the_needed_ones_are_used(client, world, park, gold):
    stay = enter(park, h=8)  # 8 h = ¥40 − 5 free hours (gold 3 h, spend 2 h) = ¥15 due
    two, three = parking_coupon(world, gold, 2), parking_coupon(world, gold, 3)
    page = client.get(f"/app/parking/{stay.pk}/pay/")
    assert text(page).count('data-testid="park-coupon"') == 2
    assert pay_form(page)["due"] == "1500"  # nothing ticked: the fee as it is
    chosen = client.get(f"/app/parking/{stay.pk}/pay/", {"coupon": [str(two.coupon_id)]})
    assert "Coupons take ¥10.00 off: ¥5.00 left to pay." in text(chosen)
    assert pay_form(chosen)["due"] == "500"
    assert f'name="coupon" value="{two.coupon_id}"' in chosen.content.decode()
    resp = client.post(
        f"/app/parking/{stay.pk}/pay/", {**pay_form(chosen), "hours": "1", "coupon": [str(two.coupon_id)]}
    )
    assert resp.status_code == 302
    payment = ParkingPayment.objects.get()
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen) == (500, 500, 0)
    assert Coupon.objects.get(pk=two.coupon_id).status == "used"
    assert Coupon.objects.get(pk=three.coupon_id).status == "available"  # not ticked: kept
    assert ledger_check().ok


def test_coupons_covering_the_whole_fee_pay_it_alone(client, world, park, gold):
    stay = enter(park, h=8)  # ¥15 due
    three = parking_coupon(world, gold, 3)
    chosen = client.get(f"/app/parking/{stay.pk}/pay/", {"coupon": [str(three.coupon_id)]})
    assert pay_form(chosen)["due"] == "0"
    resp = client.post(
        f"/app/parking/{stay.pk}/pay/", {**pay_form(chosen), "hours": "0", "coupon": [str(three.coupon_id)]}
    )
    assert resp.status_code == 302
    payment = ParkingPayment.objects.get()
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen, payment.sale_id) == (0, 0, 0, None)
    assert ParkingSession.objects.get(pk=stay.pk).paid_until is not None
    assert Coupon.objects.get(pk=three.coupon_id).status == "used"


def test_a_coupon_that_is_not_usable_is_an_inline_error(client, world, park, gold):
    stay = enter(park, h=8)
    page = client.get(f"/app/parking/{stay.pk}/pay/")
    resp = client.post(f"/app/parking/{stay.pk}/pay/", {**pay_form(page), "hours": "0", "coupon": ["999999"]})
    assert resp.status_code == 422 and "A coupon you chose cannot be used now" in text(resp)
    assert not ParkingPayment.objects.exists()


def test_the_same_form_sent_twice_pays_once(client, world, park, gold, django_capture_on_commit_callbacks):
    stay = enter(park)
    form = {**pay_form(client.get(f"/app/parking/{stay.pk}/pay/")), "hours": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/app/parking/{stay.pk}/pay/", form)
        second = client.post(f"/app/parking/{stay.pk}/pay/", form)
    assert first.status_code == 302 and second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ParkingPayment.objects.count() == 1 and InboxMessage.objects.count() == 1


def test_a_fee_that_changed_since_the_page_was_shown_is_not_paid(client, world, park, gold):
    stay = enter(park)
    form = pay_form(client.get(f"/app/parking/{stay.pk}/pay/"))
    resp = client.post(f"/app/parking/{stay.pk}/pay/", {**form, "due": "400", "hours": "0"})
    assert resp.status_code == 422
    assert "The fee is now ¥5.00 (the parking time went on)." in text(resp)
    assert not ParkingPayment.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "2"}, "Points pay at most 1 hour of this stay."),
        ({"hours": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"hours": "x"}, "Enter a whole number."),
        ({"hours": "1", "key": "short"}, "This form has expired."),
        ({"hours": "1", "due": ""}, "This form has expired."),
    ],
)
def test_bad_choices_are_inline_errors_never_a_payment(client, world, park, gold, data, message):
    stay = enter(park)
    form = pay_form(client.get(f"/app/parking/{stay.pk}/pay/"))
    resp = client.post(f"/app/parking/{stay.pk}/pay/", {**form, **data})
    assert resp.status_code == 422
    assert message in text(resp)
    assert not ParkingPayment.objects.exists()


def test_a_service_problem_is_shown_in_words(client, world, park, gold, monkeypatch):
    from galleria.core.errors import ConflictError

    stay = enter(park)
    form = {**pay_form(client.get(f"/app/parking/{stay.pk}/pay/")), "hours": "1"}

    def left(**kwargs):
        raise ConflictError("left", code="parking.left")

    monkeypatch.setattr(services, "parking_pay", left)
    resp = client.post(f"/app/parking/{stay.pk}/pay/", form)
    assert resp.status_code == 422 and "This car has already left." in text(resp)


def test_a_car_park_without_app_payments_says_pay_at_the_exit(client, world, park, gold):
    type(park).objects.filter(pk=park.pk).update(store=None)
    stay = enter(park)
    page = text(client.get("/app/parking/"))
    assert 'data-testid="car-pay-at-exit"' in page
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert resp.status_code == 302 and resp["Location"] == "/app/parking/"


def test_a_car_that_left_cannot_be_paid_and_nothing_due_goes_back(client, world, park, gold):
    stay = enter(park, h=15, mi=50)
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert resp.status_code == 302 and resp["Location"] == "/app/parking/"  # free: nothing due
    services.event_exit(car_park=park, event_id="out-1", plate=PLATE, at=NOW)
    resp = client.get(f"/app/parking/{stay.pk}/pay/")
    assert resp.status_code == 302 and resp["Location"] == f"/app/parking/history/{stay.pk}/"


def test_zh_hans_pages_render(client, world, park, gold):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    stay = enter(park)
    for url in ("/app/parking/", f"/app/parking/{stay.pk}/pay/", "/app/parking/history/"):
        resp = client.get(url)
        assert resp.status_code == 200 and '<html lang="zh-hans"' in resp.content.decode()


# ---------------------------------------------------------------- another member


def test_one_member_never_reaches_anothers_stay_or_payment(client, world, park, gold):
    stay = enter(park)
    fund_wallet(world, gold, 1_000)
    payment = services.parking_pay(session_id=stay.pk, member_id=gold.pk, points=0, key="k-1", actor=ACTOR)
    other = member(world)
    bind(other, "沪C12345")
    sign_in(client, other)
    for url, back in (
        (f"/app/parking/{stay.pk}/pay/", "/app/parking/"),
        (f"/app/parking/paid/{payment.pk}/", "/app/parking/"),
    ):
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"] == back
    resp = client.post(f"/app/parking/{stay.pk}/pay/", {"hours": "0", "key": "x" * 20, "due": "0"})
    assert resp.status_code == 302 and ParkingPayment.objects.count() == 1
    services.event_exit(car_park=park, event_id="out-1", plate=PLATE, at=NOW)
    resp = client.get(f"/app/parking/history/{stay.pk}/")
    assert resp.status_code == 302 and resp["Location"] == "/app/parking/history/"
    page = text(client.get("/app/parking/"))
    assert "粤B·12345" not in page
    assert "粤B·12345" not in text(client.get("/app/parking/history/"))


# ---------------------------------------------------------------- history


def test_history_lists_past_stays_and_the_detail_shows_the_stored_explanation(client, world, park, gold):
    yesterday = services.event_entry(car_park=park, event_id="in-old", plate=PLATE, at=local(2026, 3, 9, 9))
    fund_wallet(world, gold, 2_000)
    services.parking_pay(  # 6 h = ¥30 − the gold 3 h = ¥15, from the wallet
        session_id=yesterday.session_id, member_id=gold.pk, points=0, key="k-old", actor=ACTOR, at=local(2026, 3, 9, 15)
    )
    services.event_exit(car_park=park, event_id="out-old", plate=PLATE, at=local(2026, 3, 9, 15, 5))
    today = enter(park, h=8)
    services.event_exit(car_park=park, event_id="out-1", plate=PLATE, at=local(2026, 3, 10, 14))  # left unpaid

    resp = client.get("/app/parking/history/")
    assert resp.status_code == 200
    rows = re.findall(r'data-testid="stay-row" data-session="(\d+)"', resp.content.decode())
    assert rows == [str(today.pk), str(yesterday.session_id)]  # latest first
    assert by_testid(resp, "stay-fee") == ["¥5.00", "¥15.00"]
    page = text(resp)
    assert "03-10 08:00 → 03-10 14:00" in page and "Left without paying" in page and "paid ¥15.00" in page

    detail = client.get(f"/app/parking/history/{today.pk}/")
    page = text(detail)
    # the explanation stored at exit: 6 h = ¥30; the gold 3 h and the ¥250 spend's 2 h leave ¥5, not paid
    assert "Day rate" in page and "6 units of 60 min at ¥5.00" in page
    assert by_testid(detail, "stay-gross") == ["¥30.00"]
    assert "3 free hours for your tier" in page and "2 free hours for spending ¥200.00 today" in page
    assert "Left without paying" in page

    detail = client.get(f"/app/parking/history/{yesterday.session_id}/")
    page = text(detail)
    # paid before leaving: the explanation of that payment (6 h = ¥30, the gold 3 h off), and the payment itself
    assert "6 units of 60 min at ¥5.00" in page and "3 free hours for your tier" in page and "−¥15.00" in page
    assert 'data-testid="stay-payment"' in page and "Member app" in page


def test_history_pages(client, world, park, gold):
    for day in range(1, 23):
        at = local(2026, 2, day, 10)
        services.event_entry(car_park=park, event_id=f"in-{day}", plate=PLATE, at=at)
        services.event_exit(car_park=park, event_id=f"out-{day}", plate=PLATE, at=at.replace(hour=10, minute=20))
    first = client.get("/app/parking/history/")
    assert len(by_testid(first, "stay-fee")) == 20 and 'data-testid="pager"' in text(first)
    second = client.get("/app/parking/history/?page=2")
    assert len(by_testid(second, "stay-fee")) == 2
    assert client.get("/app/parking/history/?page=abc").status_code == 200


# ---------------------------------------------------------------- frictionless exit


def test_frictionless_exit_needs_a_plate_turns_on_and_pays_at_the_exit(client, world, park):
    m = member(world)
    sign_in(client, m)
    resp = client.post("/app/parking/auto-pay/", {"enabled": "1"})
    assert resp.status_code == 302 and resp["Location"] == "/app/parking/#auto-pay"
    assert not ParkingProfile.objects.filter(member_id=m.pk, auto_pay=True).exists()
    assert "Bind your plate first" in text(client.get("/app/parking/"))

    bind(m)  # bound, not verified: the switch is not offered and turning it on is refused
    assert 'data-testid="auto-pay-needs-verified"' in text(client.get("/app/parking/"))
    refused = client.post("/app/parking/auto-pay/", {"enabled": "1"}, follow=True)
    assert "Verify one of your plates first" in text(refused)
    assert not ParkingProfile.objects.filter(member_id=m.pk, auto_pay=True).exists()

    plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=PLATE, actor=ACTOR)
    client.post("/app/parking/auto-pay/", {"enabled": "1"})
    page = client.get("/app/parking/")
    assert re.search(r'data-testid="auto-pay-state" data-on="1">On<', page.content.decode())
    assert AuditEvent.objects.filter(action="parking.auto_pay").count() == 1
    fund_wallet(world, m, 5_000)
    enter(park, h=13)
    decision = services.exit_request(car_park=park, plate=PLATE)
    assert (decision.decision, decision.reason, decision.auto_paid_fen) == ("open", "auto_paid", 1500)

    client.post("/app/parking/auto-pay/", {"enabled": "0"})
    assert not ParkingProfile.objects.get(member_id=m.pk).auto_pay
    assert 'data-on="0"' in client.get("/app/parking/").content.decode()


def test_get_only_pages_refuse_posts_and_the_toggle_refuses_gets(client, world, gold):
    assert client.post("/app/parking/").status_code == 405
    assert client.post("/app/parking/history/").status_code == 405
    assert client.get("/app/parking/auto-pay/").status_code == 405
