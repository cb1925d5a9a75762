"""The demo's member services (galleria/demo/amenities.py) seed through the services: a stocked desk per mall,
rentals out and returned, the lounge and gift wrapping with bookings; the books stay balanced."""

from __future__ import annotations

import pytest

from galleria.amenities.models import Booking, Rental, RentalStock, ServiceDesk
from galleria.amenities.tests.helpers import member
from galleria.demo.amenities import seed_amenities
from galleria.ledger.selectors import ledger_check

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_desks_rentals_and_bookings(world):
    for n in range(8):
        member(world, points=6000, tier="gold" if n < 2 else "")
    result = seed_amenities(mall_group_id=world.group.pk, seed=7)
    assert result.desks == ServiceDesk.objects.count() == 2  # one per mall
    assert result.rentals == 6
    assert Rental.objects.filter(state="lent").count() == 3 and Rental.objects.filter(state="returned").count() == 3
    assert RentalStock.objects.filter(item_type__code="umbrella").count() == 2
    assert result.bookings == Booking.objects.count() == 4
    assert set(Booking.objects.values_list("state", flat=True)) == {"requested", "confirmed"}
    assert ledger_check().ok
