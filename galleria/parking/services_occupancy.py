"""Free spaces as the car-park system's sensors report them (Zone.free_reported), and the car park's state now.

A report is a reading at a moment: the newest reading of a zone wins, so a report that arrives late (older than the
one stored) changes nothing — reports may be sent again or out of order. The count of cars parked now comes from the
stays (selectors.occupancy); the sensors' free spaces are shown beside it, never mixed into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError

from . import selectors
from .models import CarPark, Zone

MAX_FREE = 100_000


@dataclass(frozen=True)
class ZoneState:
    code: str
    name: str
    floor: str
    capacity: int
    free_reported: int | None
    free_reported_at: dt.datetime | None


@dataclass(frozen=True)
class CarParkState:
    car_park_id: int
    code: str
    name: str
    capacity: int
    parked: int  # stays in progress
    free: int  # capacity − parked, never below 0
    zones: tuple[ZoneState, ...]


@dataclass(frozen=True)
class OccupancyResult:
    updated: tuple[str, ...]  # zone codes whose reading was stored
    stale: tuple[str, ...]  # zone codes that already had a newer reading


def occupancy_report(*, car_park: CarPark, free_by_zone: Mapping[str, int], at: dt.datetime) -> OccupancyResult:
    """Store the free spaces the sensors counted per zone at `at`. Every zone code must be one of the car park's;
    a count is 0 … the zone's capacity (when the zone has one). All or nothing: one bad zone refuses the report."""
    if not free_by_zone:
        raise ValidationError(_("Report at least one zone."), code="parking.zones_empty", fields={"zones": "empty"})
    zones = {z.code: z for z in Zone.objects.filter(car_park=car_park, code__in=list(free_by_zone))}
    unknown = sorted(set(free_by_zone) - zones.keys())
    if unknown:
        raise ValidationError(
            _("Unknown zone: %(zones)s") % {"zones": ", ".join(unknown)[:100]},
            code="parking.zone_unknown",
            fields={"zones": "unknown"},
            extra={"zones": unknown},
        )
    for code, free in free_by_zone.items():
        capacity = zones[code].capacity
        if free < 0 or free > MAX_FREE or (capacity and free > capacity):
            raise ValidationError(
                _("Zone %(zone)s cannot have %(free)s free spaces.") % {"zone": code, "free": free},
                code="parking.free_invalid",
                fields={"zones": "free"},
                extra={"zone": code, "capacity": capacity},
            )
    updated: list[str] = []
    with transaction.atomic():
        for code, free in sorted(free_by_zone.items()):
            newer = Q(free_reported_at__isnull=True) | Q(free_reported_at__lte=at)
            if Zone.objects.filter(newer, pk=zones[code].pk).update(free_reported=free, free_reported_at=at):
                updated.append(code)
    stale = tuple(sorted(set(free_by_zone) - set(updated)))
    return OccupancyResult(updated=tuple(updated), stale=stale)


def car_park_state(*, car_park: CarPark) -> CarParkState:
    """Capacity, cars parked now (from the stays), and each zone's last reported free spaces."""
    parked = selectors.occupancy(car_park_id=car_park.pk)
    zones = tuple(
        ZoneState(
            code=z.code,
            name=z.name,
            floor=z.floor,
            capacity=z.capacity,
            free_reported=z.free_reported,
            free_reported_at=z.free_reported_at,
        )
        for z in Zone.objects.filter(car_park=car_park).order_by("code")
    )
    return CarParkState(
        car_park_id=car_park.pk,
        code=car_park.code,
        name=car_park.name,
        capacity=car_park.capacity,
        parked=parked,
        free=max(car_park.capacity - parked, 0),
        zones=zones,
    )


__all__ = ["CarParkState", "OccupancyResult", "ZoneState", "car_park_state", "occupancy_report"]
