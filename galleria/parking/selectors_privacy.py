"""Parking's part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS: privacy sits below parking in the layering and cannot import it,
so it calls `member_export_sections` by its dotted path. The contract of every such function: keyword-only
`member_id` and `mall_group_id`, returns {section name: [JSON-ready rows]} (times ISO 8601, money in fen as ints),
reads only this member's rows (a bounded number of queries, whatever the member's history), and leaves out what
is not the member's to see: internal keys and idempotency keys, raw car-park system events, the stored licence
photo, staff names, a plate that a correction replaced (it may be someone else's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch

from .models import ParkingGrant, ParkingPayment, ParkingProfile, ParkingSession, PlateClaim


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's frictionless-exit choice, stays (with their payments and the merchant grants they used) and
    plate claims. Three queries for the stays (stays, payments, grants) plus one each for the others."""
    profile = [
        {"auto_pay": p.auto_pay, "auto_pay_since": _iso(p.auto_pay_since), "updated_at": _iso(p.updated_at)}
        for p in ParkingProfile.objects.filter(member_id=member_id)
    ]
    stays_qs = (
        ParkingSession.objects.filter(member_id=member_id, car_park__mall__group_id=mall_group_id)
        .select_related("car_park", "car_park__mall", "zone")
        .prefetch_related(
            Prefetch("payments", queryset=ParkingPayment.objects.order_by("paid_at", "pk")),
            Prefetch("grants", queryset=ParkingGrant.objects.select_related("merchant").order_by("granted_at", "pk")),
        )
        .order_by("entry_at", "pk")
    )
    stays = [
        {
            "id": s.pk,
            "mall": s.car_park.mall.name,
            "car_park": s.car_park.name,
            "plate": s.plate,
            "state": s.state,
            "exception": s.exception,
            "entry_at": _iso(s.entry_at),
            "exit_at": _iso(s.exit_at),
            "zone": s.zone.name if s.zone else None,
            "fee_fen": s.fee_fen,
            "paid_fen": s.paid_fen,
            "paid_until": _iso(s.paid_until),
            "leave_by": _iso(s.leave_by),
            "fee_explanation": s.explanation or None,
            "payments": [
                {
                    "paid_at": _iso(p.paid_at),
                    "source": p.source,
                    "amount_fen": p.amount_fen,
                    "points_used": p.points_used,
                    "wallet_fen": p.wallet_fen,
                    "other_fen": p.other_fen,
                    "covers_until": _iso(p.covers_until),
                    "benefits": p.benefits,
                }
                for p in s.payments.all()
            ],
            "merchant_grants": [
                {
                    "merchant": g.merchant.name,
                    "hours": g.hours,
                    "granted_at": _iso(g.granted_at),
                    "minutes_used": g.minutes_used,
                    "fen_used": g.fen_used,
                }
                for g in s.grants.all()
            ],
        }
        for s in stays_qs
    ]
    claims = [
        {
            "plate": c.plate,
            "status": c.status,
            "sent_at": _iso(c.created_at),
            "photo_deleted_at": _iso(c.image_deleted_at),
            "decided_at": _iso(c.decided_at),
            "reason": c.reason,
        }
        for c in PlateClaim.objects.filter(member_id=member_id, mall_group_id=mall_group_id).order_by(
            "created_at", "pk"
        )
    ]
    return {"parking_profile": profile, "parking_stays": stays, "parking_plate_claims": claims}
