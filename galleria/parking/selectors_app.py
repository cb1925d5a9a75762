"""Reads for the member app's parking screens (galleria/interfaces/app/parking_views.py): a member's own stays and
payments, and the car parks' free spaces. Reads only; every lookup is scoped to the member and their mall group,
and someone else's stay looks exactly like one that does not exist.

A stay is the member's when it carries their id, or — not yet claimed — when it is a stay of one of their bound
plates in a car park of their group that entered before the plate was bound (selectors.member_parked; the stay is
claimed by the first payment or exit request)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from galleria.core import timeutil
from galleria.members.selectors import member_plates

from .models import CarPark, ParkingPayment, ParkingProfile, ParkingSession, Zone
from .types import SessionState

# a zone's free-space report older than this is not shown (the sensors or the car-park system went quiet)
REPORT_FRESH_FOR = dt.timedelta(minutes=30)


def _mine(member_id: int) -> Q:
    plates = member_plates(member_id=member_id)
    return Q(member_id=member_id) | Q(member__isnull=True, plate__in=plates, state=SessionState.PARKED)


def member_parked_in_group(*, member_id: int, mall_group_id: int) -> list[ParkingSession]:
    """The member's cars parked now in the car parks of their group, latest entry first."""
    return list(
        ParkingSession.objects.select_related("car_park", "car_park__mall", "zone")
        .filter(_mine(member_id), state=SessionState.PARKED, car_park__mall__group_id=mall_group_id)
        .order_by("-entry_at", "-pk")
    )


def member_session(*, member_id: int, mall_group_id: int, session_id: int) -> ParkingSession | None:
    """One of the member's stays (parked or past), or None."""
    return (
        ParkingSession.objects.select_related("car_park", "car_park__mall", "zone")
        .filter(_mine(member_id), pk=session_id, car_park__mall__group_id=mall_group_id)
        .first()
    )


def member_past_sessions(*, member_id: int, mall_group_id: int) -> QuerySet[ParkingSession]:
    """The member's finished stays (left, or closed as an exception), latest first: for a paginator."""
    return (
        ParkingSession.objects.select_related("car_park")
        .filter(member_id=member_id, car_park__mall__group_id=mall_group_id)
        .exclude(state=SessionState.PARKED)
        .order_by(F("exit_at").desc(nulls_last=True), "-pk")
    )


def session_payments(*, session_id: int) -> list[ParkingPayment]:
    return list(ParkingPayment.objects.filter(session_id=session_id).order_by("paid_at", "pk"))


def member_payment(*, member_id: int, payment_id: int) -> ParkingPayment | None:
    """A payment of one of the member's stays."""
    return (
        ParkingPayment.objects.select_related(
            "session", "session__car_park", "session__car_park__mall", "session__zone"
        )
        .filter(pk=payment_id, session__member_id=member_id)
        .first()
    )


def payment_by_key(*, key: str) -> ParkingPayment | None:
    return ParkingPayment.objects.select_related("session").filter(key=key[:80]).first()


# ---------------------------------------------------------------------------------------------------- spaces


@dataclass(frozen=True)
class ZoneSpaces:
    name: str
    floor: str
    capacity: int
    free: int | None  # None: no fresh report
    reported_at: dt.datetime | None


@dataclass(frozen=True)
class CarParkSpaces:
    car_park_id: int
    name: str
    capacity: int
    free: int
    from_sensors: bool  # True: the sum of the zones' fresh reports; False: capacity − cars parked
    auto_pay_cap_fen: int
    leave_grace_minutes: int
    takes_app_payments: bool
    zones: tuple[ZoneSpaces, ...]

    @property
    def reported_zones(self) -> tuple[ZoneSpaces, ...]:
        return tuple(z for z in self.zones if z.free is not None)


def free_spaces(*, mall_id: int, at: dt.datetime | None = None) -> list[CarParkSpaces]:
    """The mall's active car parks with their free spaces now (three queries whatever their number).

    A car park whose every zone reported its free spaces within REPORT_FRESH_FOR shows their sum; otherwise its
    capacity minus the cars parked (never below zero)."""
    at = at or timeutil.now()
    parks = list(CarPark.objects.filter(mall_id=mall_id, is_active=True).order_by("code", "pk"))
    if not parks:
        return []
    ids = [p.pk for p in parks]
    parked = dict(
        ParkingSession.objects.filter(car_park_id__in=ids, state=SessionState.PARKED)
        .values("car_park_id")
        .annotate(n=Count("pk"))
        .values_list("car_park_id", "n")
    )
    zones: dict[int, list[ZoneSpaces]] = {}
    for z in Zone.objects.filter(car_park_id__in=ids).order_by("code", "pk"):
        fresh = (
            z.free_reported is not None
            and z.free_reported_at is not None
            and at - z.free_reported_at <= REPORT_FRESH_FOR
        )
        zones.setdefault(z.car_park_id, []).append(
            ZoneSpaces(
                name=z.name,
                floor=z.floor,
                capacity=z.capacity,
                free=max(int(z.free_reported or 0), 0) if fresh else None,
                reported_at=z.free_reported_at if fresh else None,
            )
        )
    out = []
    for p in parks:
        mine = tuple(zones.get(p.pk, ()))
        sensed = bool(mine) and all(z.free is not None for z in mine)
        free = sum(z.free or 0 for z in mine) if sensed else max(p.capacity - parked.get(p.pk, 0), 0)
        out.append(
            CarParkSpaces(
                car_park_id=p.pk,
                name=p.name,
                capacity=p.capacity,
                free=free,
                from_sensors=sensed,
                auto_pay_cap_fen=p.auto_pay_cap_fen,
                leave_grace_minutes=p.leave_grace_minutes,
                takes_app_payments=p.store_id is not None,
                zones=mine,
            )
        )
    return out


def auto_pay_since(*, member_id: int) -> dt.datetime | None:
    """When the member turned the frictionless exit on (None: off)."""
    profile = ParkingProfile.objects.filter(member_id=member_id, auto_pay=True).first()
    if profile is None:
        return None
    return profile.auto_pay_since or profile.updated_at
