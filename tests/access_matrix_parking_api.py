"""Access matrix entries of the car-park integration API (signed requests from the car-park system) and of the
console's car-park API keys pages (merged into tests/access_matrix_parking.py).

The API takes only a signature made with a car park's own key: no session (staff or member) and no POS key is one, so
every principal of the matrix gets 401 `auth.required` (no key header). What a car park's key may do — its own car park
only, refused when revoked — is tested in galleria/parking/tests/test_api.py."""

from __future__ import annotations

from typing import Any

from .access_matrix import ROOT, Entry, console, op, page, problem, public, r
from .evidence_world import PLATE, EvidenceWorld

MANAGERS = {"admin", ROOT}  # parking.manage
CODE = "evidence-p1"
NOBODY = public(problem(401, "auth.required"))  # no principal of the matrix holds a car park's key


def _car_park(ew: EvidenceWorld) -> int:
    """A car park of the 星河 group's first mall (created on first use; no audit trail, so a denied request's
    fingerprint is not disturbed)."""
    from galleria.parking.models import CarPark

    park, _created = CarPark.objects.get_or_create(
        mall=ew.world.mall, code=CODE, defaults={"name": "星河广场停车场", "capacity": 800}
    )
    return park.pk


def _key(ew: EvidenceWorld) -> int:
    from galleria.parking.models import CarParkKey

    key, _created = CarParkKey.objects.get_or_create(
        key_id="ck_evidence0000000000000000", defaults={"car_park_id": _car_park(ew), "salt": "0" * 32}
    )
    return key.pk


def _event(ew: EvidenceWorld) -> dict[str, Any]:
    return {"event_id": "evidence-1", "plate": PLATE, "occurred_at": "2026-11-23T10:00:00+08:00", "gate": "E1"}


def _api(method: str, path: str, body: Any = None) -> Entry:
    return op(method, NOBODY, body=body)(lambda ew: f"/api/v1/parking/{path}")


MATRIX_PARKING_API: dict[str, Entry] = {
    "api:POST /parking/entries": _api("POST", "entries", _event),
    "api:POST /parking/exit-requests": _api("POST", "exit-requests", lambda ew: {"plate": PLATE, "request_id": "r1"}),
    "api:POST /parking/exits": _api("POST", "exits", _event),
    "api:POST /parking/payments": _api("POST", "payments", lambda ew: {**_event(ew), "amount_fen": 500}),
    "api:POST /parking/plate-corrections": _api(
        "POST", "plate-corrections", lambda ew: {**_event(ew), "plate_was": "粤B12845"}
    ),
    "api:POST /parking/occupancy": _api("POST", "occupancy", lambda ew: {"zones": [{"zone": "B1", "free": 10}]}),
    "api:GET /parking/status": _api("GET", "status"),
    # the console's car-park API keys: parking.manage (group admins, root); another group's car park is a 404
    "console:parking_keys": page(console(MANAGERS))(r("console:parking_keys")),
    "console:parking_car_park_keys": page(
        console(MANAGERS, scoped=True),
        data=lambda ew: {f"t{_car_park(ew)}-label": "x" * 61},
        note="a label over 60 characters: 422, no key issued",
    )(r("console:parking_car_park_keys", _car_park)),
    "console:parking_key_revoke": page(
        console(MANAGERS, scoped=True), note="POST without the confirmation: 422, not revoked"
    )(r("console:parking_key_revoke", _car_park, _key)),
}
