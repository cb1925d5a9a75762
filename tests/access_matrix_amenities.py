"""Access matrix entries of member services (merged into tests/access_matrix.MATRIX): the member app's 会员服务
page, a service's slots and booking form, cancelling a booking; the console's desk picker and desk screen, rentals,
report, bookings and deciding one, item types, desks and stock, services and a service.

The evidence booking is already cancelled, so the member's cancel returns it unchanged and staff's decision on it
is refused politely (a redirect with a message); another member cancelling it is sent back to the page, as for an
unknown id. The POSTs without data answer 422 (the forms) or the desk's "scan again" screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # amenities.view
MANAGERS = {"admin", ROOT}  # amenities.manage
DESK = {"admin", "service", ROOT}  # amenities.desk
HOME = "/app/services/"


def desk_id(ew: EvidenceWorld) -> int:
    from galleria.amenities.models import ServiceDesk

    desk, _created = ServiceDesk.objects.get_or_create(
        mall_group=ew.world.group, name="证据服务台", defaults={"mall": ew.world.mall, "place": "L1"}
    )
    return int(desk.pk)


def _offering(ew: EvidenceWorld) -> Any:
    from galleria.amenities.models import ServiceOffering, TimeSlot

    offering, _created = ServiceOffering.objects.get_or_create(
        mall_group=ew.world.group, name="证据礼品包装", defaults={"mall": ew.world.mall, "kind": "gift_wrap"}
    )
    if not TimeSlot.objects.filter(offering=offering).exists():
        from django.utils import timezone

        start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
        TimeSlot.objects.create(offering=offering, starts_at=start, ends_at=start + dt.timedelta(hours=1), capacity=2)
    return offering


def offering_id(ew: EvidenceWorld) -> int:
    return int(_offering(ew).pk)


def booking_id(ew: EvidenceWorld) -> int:
    from galleria.amenities.models import Booking, TimeSlot

    offering = _offering(ew)
    booking, _created = Booking.objects.get_or_create(
        member=ew.member,
        idempotency_key="evidence-booking",
        defaults={
            "mall_group": ew.world.group,
            "offering": offering,
            "slot": TimeSlot.objects.filter(offering=offering).first(),
            "state": "cancelled",
        },
    )
    return int(booking.pk)


MATRIX_AMENITIES: dict[str, Entry] = {
    # member app
    "app:amenities": page(app(), post=GET_ONLY)(r("app:amenities")),
    "app:amenity_offering": page(app(), note="POST without a key: 422, nothing booked")(
        r("app:amenity_offering", offering_id)
    ),
    "app:amenity_booking_cancel": action(
        app(other_member=redirect(HOME)), note="already cancelled: returned unchanged"
    )(r("app:amenity_booking_cancel", booking_id)),
    # console
    "console:amenities": page(console(VIEWERS))(r("console:amenities")),
    "console:amenities_desk": page(console(DESK), note="one desk: straight to its screen")(r("console:amenities_desk")),
    "console:amenities_desk_screen": page(
        console(DESK, scoped=True), note="POST without a member token: 422 scan again"
    )(r("console:amenities_desk_screen", desk_id)),
    "console:amenities_report": page(console(VIEWERS))(r("console:amenities_report")),
    "console:amenities_bookings": page(console(VIEWERS))(r("console:amenities_bookings")),
    "console:amenities_booking_decide": action(
        console(DESK, scoped=True), note="without a decision: redirect with a message, nothing changes"
    )(r("console:amenities_booking_decide", booking_id)),
    "console:amenities_items": page(console(VIEWERS), post=console(MANAGERS), note="POST without data: 422")(
        r("console:amenities_items")
    ),
    "console:amenities_stock": page(console(VIEWERS), post=console(MANAGERS), note="POST without an action: 422")(
        r("console:amenities_stock")
    ),
    "console:amenities_offerings": page(console(VIEWERS), post=console(MANAGERS), note="POST without data: 422")(
        r("console:amenities_offerings")
    ),
    "console:amenities_offering": page(
        console(VIEWERS, scoped=True), post=console(MANAGERS, scoped=True), note="POST without data: 422"
    )(r("console:amenities_offering", offering_id)),
}
