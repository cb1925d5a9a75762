"""Member services reads (docs/amenities.md): desks, item types with availability per desk, rentals (open, overdue,
a member's), the fee of an open rental now, offerings, slots and bookings, and the console's small report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from galleria.core import timeutil
from galleria.tiers.selectors import member_tier

from . import rules
from .models import (
    Booking,
    OfferingHours,
    Rental,
    RentalItemType,
    RentalStock,
    ServiceDesk,
    ServiceOffering,
    StockMove,
    TimeSlot,
)
from .types import LIVE_BOOKING, BookingState, Fee, RentalState, Tariff, WeeklyHours


def tariff_of(item: RentalItemType) -> Tariff:
    return Tariff(
        free_minutes=item.free_minutes,
        free_minutes_by_tier={str(k): int(v) for k, v in (item.free_minutes_by_tier or {}).items()},
        fee_unit=item.fee_unit,
        fee_per_unit_fen=item.fee_per_unit_fen,
        daily_cap_fen=item.daily_cap_fen,
        lost_fee_fen=item.lost_fee_fen,
    )


# ------------------------------------------------------------------------------------------------- desks and stock


def desk_list(*, mall_group_id: int, active_only: bool = False) -> QuerySet[ServiceDesk]:
    qs = ServiceDesk.objects.filter(mall_group_id=mall_group_id).select_related("mall", "store")
    return qs.filter(is_active=True) if active_only else qs


def desk_get(*, mall_group_id: int, desk_id: int) -> ServiceDesk | None:
    return desk_list(mall_group_id=mall_group_id).filter(pk=desk_id).first()


def item_type_list(*, mall_group_id: int, active_only: bool = False) -> QuerySet[RentalItemType]:
    qs = RentalItemType.objects.filter(mall_group_id=mall_group_id)
    return qs.filter(is_active=True) if active_only else qs


def item_type_get(*, mall_group_id: int, item_type_id: int) -> RentalItemType | None:
    return item_type_list(mall_group_id=mall_group_id).filter(pk=item_type_id).first()


def stock_table(*, mall_group_id: int) -> dict[tuple[int, int], int]:
    """{(desk id, item type id): on hand} of the group: one query."""
    rows = RentalStock.objects.filter(desk__mall_group_id=mall_group_id).values_list(
        "desk_id", "item_type_id", "on_hand"
    )
    return {(d, t): n for d, t, n in rows}


def stock_moves(*, mall_group_id: int, limit: int = 50) -> QuerySet[StockMove]:
    return (
        StockMove.objects.filter(stock__desk__mall_group_id=mall_group_id)
        .select_related("stock__desk", "stock__item_type")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class Availability:
    desk: ServiceDesk
    items: tuple[tuple[RentalItemType, int], ...]  # (type, on hand)


def availability(*, mall_group_id: int) -> list[Availability]:
    """Per open desk, the active item types and how many are on hand (the member app's page): three queries."""
    desks = list(desk_list(mall_group_id=mall_group_id, active_only=True))
    types = list(item_type_list(mall_group_id=mall_group_id, active_only=True))
    table = stock_table(mall_group_id=mall_group_id)
    return [Availability(d, tuple((t, table.get((d.pk, t.pk), 0)) for t in types)) for d in desks]


# ------------------------------------------------------------------------------------------------- rentals


def rental_list(
    *, mall_group_id: int, state: str = "", overdue_at: dt.datetime | None = None, desk_id: int | None = None
) -> QuerySet[Rental]:
    qs = Rental.objects.filter(mall_group_id=mall_group_id).select_related(
        "member", "item_type", "desk", "return_desk", "desk__mall"
    )
    if state:
        qs = qs.filter(state=state)
    if overdue_at is not None:
        qs = qs.filter(state=RentalState.LENT, due_at__lt=overdue_at)
    if desk_id is not None:
        qs = qs.filter(Q(desk_id=desk_id) | Q(return_desk_id=desk_id))
    return qs.order_by("-lent_at", "-pk")


def rental_get(*, rental_id: int, mall_group_id: int | None = None, member_id: int | None = None) -> Rental | None:
    qs = Rental.objects.filter(pk=rental_id).select_related("member", "item_type", "desk", "desk__mall")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    return qs.first()


def rental_by_key(*, member_id: int, key: str) -> Rental | None:
    return Rental.objects.filter(member_id=member_id, idempotency_key=key[:80]).first()


def open_rentals(*, member_id: int) -> list[Rental]:
    return list(
        Rental.objects.filter(member_id=member_id, state=RentalState.LENT)
        .select_related("item_type", "desk")
        .order_by("lent_at", "pk")
    )


def member_rentals(*, member_id: int, limit: int = 20) -> list[Rental]:
    return list(
        Rental.objects.filter(member_id=member_id)
        .select_related("item_type", "desk", "return_desk")
        .order_by("-lent_at", "-pk")[:limit]
    )


def rental_fee(rental: Rental, *, at: dt.datetime | None = None) -> Fee:
    """The fee of a rental at `at` (now): what returning it would charge (closed: the fee as charged)."""
    at = at or timeutil.now()
    if rental.state != RentalState.LENT and rental.closed_at is not None:
        at = rental.closed_at
    tier = member_tier(member_id=rental.member_id, mall_group_id=rental.mall_group_id)
    name = tier.name if tier.code == rental.tier_code else ""
    return rules.fee(
        tariff_of(rental.item_type), lent_at=rental.lent_at, at=at, tier_code=rental.tier_code, tier_name=name
    )


# ------------------------------------------------------------------------------------------------- bookings


def offering_list(*, mall_group_id: int, active_only: bool = False) -> QuerySet[ServiceOffering]:
    qs = ServiceOffering.objects.filter(mall_group_id=mall_group_id).select_related("mall", "min_tier")
    return qs.filter(is_active=True) if active_only else qs


def offering_get(*, mall_group_id: int, offering_id: int) -> ServiceOffering | None:
    return offering_list(mall_group_id=mall_group_id).filter(pk=offering_id).first()


def offering_hours(*, offering_id: int) -> list[WeeklyHours]:
    return [
        WeeklyHours(h.weekday, h.start, h.end, h.capacity)
        for h in OfferingHours.objects.filter(offering_id=offering_id)
    ]


def slot_list(*, offering_id: int, since: dt.datetime, until: dt.datetime | None = None) -> QuerySet[TimeSlot]:
    qs = TimeSlot.objects.filter(offering_id=offering_id, starts_at__gte=since)
    if until is not None:
        qs = qs.filter(starts_at__lt=until)
    return qs.order_by("starts_at")


def slot_get(*, slot_id: int, mall_group_id: int) -> TimeSlot | None:
    return TimeSlot.objects.filter(pk=slot_id, offering__mall_group_id=mall_group_id).select_related("offering").first()


def booking_list(
    *,
    mall_group_id: int,
    state: str = "",
    offering_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Booking]:
    qs = Booking.objects.filter(mall_group_id=mall_group_id).select_related("member", "slot", "offering")
    if state:
        qs = qs.filter(state=state)
    if offering_id is not None:
        qs = qs.filter(offering_id=offering_id)
    if since is not None:
        qs = qs.filter(slot__starts_at__gte=since)
    if until is not None:
        qs = qs.filter(slot__starts_at__lt=until)
    return qs.order_by("slot__starts_at", "pk")


def booking_get(*, booking_id: int, mall_group_id: int | None = None, member_id: int | None = None) -> Booking | None:
    qs = Booking.objects.filter(pk=booking_id).select_related("member", "slot", "offering", "offering__mall")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    return qs.first()


def booking_by_key(*, member_id: int, key: str) -> Booking | None:
    return Booking.objects.filter(member_id=member_id, idempotency_key=key[:80]).first()


def member_bookings(*, member_id: int, limit: int = 20) -> list[Booking]:
    return list(
        Booking.objects.filter(member_id=member_id)
        .select_related("slot", "offering")
        .order_by("-slot__starts_at", "-pk")[:limit]
    )


def live_booking(*, member_id: int, slot_id: int) -> Booking | None:
    return Booking.objects.filter(member_id=member_id, slot_id=slot_id, state__in=list(LIVE_BOOKING)).first()


# ------------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    lends: int
    fees_fen: int


@dataclass(frozen=True)
class Report:
    days: tuple[DayRow, ...]
    open_now: int
    overdue_now: int
    lost: int
    fees_fen: int
    bookings_by_state: dict[str, int]


def report(*, mall_group_id: int, since: dt.datetime, at: dt.datetime, tz_name: str | None) -> Report:
    """Lends and fees per mall-local day since `since`, open and overdue rentals now, lost items, bookings by
    state: five aggregate queries."""
    rentals = Rental.objects.filter(mall_group_id=mall_group_id)
    lends = dict(
        rentals.filter(lent_at__gte=since)
        .annotate(day=TruncDate("lent_at", tzinfo=timeutil.zone(tz_name)))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    fees = dict(
        rentals.filter(closed_at__gte=since)
        .annotate(day=TruncDate("closed_at", tzinfo=timeutil.zone(tz_name)))
        .values("day")
        .annotate(f=Sum("fee_charged_fen"))
        .values_list("day", "f")
    )
    days = tuple(DayRow(day, int(lends.get(day, 0)), int(fees.get(day) or 0)) for day in sorted(set(lends) | set(fees)))
    counts = rentals.aggregate(
        open_now=Count("pk", filter=Q(state=RentalState.LENT)),
        overdue_now=Count("pk", filter=Q(state=RentalState.LENT, due_at__lt=at)),
        lost=Count("pk", filter=Q(state=RentalState.LOST, closed_at__gte=since)),
        fees=Sum("fee_charged_fen", filter=Q(closed_at__gte=since)),
    )
    by_state = dict(
        Booking.objects.filter(mall_group_id=mall_group_id, slot__starts_at__gte=since)
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return Report(
        days=days,
        open_now=counts["open_now"],
        overdue_now=counts["overdue_now"],
        lost=counts["lost"],
        fees_fen=int(counts["fees"] or 0),
        bookings_by_state={s: int(by_state.get(s, 0)) for s in BookingState.values},
    )
