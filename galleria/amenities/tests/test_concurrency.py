"""Races on PostgreSQL with real threads (each its own connection): the last umbrella at a desk goes to exactly one
of ten members asking at once; a return scanned at two desks at once charges once; a slot's places are never
overbooked by members booking at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from galleria.amenities import exceptions, services, services_bookings, services_config
from galleria.amenities.models import Rental, RentalStock, TimeSlot
from galleria.amenities.types import OfferingIn, WeeklyHours
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check, member_available, member_balance
from galleria.sales.models import Sale
from galleria.testing import run_parallel

from .helpers import ACTOR, desk, lend, member, new_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def test_the_last_umbrella_goes_to_exactly_one_of_ten_members(world):
    d = desk(world, umbrellas=1)
    members = [member(world, points=5000) for _ in range(10)]
    outcomes = run_parallel(10, lambda i: _outcome(lambda: lend(world, d, members[i])))
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", exceptions.OutOfStockError.code}
    assert RentalStock.objects.get(desk=d).on_hand == 0 and Rental.objects.count() == 1
    winner = Rental.objects.get().member_id
    for m in members:  # only the winner's deposit is held
        assert member_available(member_id=m.pk, kind="member_points") == (2000 if m.pk == winner else 5000)


def test_a_return_scanned_at_two_desks_at_once_charges_once(world):
    d, other = desk(world), desk(world, umbrellas=0, name="B1 服务台")
    m = member(world, points=5000)
    rental = lend(world, d, m, at=timeutil.now() - dt.timedelta(hours=3, minutes=55))
    desks = [d.pk, other.pk] * 4
    outcomes = run_parallel(
        8,
        lambda i: _outcome(
            lambda: services.rental_return(
                mall_group_id=world.group.pk, rental_id=rental.pk, desk_id=desks[i], actor=ACTOR
            )
        ),
    )
    assert outcomes == ["ok"] * 8  # the later scans find it returned and change nothing
    assert Sale.objects.filter(member_id=m.pk).count() == 1
    assert member_balance(member_id=m.pk, kind="member_points") == 4600
    assert sum(RentalStock.objects.filter(desk__in=[d, other]).values_list("on_hand", flat=True)) == 5
    assert ledger_check().ok


def test_ten_members_booking_three_places_at_once_get_three(world):
    offering = services_config.offering_save(
        mall_group_id=world.group.pk,
        offering_id=None,
        data=OfferingIn(mall_id=world.mall.pk, kind="gift_wrap", name="礼品包装"),
        actor=ACTOR,
    )
    rows = [WeeklyHours(day, dt.time(10), dt.time(11), 3) for day in range(7)]
    services_config.hours_save(mall_group_id=world.group.pk, offering_id=offering.pk, rows=rows, actor=ACTOR)
    slot = TimeSlot.objects.filter(offering=offering, starts_at__gt=timeutil.now()).order_by("starts_at").first()
    members = [member(world) for _ in range(10)]
    outcomes = run_parallel(
        10,
        lambda i: _outcome(
            lambda: services_bookings.booking_request(
                mall_group_id=world.group.pk, slot_id=slot.pk, member_id=members[i].pk, key=new_key(), actor=ACTOR
            )
        ),
    )
    assert outcomes.count("ok") == 3 and set(outcomes) == {"ok", exceptions.SlotFullError.code}
    assert TimeSlot.objects.get(pk=slot.pk).booked == 3


def test_one_lend_tapped_eight_times_at_once_lends_once(world):
    d = desk(world, umbrellas=5)
    m = member(world, points=9000)
    ids = run_parallel(8, lambda i: lend(world, d, m, key="the-same-tap").pk)
    assert len(set(ids)) == 1 and Rental.objects.filter(member=m).count() == 1
    assert RentalStock.objects.get(desk=d).on_hand == 4
    assert member_available(member_id=m.pk, kind="member_points") == 6000
