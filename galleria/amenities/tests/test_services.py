"""Rentals and bookings against the database: the deposit is a ledger hold, fees are sales of the desk's store
(channel amenity) and the books stay balanced; stock, idempotency, tier benefits, staff decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from galleria.amenities import exceptions, selectors, services, services_bookings, services_config
from galleria.amenities.models import Booking, Rental, RentalStock, StockMove, TimeSlot
from galleria.amenities.types import OfferingIn, WeeklyHours
from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check, member_available, member_balance
from galleria.messaging.models import InboxMessage
from galleria.sales.models import Sale
from galleria.wallet.tests.helpers import top_up

from .helpers import ACTOR, desk, lend, member, new_key, umbrella

pytestmark = pytest.mark.django_db


def _on_hand(d) -> int:
    return RentalStock.objects.get(desk=d, item_type__code="umbrella").on_hand


def test_lending_holds_the_deposit_and_takes_one_from_the_desk(world):
    d = desk(world, umbrellas=2)
    m = member(world, points=5000)
    rental = lend(world, d, m)
    assert rental.state == "lent" and rental.deposit_amount == 3000 and rental.hold_key == f"amen:{rental.pk}"
    assert member_balance(member_id=m.pk, kind="member_points") == 5000  # reserved, not moved
    assert member_available(member_id=m.pk, kind="member_points") == 2000
    assert _on_hand(d) == 1
    assert rental.due_at == rental.lent_at + dt.timedelta(minutes=120)
    assert StockMove.objects.filter(rental=rental, reason="lend", delta=-1).exists()


def test_a_gold_member_is_free_for_longer(world):
    d = desk(world)
    rental = lend(world, d, member(world, points=5000, tier="gold"))
    assert rental.due_at - rental.lent_at == dt.timedelta(minutes=240) and rental.tier_code == "gold"


def test_returned_in_time_releases_the_deposit_and_charges_nothing(world):
    d, other = desk(world), desk(world, umbrellas=0, name="B1 服务台")
    m = member(world, points=5000)
    rental = lend(world, d, m, at=timeutil.now() - dt.timedelta(minutes=90))
    done = services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=other.pk, actor=ACTOR)
    assert done.state == "returned" and done.fee_charged_fen == 0 and done.sale_id is None
    assert member_available(member_id=m.pk, kind="member_points") == 5000
    assert RentalStock.objects.get(desk=other, item_type=rental.item_type).on_hand == 1  # back at the other desk


def test_a_late_return_charges_the_fee_from_the_points_deposit_as_the_mall_s_sale(world):
    d = desk(world)
    m = member(world, points=5000)
    rental = lend(world, d, m, at=timeutil.now() - dt.timedelta(hours=5, minutes=1))  # 3 h 1 min past the free 2 h
    done = services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    assert (done.fee_due_fen, done.fee_charged_fen, done.fee_points) == (800, 800, 800)
    assert member_balance(member_id=m.pk, kind="member_points") == 4200
    assert member_available(member_id=m.pk, kind="member_points") == 4200
    sale = Sale.objects.get(pk=done.sale_id)
    assert sale.channel == "amenity" and sale.store_id == d.store_id and sale.points_used == 800
    assert [line["key"] for line in done.fee_lines] == ["lent_for", "free", "units", "total"]
    assert ledger_check().ok


def test_a_late_return_charges_the_wallet_deposit_in_exact_fen(world):
    d = desk(world)
    m = member(world)
    top_up(world, m, 10000)
    rental = lend(world, d, m, kind="wallet", at=timeutil.now() - dt.timedelta(hours=2, minutes=30))
    assert member_available(member_id=m.pk, kind="member_wallet") == 7000
    done = services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    assert done.fee_charged_fen == 200 and done.fee_points == 0
    assert member_balance(member_id=m.pk, kind="member_wallet") == 9800
    assert member_available(member_id=m.pk, kind="member_wallet") == 9800
    assert Sale.objects.get(pk=done.sale_id).channel == "amenity"
    assert ledger_check().ok


def test_a_return_scanned_twice_charges_once(world):
    d = desk(world)
    m = member(world, points=5000)
    rental = lend(world, d, m, at=timeutil.now() - dt.timedelta(hours=3, minutes=55))
    first = services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    again = services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    assert again.fee_charged_fen == first.fee_charged_fen == 400
    assert member_balance(member_id=m.pk, kind="member_points") == 4600
    assert _on_hand(d) == 5 and Sale.objects.filter(member_id=m.pk).count() == 1


def test_a_lost_item_charges_the_lost_fee_capped_by_the_deposit(world):
    d = desk(world)
    m = member(world, points=5000)
    rental = lend(
        world, d, m, at=timeutil.now() - dt.timedelta(hours=2, minutes=55)
    )  # ¥2 overdue + ¥30 lost, deposit ¥30
    lost = services.rental_lost(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    assert lost.state == "lost" and lost.fee_due_fen == 3200 and lost.fee_charged_fen == 3000
    assert lost.fee_waived_fen == 200
    assert member_balance(member_id=m.pk, kind="member_points") == 2000
    assert _on_hand(d) == 4  # written off: it never comes back
    assert StockMove.objects.filter(rental=lost, reason="lost").exists()
    with pytest.raises(exceptions.RentalClosedError):
        services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    assert ledger_check().ok


def test_without_enough_points_nothing_is_lent(world):
    d = desk(world, umbrellas=1)
    m = member(world, points=1000)
    with pytest.raises(exceptions.DepositInsufficientError):
        lend(world, d, m)
    assert _on_hand(d) == 1 and not Rental.objects.exists()


def test_an_empty_desk_lends_nothing_and_one_at_a_time_per_member(world):
    d = desk(world, umbrellas=1)
    m = member(world, points=9000)
    lend(world, d, m)
    with pytest.raises(exceptions.OutOfStockError):
        lend(world, d, member(world, points=9000))
    services.stock_adjust(
        mall_group_id=world.group.pk,
        desk_id=d.pk,
        item_type_id=umbrella(world).pk,
        delta=1,
        reason="found",
        actor=ACTOR,
    )
    with pytest.raises(exceptions.AlreadyBorrowingError):
        lend(world, d, m)


def test_the_same_key_lends_once_and_another_item_with_it_conflicts(world):
    d = desk(world)
    m = member(world, points=9000)
    key = new_key()
    assert lend(world, d, m, key=key).pk == lend(world, d, m, key=key).pk
    with pytest.raises(exceptions.IdempotencyConflictError):
        lend(world, d, m, key=key, kind="wallet")
    assert _on_hand(d) == 4


def test_a_deposit_the_item_does_not_take_is_refused(world):
    d = desk(world)
    umbrella(world, deposit_fen=0)
    with pytest.raises(exceptions.DepositNotOfferedError):
        lend(world, d, member(world, points=9000), kind="wallet")


def test_stock_never_goes_below_zero_and_needs_a_reason(world):
    d = desk(world, umbrellas=2)
    with pytest.raises(exceptions.StockNegativeError):
        services.stock_adjust(
            mall_group_id=world.group.pk,
            desk_id=d.pk,
            item_type_id=umbrella(world).pk,
            delta=-3,
            reason="count",
            actor=ACTOR,
        )
    with pytest.raises(exceptions.InvalidError):
        services.stock_adjust(
            mall_group_id=world.group.pk,
            desk_id=d.pk,
            item_type_id=umbrella(world).pk,
            delta=-1,
            reason=" ",
            actor=ACTOR,
        )
    assert _on_hand(d) == 2


def test_the_fee_so_far_is_what_returning_now_would_charge(world):
    d = desk(world)
    rental = lend(world, d, member(world, points=5000))
    fee = selectors.rental_fee(rental, at=rental.lent_at + dt.timedelta(hours=3))
    assert fee.total_fen == 200


# ------------------------------------------------------------------------------------------------- bookings


def _offering(world, **values):
    data = {"mall_id": world.mall.pk, "kind": "lounge", "name": "金卡贵宾室", "access": "lounge_access"} | values
    offering = services_config.offering_save(
        mall_group_id=world.group.pk, offering_id=None, data=OfferingIn(**data), actor=ACTOR
    )
    rows = [WeeklyHours(day, dt.time(10), dt.time(12), 2) for day in range(7)]
    made = services_config.hours_save(mall_group_id=world.group.pk, offering_id=offering.pk, rows=rows, actor=ACTOR)
    assert made > 0
    return offering


def _next_slot(offering):
    return TimeSlot.objects.filter(offering=offering, starts_at__gt=timeutil.now()).order_by("starts_at").first()


def _book(world, m, slot, **kw):
    return services_bookings.booking_request(
        mall_group_id=world.group.pk, slot_id=slot.pk, member_id=m.pk, key=new_key(), actor=ACTOR, **kw
    )


def test_the_lounge_is_a_benefit_of_the_tiers_that_have_it(world):
    slot = _next_slot(_offering(world))
    with pytest.raises(exceptions.TierRequiredError):
        _book(world, member(world, tier="silver"), slot)
    booking = _book(world, member(world, tier="gold"), slot)
    assert booking.state == "requested" and TimeSlot.objects.get(pk=slot.pk).booked == 1


def test_staff_confirm_and_the_member_is_told(world, django_capture_on_commit_callbacks):
    slot = _next_slot(_offering(world))
    m = member(world, tier="gold")
    booking = _book(world, m, slot)
    with django_capture_on_commit_callbacks(execute=True):
        done = services_bookings.booking_decide(
            mall_group_id=world.group.pk, booking_id=booking.pk, decision="confirm", actor=ACTOR
        )
    assert done.state == "confirmed"
    assert InboxMessage.objects.filter(member_id=m.pk, title__contains="金卡贵宾室").exists()


def test_a_decline_needs_a_reason_and_gives_the_place_back(world, django_capture_on_commit_callbacks):
    slot = _next_slot(_offering(world))
    m = member(world, tier="gold")
    booking = _book(world, m, slot)
    with pytest.raises(exceptions.InvalidError):
        services_bookings.booking_decide(
            mall_group_id=world.group.pk, booking_id=booking.pk, decision="decline", actor=ACTOR
        )
    with django_capture_on_commit_callbacks(execute=True):
        services_bookings.booking_decide(
            mall_group_id=world.group.pk, booking_id=booking.pk, decision="decline", reason="贵宾室维修", actor=ACTOR
        )
    assert TimeSlot.objects.get(pk=slot.pk).booked == 0
    assert InboxMessage.objects.filter(member_id=m.pk, body__contains="贵宾室维修").exists()


def test_a_full_slot_refuses_and_one_live_booking_per_member(world):
    slot = _next_slot(_offering(world, access="open", kind="gift_wrap", name="礼品包装"))
    a, b, c = member(world), member(world), member(world)
    _book(world, a, slot)
    with pytest.raises(exceptions.AlreadyBookedError):
        _book(world, a, slot)
    _book(world, b, slot)
    with pytest.raises(exceptions.SlotFullError):
        _book(world, c, slot)
    assert TimeSlot.objects.get(pk=slot.pk).booked == 2


def test_home_delivery_takes_an_address_and_a_receipt_and_erasure_forgets_them(world):
    slot = _next_slot(_offering(world, access="open", kind="home_delivery", name="到家服务"))
    m = member(world)
    with pytest.raises(exceptions.InvalidError) as err:
        _book(world, m, slot)
    assert set(err.value.fields) == {"address", "receipt_ref"}
    booking = _book(world, m, slot, address="深圳市南山区科技园 1 号", receipt_ref="S-20261201-001")
    assert booking.address.startswith("深圳")
    services_bookings.member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[])
    booking.refresh_from_db()
    assert (booking.address, booking.receipt_ref, booking.state) == ("", "", "cancelled")
    assert TimeSlot.objects.get(pk=slot.pk).booked == 0


def test_the_member_cancels_before_the_slot(world):
    slot = _next_slot(_offering(world, access="open", kind="gift_wrap", name="礼品包装"))
    m = member(world)
    booking = _book(world, m, slot)
    services_bookings.booking_cancel(booking_id=booking.pk, member_id=m.pk, actor=ACTOR)
    assert Booking.objects.get(pk=booking.pk).state == "cancelled" and TimeSlot.objects.get(pk=slot.pk).booked == 0


def test_slot_generation_is_idempotent(world):
    offering = _offering(world, access="open", kind="gift_wrap", name="礼品包装")
    count = TimeSlot.objects.filter(offering=offering).count()
    assert services_config.slots_generate(mall_group_id=world.group.pk, offering_id=offering.pk) == 0
    assert TimeSlot.objects.filter(offering=offering).count() == count


def test_the_report_counts_lends_overdue_and_fees(world):
    d = desk(world)
    rental = lend(world, d, member(world, points=5000), at=timeutil.now() - dt.timedelta(hours=3, minutes=55))
    services.rental_return(mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=d.pk, actor=ACTOR)
    late = lend(world, d, member(world, points=5000), at=timeutil.now() - dt.timedelta(hours=3))
    assert late.due_at < timeutil.now()
    report = selectors.report(
        mall_group_id=world.group.pk,
        since=timeutil.now() - dt.timedelta(days=2),
        at=timeutil.now(),
        tz_name="Asia/Shanghai",
    )
    assert report.open_now == 1 and report.overdue_now == 1 and report.fees_fen == 400
    assert sum(row.lends for row in report.days) == 2


def test_the_daily_job_keeps_two_weeks_of_slots_without_touching_bookings(world):
    offering = _offering(world, access="open", kind="gift_wrap", name="礼品包装")
    slot = _next_slot(offering)
    _book(world, member(world), slot)
    later = timeutil.now() + dt.timedelta(days=3)
    made = services_config.slots_generate_all(at=later)
    assert made == 3 * 2  # three more days of two 1-hour slots
    assert TimeSlot.objects.get(pk=slot.pk).booked == 1


def test_a_priced_lounge_is_free_for_the_benefit_and_paid_in_points_by_others(
    world, django_capture_on_commit_callbacks
):
    store_id = desk(world, umbrellas=0).store_id
    slot = _next_slot(_offering(world, price_points=500, store_id=store_id))
    gold, silver = member(world, points=2000, tier="gold"), member(world, points=2000, tier="silver")
    free = _book(world, gold, slot)
    paid = _book(world, silver, slot)
    assert (free.points, free.sale_id) == (0, None)
    assert paid.points == 500 and Sale.objects.get(pk=paid.sale_id).channel == "amenity"
    assert member_balance(member_id=silver.pk, kind="member_points") == 1500
    with django_capture_on_commit_callbacks(execute=True):
        declined = services_bookings.booking_decide(
            mall_group_id=world.group.pk, booking_id=paid.pk, decision="decline", reason="满员", actor=ACTOR
        )
    assert declined.refund_id is not None and declined.points_returned == 500
    assert member_balance(member_id=silver.pk, kind="member_points") == 2000
    assert ledger_check().ok


def test_a_points_price_follows_the_group_s_points_rules_and_needs_a_store(world):
    with pytest.raises(exceptions.InvalidError) as err:
        services_config.offering_save(
            mall_group_id=world.group.pk,
            offering_id=None,
            data=OfferingIn(mall_id=world.mall.pk, kind="lounge", name="贵宾室", price_points=150),
            actor=ACTOR,
        )
    assert set(err.value.fields) == {"price_points", "store"}
