"""Access matrix entries of the merchant portal's parking grants and the console's grant allowances
(merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

from typing import Any

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, console, page, portal, public, r
from .evidence_world import PLATE, EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)  # @require_GET answers POST with 405 before any sign-in check
READERS = {"admin", "service", "finance", "viewer", ROOT}  # parking.view
MANAGERS = {"admin", ROOT}  # parking.manage
STAFF = {"owner", "clerk"}  # portal.parking (managers too; not in the evidence world)


def _grant(ew: EvidenceWorld) -> int:
    """An unused grant of 喜茶 (made on first use; no audit trace)."""
    import datetime as dt

    from django.utils import timezone

    from galleria.parking.models import ParkingGrant

    now = timezone.now()
    grant, _created = ParkingGrant.objects.get_or_create(
        key="evidence-grant",
        defaults={
            "mall": ew.world.mall,
            "merchant": ew.world.merchant,
            "plate": PLATE,
            "hours": 2,
            "granted_at": now,
            "valid_until": now + dt.timedelta(hours=1),
            "granted_by": "evidence",
        },
    )
    return grant.pk


def _grant_form(ew: EvidenceWorld) -> dict[str, Any]:
    return {"plate": PLATE, "hours": "1", "key": "evidence-form-0001"}


MATRIX_PARKING_PORTAL: dict[str, Entry] = {
    "merchant:parking": page(portal(STAFF), data=_grant_form, note="喜茶 has no allowance: refused inline (422)")(
        r("merchant:parking")
    ),
    "merchant:parking_export": page(portal(STAFF), post=GET_ONLY)(r("merchant:parking_export")),
    "merchant:parking_revoke": action(portal(STAFF, scoped=True))(r("merchant:parking_revoke", _grant)),
    "console:parking_grants": page(console(READERS), post=GET_ONLY)(r("console:parking_grants")),
    "console:parking_grant_allowance": page(
        console(MANAGERS, scoped=True), data=lambda ew: {"monthly_hours": "-1"}, note="bad hours: 422"
    )(r("console:parking_grant_allowance", lambda ew: ew.world.merchant.pk)),
}
