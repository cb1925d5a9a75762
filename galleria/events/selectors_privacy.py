"""Events' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS: privacy sits below events in the layering and cannot import it, so
it calls `member_export_sections` by its dotted path. The contract of every such function: keyword-only
`member_id` and `mall_group_id`, returns {section name: [JSON-ready rows]} (times ISO 8601, money in fen as ints),
reads only this member's rows (a bounded number of queries, whatever the member's history), and leaves out what
is not the member's to see. Left out here: the ticket code (a one-time credential: whoever holds it checks in;
the export says whether and when the member checked in), the waiting-list sequence number, idempotency keys and
staff names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import Registration


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's event registrations (tickets, waiting-list places, offers, check-ins, cancellations): one
    query."""
    registrations = [
        {
            "event": r.event.title,
            "mall": r.event.mall.name,
            "place": r.event.place,
            "starts_at": _iso(r.event.starts_at),
            "ends_at": _iso(r.event.ends_at),
            "seats": r.seats,
            "state": r.state,
            "registered_at": _iso(r.created_at),
            "offer_expires_at": _iso(r.offer_expires_at),
            "confirmed_at": _iso(r.confirmed_at),
            "checked_in_at": _iso(r.checked_in_at),
            "cancelled_at": _iso(r.cancelled_at),
            "points": r.points,
            "points_returned": r.points_returned,
            "paid_fen": r.paid_fen,
            "answers": [{"question": a.get("label"), "answer": a.get("value")} for a in r.answers or []],
        }
        for r in Registration.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("event", "event__mall")
        .order_by("created_at", "pk")
    ]
    return {"event_registrations": registrations}
