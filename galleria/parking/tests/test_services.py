"""Parking stays from the car-park system's events, fees with benefits, paying with points and the wallet, the
frictionless exit — through the services (docs/parking.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from galleria.core import timeutil
from galleria.core.errors import ValidationError
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.parking import selectors, services
from galleria.parking.models import ParkingEvent, ParkingGrant, ParkingPayment, ParkingSession
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing_points import give_points
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR, car_park, fund_wallet, member, spend

pytestmark = pytest.mark.django_db


def bind(m, plate: str) -> None:
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)


def yesterday(h: int, mi: int = 0) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=timeutil.zone("Asia/Shanghai"))


def enter(park, plate: str, at: dt.datetime, event_id: str = "") -> services.EventResult:
    return services.event_entry(car_park=park, event_id=event_id or f"in-{plate}-{at:%H%M}", plate=plate, at=at)


def test_the_issues_example_a_gold_member_who_spent_250_pays_5_with_points_and_leaves(world):
    park = car_park(world)
    m = member(world, tier="gold")
    bind(m, "粤b 12345")
    give_points(world, m, 2_000)
    spend(world, m, 25_000, at=yesterday(11))
    entered = enter(park, "粤B12345", yesterday(10))
    session = ParkingSession.objects.get(pk=entered.session_id)
    assert session.member_id == m.pk and session.plate == "粤B12345"

    decision = services.exit_request(car_park=park, plate="粤B12345", at=yesterday(16))
    assert (decision.decision, decision.due_fen, decision.reason) == ("pay", 500, "unpaid")
    fee = decision.fee
    assert fee is not None and (fee.gross_fen, fee.benefits_fen, fee.net_fen) == (3000, 2500, 500)
    assert [b["kind"] for b in fee.benefits] == ["tier_hours", "spend_hours"]

    session.refresh_from_db()
    before = points_balance(member_id=m.pk)  # 2,000 given + what the ¥250 sale earned
    view, quote = services.pay_quote(session=session, at=yesterday(16))
    assert view.due_fen == 500 and quote is not None and quote.points == 500  # one hour = ¥5 = 500 points
    payment = services.parking_pay(
        session_id=session.pk, member_id=m.pk, points=500, key="app-1", actor=ACTOR, at=yesterday(16)
    )
    assert (payment.amount_fen, payment.points_used, payment.wallet_fen) == (500, 500, 0)
    assert points_balance(member_id=m.pk) == before - 500
    sale = Sale.objects.get(pk=payment.sale_id)
    assert (sale.channel, sale.total_fen, sale.points_used, sale.points_earned) == ("parking", 500, 500, 0)

    again = services.exit_request(car_park=park, plate="粤B12345", at=yesterday(16, 5))
    assert (again.decision, again.reason, again.due_fen) == ("open", "paid", 0)
    left = services.event_exit(car_park=park, event_id="out-1", plate="粤B12345", at=yesterday(16, 6))
    session.refresh_from_db()
    assert left.outcome == "applied" and session.state == "exited" and session.exception == ""
    assert session.fee_fen == 500 and session.daily_benefits_on == yesterday(10).date()
    assert ledger_check().ok


def test_a_replayed_entry_makes_one_stay_and_a_replayed_payment_event_one_payment(world):
    park = car_park(world)
    first = enter(park, "京A88888", yesterday(9), event_id="cam-1")
    again = enter(park, "京A88888", yesterday(9), event_id="cam-1")
    assert (first.outcome, again.outcome, again.session_id) == ("applied", "duplicate", first.session_id)
    assert ParkingSession.objects.count() == 1 and ParkingEvent.objects.count() == 1
    for _ in range(2):
        services.event_payment(
            car_park=park, event_id="booth-7", plate="京A88888", amount_fen=1500, at=yesterday(12), reference="cash"
        )
    assert ParkingPayment.objects.count() == 1
    decision = services.exit_request(car_park=park, plate="京A88888", at=yesterday(12, 10))
    assert (decision.decision, decision.reason) == ("open", "paid")  # within the 15 minutes to leave
    late = services.exit_request(car_park=park, plate="京A88888", at=yesterday(13, 30))
    assert late.decision == "pay" and late.due_fen == 1000  # 12:00 → 13:30 at ¥5/h, the free 30 min not again


def test_an_entry_without_a_zone_is_placed_in_the_zone_of_its_entry_gate(world):
    park = car_park(world)  # gate E1 stands in zone B1
    through_gate = services.event_entry(car_park=park, event_id="in-1", plate="粤B11111", at=yesterday(9), gate="E1")
    named = services.event_entry(car_park=park, event_id="in-2", plate="粤B22222", at=yesterday(9), gate="E1", zone="")
    unknown_gate = services.event_entry(car_park=park, event_id="in-3", plate="粤B33333", at=yesterday(9), gate="E9")
    zones = {
        r.session_id: ParkingSession.objects.get(pk=r.session_id).zone for r in (through_gate, named, unknown_gate)
    }
    assert zones[through_gate.session_id].code == "B1" and zones[named.session_id].code == "B1"
    assert zones[unknown_gate.session_id] is None


def test_exit_before_entry_is_completed_by_the_late_entry(world):
    park = car_park(world)
    out = services.event_exit(car_park=park, event_id="x-1", plate="沪C12345", at=yesterday(18))
    stay = ParkingSession.objects.get(pk=out.session_id)
    assert (out.outcome, stay.state, stay.exception) == ("exception", "exited", "no_entry")
    late = enter(park, "沪C12345", yesterday(15), event_id="e-1")
    stay.refresh_from_db()
    assert late.outcome == "repaired" and late.session_id == stay.pk
    assert stay.entry_at == yesterday(15) and stay.fee_fen == 1500  # 3 h at ¥5, unpaid
    assert stay.exception == "unpaid_exit"
    services.event_payment(car_park=park, event_id="b-1", plate="沪C12345", amount_fen=1500, at=yesterday(18, 1))
    stay.refresh_from_db()
    assert stay.exception == "" and stay.paid_fen == 1500


def test_an_entry_without_an_exit_is_closed_when_the_plate_enters_again(world):
    park = car_park(world)
    first = enter(park, "粤B00001", yesterday(8) - dt.timedelta(days=3), event_id="in-1")
    second = enter(park, "粤B00001", yesterday(8), event_id="in-2")
    old = ParkingSession.objects.get(pk=first.session_id)
    assert (old.state, old.exception, old.exit_at) == ("closed", "no_exit", yesterday(8))
    assert ParkingSession.objects.get(pk=second.session_id).state == "parked"


def test_an_unknown_plate_at_the_exit_pays_the_lost_ticket_fee_and_a_correction_finds_the_stay(world):
    park = car_park(world)
    enter(park, "粤B12845", yesterday(10))  # the entry camera misread 粤B12345
    unknown = services.exit_request(car_park=park, plate="粤B12345", at=yesterday(10, 20))
    assert (unknown.decision, unknown.reason, unknown.due_fen) == ("pay", "no_entry", park.lost_ticket_fen)
    services.event_plate_correction(
        car_park=park, event_id="fix-1", plate_was="粤B12845", plate="粤B12345", at=yesterday(10, 21)
    )
    fixed = services.exit_request(car_park=park, plate="粤B12345", at=yesterday(10, 22))
    assert (fixed.decision, fixed.reason) == ("open", "free")  # 22 minutes: within the free 30
    stay = ParkingSession.objects.get(plate="粤B12345")
    assert (stay.plate_was, stay.exception) == ("粤B12845", "plate_corrected")


def test_the_frictionless_exit_charges_the_wallet_once_within_the_cap(world):
    park = car_park(world)
    m = member(world)
    fund_wallet(world, m, 20_000)
    bind(m, "粤B66666")
    plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate="粤B66666", actor=ACTOR)
    services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    enter(park, "粤B66666", yesterday(9))
    decision = services.exit_request(car_park=park, plate="粤B66666", at=yesterday(12))
    assert (decision.decision, decision.reason, decision.auto_paid_fen) == ("open", "auto_paid", 1500)
    again = services.exit_request(car_park=park, plate="粤B66666", at=yesterday(12, 1))
    assert (again.decision, again.reason) == ("open", "paid")
    balance = wallet_balance(member_id=m.pk)
    assert balance.principal_fen + balance.bonus_fen == 20_000 - 1_500
    assert ParkingPayment.objects.get().source == "auto"
    park.auto_pay_cap_fen = 1000  # above the cap: the driver pays at the exit
    park.save()
    enter(park, "粤B66666", yesterday(13))
    over = services.exit_request(car_park=park, plate="粤B66666", at=yesterday(16))
    assert (over.decision, over.due_fen) == ("pay", 1500)


def test_a_plate_bound_after_the_car_entered_makes_the_stay_the_members(world):
    park = car_park(world)
    m = member(world, tier="gold")
    entered = enter(park, "粤B77777", yesterday(9))
    assert ParkingSession.objects.get(pk=entered.session_id).member_id is None
    bind(m, "粤B77777")
    assert [s.pk for s in selectors.member_parked(member_id=m.pk, mall_group_id=world.group.pk)] == [entered.session_id]
    decision = services.exit_request(car_park=park, plate="粤B77777", at=yesterday(13))
    assert (decision.decision, decision.due_fen) == ("pay", 500)  # 4 h − the gold tier's 3 h = 1 h at ¥5
    assert ParkingSession.objects.get(pk=entered.session_id).member_id == m.pk


def test_parking_coupons_take_hours_off_and_only_the_needed_ones_are_used(world):
    park = car_park(world)
    m = member(world)
    fund_wallet(world, m, 10_000)
    bind(m, "粤B22222")
    since = timezone.now() - dt.timedelta(days=3)
    two_hours = template(
        world, name="停车 2 小时", kind="parking", parking_hours=2, value_fen=0, threshold_fen=0, valid_from=since
    )
    a, b, c = claim(m, two_hours), claim(m, two_hours), claim(m, two_hours)
    session = ParkingSession.objects.get(pk=enter(park, "粤B22222", yesterday(9)).session_id)
    view, _quote = services.pay_quote(session=session, at=yesterday(12), coupon_ids=[a.coupon_id])
    assert (view.gross_fen, view.net_fen, view.due_fen) == (1500, 500, 500)  # 3 h at ¥5, two of them free
    with pytest.raises(ValidationError) as twice:
        services.parking_pay(
            session_id=session.pk,
            member_id=m.pk,
            points=0,
            key="c0",
            actor=ACTOR,
            at=yesterday(12),
            coupon_ids=[a.coupon_id, a.coupon_id],
        )
    assert twice.value.code == "parking.coupon_invalid"
    paid = services.parking_pay(
        session_id=session.pk,
        member_id=m.pk,
        points=0,
        key="c1",
        actor=ACTOR,
        at=yesterday(12),
        coupon_ids=[a.coupon_id, b.coupon_id, c.coupon_id],
    )
    assert (paid.amount_fen, paid.wallet_fen, paid.sale_id) == (0, 0, None)  # 2 h + the last hour: nothing to pay
    assert [(x["kind"], x["minutes_used"]) for x in paid.benefits] == [("coupon_hours", 120), ("coupon_hours", 60)]
    statuses = dict(Coupon.objects.filter(member=m).values_list("pk", "status"))
    assert (statuses[a.coupon_id], statuses[b.coupon_id], statuses[c.coupon_id]) == ("used", "used", "available")
    assert services.exit_request(car_park=park, plate="粤B22222", at=yesterday(12, 10)).decision == "open"


def test_a_merchant_grant_used_at_the_exit_is_recorded_for_billing(world):
    park = car_park(world)
    session = ParkingSession.objects.get(pk=enter(park, "粤B33333", yesterday(9)).session_id)
    grant = ParkingGrant.objects.create(
        mall=world.mall,
        merchant=world.merchant,
        plate="粤B33333",
        hours=2,
        granted_at=yesterday(10),
        valid_until=yesterday(23, 59),
        key="g1",
    )
    decision = services.exit_request(car_park=park, plate="粤B33333", at=yesterday(12))
    assert decision.due_fen == 500  # 3 h − the grant's 2 h
    services.event_payment(car_park=park, event_id="booth-1", plate="粤B33333", amount_fen=500, at=yesterday(12))
    services.event_exit(car_park=park, event_id="out-1", plate="粤B33333", at=yesterday(12, 5))
    grant.refresh_from_db()
    session.refresh_from_db()
    assert session.exception == "" and session.paid_fen == 500
    assert (grant.session_id, grant.minutes_used, grant.fen_used) == (session.pk, 120, 1000)  # billed to 喜茶
