"""Access matrix entries of the console's car parks, tariffs, stays, exceptions and reports
(merged into tests/access_matrix_parking.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, console, page, public, r
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "service", "finance", "viewer", ROOT}  # parking.view
MANAGERS = {"admin", ROOT}  # parking.manage
CODE = "evidence-console-p1"


def _park(ew: EvidenceWorld) -> Any:
    """A car park of 星河广场 with a zone, a gate, the tariff in force, a scheduled version and a car parked (made on
    first use)."""
    from django.utils import timezone

    from galleria.parking.models import CarPark, Gate, ParkingSession, TariffVersion, Zone

    park, created = CarPark.objects.get_or_create(
        mall=ew.world.mall, code=CODE, defaults={"name": "证据停车场", "capacity": 100, "store": ew.world.store}
    )
    if created:
        now = timezone.now()
        zone = Zone.objects.create(car_park=park, code="Z1", name="Z1", capacity=50)
        Gate.objects.create(car_park=park, code="G1", name="G1", direction="entry", zone=zone)
        TariffVersion.objects.create(
            car_park=park, code="EV-1", effective_from=now - dt.timedelta(days=30), day_price_fen=500
        )
        TariffVersion.objects.create(
            car_park=park, code="EV-2", effective_from=now + dt.timedelta(days=30), day_price_fen=600
        )
        ParkingSession.objects.create(car_park=park, plate="粤B99999", entry_at=now - dt.timedelta(hours=30))
    return park


def park_id(ew: EvidenceWorld) -> int:
    return int(_park(ew).pk)


def zone_id(ew: EvidenceWorld) -> int:
    return int(_park(ew).zones.get(code="Z1").pk)


def gate_id(ew: EvidenceWorld) -> int:
    return int(_park(ew).gates.get(code="G1").pk)


def tariff_id(ew: EvidenceWorld, code: str = "EV-1") -> int:
    return int(_park(ew).tariffs.get(code=code).pk)


def scheduled_id(ew: EvidenceWorld) -> int:
    return tariff_id(ew, "EV-2")


def stay_id(ew: EvidenceWorld) -> int:
    return int(_park(ew).sessions.get(plate="粤B99999").pk)


CLOSE = {"reason": "the car was towed on Monday"}
PLATE_DESK = {"admin", "service", ROOT}  # parking.plates
GET_ONLY = public(NOT_ALLOWED)  # @require_GET answers POST with 405 before any sign-in check
CLAIMED = "粤B77770"


def claim_id(ew: EvidenceWorld) -> int:
    """A vehicle licence photo of the world's member, waiting for review (made on first use, photo stored)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from galleria.parking.models import PlateClaim
    from galleria.parking.specimens import licence_photo

    claim = PlateClaim.objects.filter(member=ew.member, plate=CLAIMED).first()
    if claim is None:
        name = default_storage.save("plate-claims/evidence/licence.jpg", ContentFile(licence_photo(CLAIMED)))
        claim = PlateClaim.objects.create(
            mall_group=ew.world.group, member=ew.member, plate=CLAIMED, created_at=timezone.now(), image_name=name
        )
    return int(claim.pk)


MATRIX_PARKING_CONSOLE: dict[str, Entry] = {
    "console:parking_car_parks": page(console(VIEWERS))(r("console:parking_car_parks")),
    "console:parking_car_park_new": page(console(MANAGERS), note="POST without data: 422")(
        r("console:parking_car_park_new")
    ),
    "console:parking_car_park": page(console(VIEWERS, scoped=True))(r("console:parking_car_park", park_id)),
    "console:parking_car_park_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_car_park_edit", park_id)
    ),
    "console:parking_zone_new": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_zone_new", park_id)
    ),
    "console:parking_zone_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_zone_edit", park_id, zone_id)
    ),
    "console:parking_zone_remove": action(console(MANAGERS, scoped=True))(
        r("console:parking_zone_remove", park_id, zone_id)
    ),
    "console:parking_gate_new": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_gate_new", park_id)
    ),
    "console:parking_gate_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_gate_edit", park_id, gate_id)
    ),
    "console:parking_gate_remove": action(console(MANAGERS, scoped=True))(
        r("console:parking_gate_remove", park_id, gate_id)
    ),
    "console:parking_tariffs": page(console(VIEWERS, scoped=True))(r("console:parking_tariffs", park_id)),
    "console:parking_tariff_new": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:parking_tariff_new", park_id)
    ),
    "console:parking_tariff": page(console(VIEWERS, scoped=True))(r("console:parking_tariff", park_id, tariff_id)),
    "console:parking_tariff_withdraw": action(console(MANAGERS, scoped=True), note="a scheduled version")(
        r("console:parking_tariff_withdraw", park_id, scheduled_id)
    ),
    "console:parking_live": page(console(VIEWERS))(r("console:parking_live")),
    "console:parking_live_feed": page(console(VIEWERS))(r("console:parking_live_feed")),
    "console:parking_stays": page(console(VIEWERS))(r("console:parking_stays")),
    "console:parking_stay": page(console(VIEWERS, scoped=True), note="every view is audited (full plate)")(
        r("console:parking_stay", stay_id)
    ),
    "console:parking_stay_close": action(console(MANAGERS, scoped=True), data=lambda ew: CLOSE)(
        r("console:parking_stay_close", stay_id)
    ),
    "console:parking_stay_resolve": action(
        console(MANAGERS, scoped=True), note="the stay is not an unpaid exit: 422 with the error"
    )(r("console:parking_stay_resolve", stay_id)),
    "console:parking_exceptions": page(console(VIEWERS))(r("console:parking_exceptions")),
    "console:parking_reports": page(console(VIEWERS))(r("console:parking_reports")),
    "console:parking_plate_claims": page(console(PLATE_DESK))(r("console:parking_plate_claims")),
    "console:parking_plate_claim": page(
        console(PLATE_DESK, scoped=True), data=lambda ew: {"action": "reject"}, note="no reason: 422 inline"
    )(r("console:parking_plate_claim", claim_id)),
    "console:parking_plate_claim_photo": page(console(PLATE_DESK, scoped=True), post=GET_ONLY)(
        r("console:parking_plate_claim_photo", claim_id)
    ),
    "console:member_plate_verify": action(console(PLATE_DESK, scoped=True), data=lambda ew: {"plate": ew.plate.value})(
        r("console:member_plate_verify", lambda ew: ew.member.pk)
    ),
}
