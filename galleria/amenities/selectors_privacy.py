"""Member services' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS (privacy sits below this app and cannot import it); the contract
is events' (galleria/events/selectors_privacy.py): keyword-only `member_id` and `mall_group_id`, {section: [rows]},
a bounded number of queries. Left out: idempotency keys, ledger hold keys and staff names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import Booking, Rental


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's rentals (item, desks, times, deposit, fees) and service bookings: two queries."""
    rentals = [
        {
            "item": r.item_type.name,
            "desk": r.desk.name,
            "returned_at_desk": r.return_desk.name if r.return_desk else None,
            "state": r.state,
            "lent_at": _iso(r.lent_at),
            "free_until": _iso(r.due_at),
            "closed_at": _iso(r.closed_at),
            "deposit_kind": r.deposit_kind,
            "deposit_amount": r.deposit_amount,
            "fee_due_fen": r.fee_due_fen,
            "fee_charged_fen": r.fee_charged_fen,
            "fee_points": r.fee_points,
        }
        for r in Rental.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("item_type", "desk", "return_desk")
        .order_by("lent_at", "pk")
    ]
    bookings = [
        {
            "service": b.offering.name,
            "kind": b.offering.kind,
            "starts_at": _iso(b.slot.starts_at),
            "ends_at": _iso(b.slot.ends_at),
            "state": b.state,
            "note": b.note,
            "delivery_address": b.address,
            "receipt_ref": b.receipt_ref,
            "reason": b.reason,
            "booked_at": _iso(b.created_at),
        }
        for b in Booking.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("offering", "slot")
        .order_by("created_at", "pk")
    ]
    return {"amenity_rentals": rentals, "service_bookings": bookings}
