"""The car-park integration API (docs/parking.md, "Integration API (car-park vendors)"): signed like the POS API with
the car park's own keys; events idempotent by event id; every error problem+json with a stable code."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import member_identifier_add
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.parking import services
from galleria.parking.models import CarPark, ParkingEvent, ParkingPayment, ParkingSession, Zone
from galleria.parking.services_keys import car_park_key_create, car_park_key_revoke
from galleria.testing_points import give_points
from galleria.testing_pos import PosSigner, PosTestClient

from .helpers import ACTOR, car_park, member, spend

pytestmark = pytest.mark.django_db
BASE = "/api/v1/parking"


def yesterday(h: int, mi: int = 0) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=timeutil.zone("Asia/Shanghai"))


def signed(park: CarPark) -> PosTestClient:
    key, secret = car_park_key_create(actor=Actor.system("test"), car_park_id=park.pk, label="barrier")
    return PosTestClient(Client(), PosSigner(key.key_id, secret))


def problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code, body
    return body


def entry(api: PosTestClient, plate: str, at: dt.datetime, event_id: str = "", **extra: Any) -> Any:
    body = {"event_id": event_id or f"in-{plate}-{at:%H%M}", "plate": plate, "occurred_at": at.isoformat(), **extra}
    return api.post(f"{BASE}/entries", body)


@pytest.fixture
def park(world):
    return car_park(world)


@pytest.fixture
def api(park):
    return signed(park)


# ---------------------------------------------------------------- signatures


def test_a_signed_request_is_accepted_and_touches_the_key(park, api):
    resp = entry(api, "粤B12345", yesterday(9), gate="E1", zone="B1")
    assert resp.status_code == 201
    assert resp.json() == {
        "event_id": "in-粤B12345-0900",
        "outcome": "applied",
        "duplicate": False,
        "session_id": ParkingSession.objects.get().pk,
        "detail": "",
    }
    stay = ParkingSession.objects.get()
    assert (stay.plate, stay.entry_gate, stay.zone.code, stay.car_park_id) == ("粤B12345", "E1", "B1", park.pk)
    assert park.keys.get().last_used_at is not None


def test_a_bad_an_old_and_a_replayed_signature_are_refused(park, api):
    body = json.dumps({"event_id": "e1", "plate": "粤B12345", "occurred_at": yesterday(9).isoformat()}).encode()
    path = f"{BASE}/entries"
    headers = api.signer.headers("POST", path, body)
    headers["X-Galleria-Signature"] = "0" * 64
    client = Client()
    problem(client.generic("POST", path, body, content_type="application/json", headers=headers), 401,
            "auth.signature_invalid")  # fmt: skip
    old = api.signer.headers("POST", path, body, timestamp=int(time.time()) - 301)
    answer = problem(client.generic("POST", path, body, content_type="application/json", headers=old), 401,
                     "auth.timestamp_skew")  # fmt: skip
    assert abs(answer["server_time"] - time.time()) < 5
    good = api.signer.headers("POST", path, body)
    assert client.generic("POST", path, body, content_type="application/json", headers=good).status_code == 201
    problem(client.generic("POST", path, body, content_type="application/json", headers=good), 401, "auth.nonce_reused")
    tampered = body.replace(b"12345", b"12346")  # the same headers over another body
    again = api.signer.headers("POST", path, body)
    problem(client.generic("POST", path, tampered, content_type="application/json", headers=again), 401,
            "auth.signature_invalid")  # fmt: skip
    problem(client.post(path, body, content_type="application/json"), 401, "auth.required")
    missing = {"X-Galleria-Key": api.signer.key_id}
    problem(client.generic("POST", path, body, content_type="application/json", headers=missing), 401,
            "auth.signature_missing")  # fmt: skip
    assert ParkingEvent.objects.count() == 1


def test_a_revoked_key_an_unknown_key_a_pos_key_and_a_switched_off_car_park_are_refused(world, park, api):
    good = entry(api, "粤B12345", yesterday(9))
    assert good.status_code == 201
    stranger = PosTestClient(Client(), PosSigner("ck_" + "0" * 24, "x" * 43))
    problem(entry(stranger, "粤B12345", yesterday(9)), 401, "auth.key_unknown")
    terminal = PosTerminal.objects.create(store=world.store, name="T1")
    pos_key, pos_secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    problem(entry(PosTestClient(Client(), PosSigner(pos_key.key_id, pos_secret)), "粤B1", yesterday(9)), 401,
            "auth.key_unknown")  # fmt: skip
    problem(api.post("/api/v1/pos/quote", {"lines": []}), 401, "auth.key_unknown")  # and the other way round
    park.is_active = False
    park.save()
    problem(entry(api, "粤B22222", yesterday(9)), 401, "auth.key_unknown")
    park.is_active = True
    park.save()
    car_park_key_revoke(actor=ACTOR, key_pk=park.keys.get().pk)
    problem(entry(api, "粤B33333", yesterday(9)), 401, "auth.key_unknown")
    assert ParkingSession.objects.count() == 1


def test_a_key_acts_on_its_own_car_park_only(world, park, api):
    other = CarPark.objects.create(mall=world.mall2, code="p2", name="星河天地停车场", capacity=100)
    other_api = signed(other)
    assert entry(other_api, "粤B12345", yesterday(9)).status_code == 201
    assert ParkingSession.objects.get().car_park_id == other.pk
    decision = api.post(f"{BASE}/exit-requests", {"plate": "粤B12345", "request_id": "r1"}).json()
    assert (decision["decision"], decision["reason"]) == ("pay", "no_entry")  # not parked here
    body = {"car_park": park.code, "event_id": "x", "plate": "粤B12345", "occurred_at": yesterday(10).isoformat()}
    problem(other_api.post(f"{BASE}/exits", body), 403, "parking.wrong_car_park")
    assert other_api.get(f"{BASE}/status?car_park={other.code}").json()["parked"] == 1
    problem(other_api.get(f"{BASE}/status?car_park={park.code}"), 403, "parking.wrong_car_park")


# ---------------------------------------------------------------- events


def test_entries_replays_and_bad_input(park, api):
    first = entry(api, "粤B12345", yesterday(9), event_id="cam-1")
    again = entry(api, "粤B12345", yesterday(9), event_id="cam-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert ParkingSession.objects.count() == 1
    reused = {"event_id": "cam-1", "plate": "粤B12345", "occurred_at": yesterday(10).isoformat()}
    problem(api.post(f"{BASE}/exits", reused), 409, "parking.event_id_reused")
    problem(entry(api, "粤X12_45", yesterday(9)), 422, "plate.character")
    naive = {"event_id": "e", "plate": "粤B12345", "occurred_at": "2026-01-01T10:00:00"}
    bad = problem(api.post(f"{BASE}/entries", naive), 422, "request.invalid")
    assert "occurred_at" in bad["errors"]
    problem(api.post(f"{BASE}/entries", {"plate": "粤B12345", "occurred_at": yesterday(9).isoformat()}), 422,
            "request.invalid")  # fmt: skip
    problem(entry(api, "粤B54321", timezone.now() + dt.timedelta(minutes=10)), 422, "parking.time_in_future")
    problem(entry(api, "粤B54321", timezone.now() - dt.timedelta(days=31)), 422, "parking.time_too_old")
    problem(entry(api, "粤B54321", yesterday(9), event_id="x\x00y"), 422, "request.invalid")
    resp = api.post(f"{BASE}/entries", None, raw=b"plate=1")
    assert resp.status_code in (400, 415) and resp["Content-Type"] == "application/problem+json"
    assert ParkingSession.objects.count() == 1


def test_exits_in_order_and_out_of_order(park, api):
    entry(api, "粤B12345", yesterday(9))
    out = api.post(
        f"{BASE}/exits", {"event_id": "out-1", "plate": "粤B12345", "occurred_at": yesterday(10).isoformat()}
    )
    assert out.status_code == 201 and out.json()["outcome"] == "exception"  # left without paying ¥5
    stay = ParkingSession.objects.get()
    assert (stay.state, stay.exception, stay.fee_fen) == ("exited", "unpaid_exit", 500)
    # an exit before its entry: recorded as "no entry", completed by the entry arriving late
    early = api.post(
        f"{BASE}/exits", {"event_id": "out-2", "plate": "沪C12345", "occurred_at": yesterday(18).isoformat()}
    )
    assert early.json()["outcome"] == "exception"
    late = entry(api, "沪C12345", yesterday(17, 45), event_id="in-2")
    assert late.status_code == 201 and late.json()["outcome"] == "repaired"
    assert late.json()["session_id"] == early.json()["session_id"]
    completed = ParkingSession.objects.get(plate="沪C12345")
    assert (completed.exception, completed.fee_fen) == ("", 0)  # 15 minutes: free


def test_payments_taken_by_the_car_park_system(park, api):
    entry(api, "京A88888", yesterday(9))
    body = {"event_id": "booth-7", "plate": "京A88888", "amount_fen": 1500, "occurred_at": yesterday(12).isoformat(),
            "reference": "cash-0007"}  # fmt: skip
    first, again = api.post(f"{BASE}/payments", body), api.post(f"{BASE}/payments", body)
    assert (first.status_code, again.status_code, again.json()["duplicate"]) == (201, 200, True)
    payment = ParkingPayment.objects.get()
    assert (payment.source, payment.amount_fen, payment.reference, payment.sale_id) == (
        "third_party", 1500, "cash-0007", None
    )  # fmt: skip
    opened = api.post(f"{BASE}/exit-requests", {"plate": "京A88888", "request_id": "r1",
                                                "occurred_at": yesterday(12, 10).isoformat()}).json()  # fmt: skip
    assert (opened["decision"], opened["reason"], opened["due_fen"]) == ("open", "paid", 0)
    assert opened["leave_by"] is not None
    problem(api.post(f"{BASE}/payments", {**body, "event_id": "b2", "amount_fen": 0}), 422, "request.invalid")
    nobody = api.post(f"{BASE}/payments", {**body, "event_id": "b3", "plate": "粤B99999"})
    assert nobody.status_code == 201 and nobody.json()["outcome"] == "exception"


def test_a_booth_payment_reported_after_the_exit_settles_the_exit_it_paid_for(park, api):
    entry(api, "京A88888", yesterday(9))
    api.post(f"{BASE}/exits", {"event_id": "out-1", "plate": "京A88888", "occurred_at": yesterday(12, 5).isoformat()})
    late = {"event_id": "booth-1", "plate": "京A88888", "amount_fen": 1500, "occurred_at": yesterday(12).isoformat()}
    assert api.post(f"{BASE}/payments", late).status_code == 201
    stay = ParkingSession.objects.get()
    # paid ¥15 for 09:00–12:00 at 12:00, left at 12:05 within the 15 minutes: as if the events had come in order
    assert (stay.exception, stay.fee_fen, stay.paid_fen) == ("", 1500, 1500)


def test_a_late_booth_payment_short_of_the_fee_leaves_the_exit_unpaid(park, api):
    entry(api, "京A88888", yesterday(9))
    api.post(f"{BASE}/exits", {"event_id": "out-1", "plate": "京A88888", "occurred_at": yesterday(12, 5).isoformat()})
    late = {"event_id": "booth-1", "plate": "京A88888", "amount_fen": 1000, "occurred_at": yesterday(12).isoformat()}
    assert api.post(f"{BASE}/payments", late).status_code == 201
    stay = ParkingSession.objects.get()
    # ¥10 of the ¥15 due at 12:00 is a part payment (no time to leave starts): the 4 h until 12:05 cost ¥20
    assert (stay.exception, stay.fee_fen, stay.paid_fen) == ("unpaid_exit", 2000, 1000)


def test_plate_corrections(park, api):
    entry(api, "粤B12845", yesterday(10))  # the camera misread 粤B12345
    unknown = api.post(f"{BASE}/exit-requests", {"plate": "粤B12345", "request_id": "r1",
                                                 "occurred_at": yesterday(10, 20).isoformat()}).json()  # fmt: skip
    assert (unknown["decision"], unknown["reason"], unknown["due_fen"]) == ("pay", "no_entry", park.lost_ticket_fen)
    body = {
        "event_id": "fix-1",
        "plate_was": "粤B12845",
        "plate": "粤B12345",
        "occurred_at": yesterday(10, 21).isoformat(),
    }
    fixed = api.post(f"{BASE}/plate-corrections", body)
    assert fixed.status_code == 201 and fixed.json()["outcome"] == "applied"
    assert api.post(f"{BASE}/plate-corrections", body).json()["duplicate"] is True
    stay = ParkingSession.objects.get()
    assert (stay.plate, stay.plate_was, stay.exception) == ("粤B12345", "粤B12845", "plate_corrected")
    problem(api.post(f"{BASE}/plate-corrections", {**body, "event_id": "fix-2", "plate_was": "粤b12345"}), 422,
            "parking.plate_unchanged")  # fmt: skip
    problem(api.post(f"{BASE}/plate-corrections", {**body, "event_id": "fix-3", "plate_was": "粤Q"}), 422,
            "plate.length")  # fmt: skip
    none = api.post(f"{BASE}/plate-corrections", {**body, "event_id": "fix-4", "plate_was": "粤B77777"})
    assert none.json()["outcome"] == "exception"  # no stay in progress under that plate


def test_occupancy_reports_and_status(park, api):
    Zone.objects.create(car_park=park, code="B2", name="B2 区", floor="B2", capacity=400)
    at = timezone.now() - dt.timedelta(minutes=1)
    report = {"occurred_at": at.isoformat(), "zones": [{"zone": "B1", "free": 120}, {"zone": "B2", "free": 7}]}
    assert api.post(f"{BASE}/occupancy", report).json() == {"updated": ["B1", "B2"], "stale": []}
    older = {"occurred_at": (at - dt.timedelta(minutes=5)).isoformat(), "zones": [{"zone": "B1", "free": 300}]}
    assert api.post(f"{BASE}/occupancy", older).json() == {"updated": [], "stale": ["B1"]}  # late: ignored
    problem(api.post(f"{BASE}/occupancy", {"zones": [{"zone": "B9", "free": 1}]}), 422, "parking.zone_unknown")
    problem(api.post(f"{BASE}/occupancy", {"zones": [{"zone": "B1", "free": 401}]}), 422, "parking.free_invalid")
    problem(api.post(f"{BASE}/occupancy", {"zones": [{"zone": "B1", "free": -1}]}), 422, "request.invalid")
    problem(api.post(f"{BASE}/occupancy", {"zones": []}), 422, "request.invalid")
    twice = {"zones": [{"zone": "B1", "free": 1}, {"zone": "B1", "free": 2}]}
    problem(api.post(f"{BASE}/occupancy", twice), 422, "parking.zone_repeated")
    entry(api, "粤B12345", yesterday(9))
    status = api.get(f"{BASE}/status").json()
    assert {k: status[k] for k in ("code", "capacity", "parked", "free")} == {
        "code": "p1", "capacity": 800, "parked": 1, "free": 799
    }  # fmt: skip
    assert [(z["code"], z["free_reported"]) for z in status["zones"]] == [("B1", 120), ("B2", 7)]


# ---------------------------------------------------------------- the issue's example, through the API


def test_the_issues_example_through_the_api(world, park, api):
    m = member(world, tier="gold")
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value="粤B12345")
    give_points(world, m, 2_000)
    spend(world, m, 25_000, at=yesterday(11))
    assert entry(api, "粤B·12345", yesterday(10), gate="E1").status_code == 201
    ask = {"plate": "粤B12345", "request_id": "X1-1", "gate": "X1", "occurred_at": yesterday(16).isoformat()}
    decision = api.post(f"{BASE}/exit-requests", ask).json()
    assert (decision["decision"], decision["reason"], decision["due_fen"]) == ("pay", "unpaid", 500)
    fee = decision["fee"]
    assert (fee["gross_fen"], fee["benefits_fen"], fee["net_fen"], fee["paid_fen"]) == (3000, 2500, 500, 0)
    assert [(b["kind"], b["minutes_used"], b["fen"], b["funder"]) for b in fee["benefits"]] == [
        ("tier_hours", 180, 1500, "mall"),
        ("spend_hours", 120, 1000, "mall"),
    ]
    services.parking_pay(
        session_id=decision["session_id"], member_id=m.pk, points=500, key="app-1", actor=ACTOR, at=yesterday(16)
    )
    opened = api.post(f"{BASE}/exit-requests", {**ask, "request_id": "X1-2",
                                                "occurred_at": yesterday(16, 5).isoformat()}).json()  # fmt: skip
    assert (opened["decision"], opened["reason"], opened["due_fen"]) == ("open", "paid", 0)
    assert opened["fee"]["paid_fen"] == 500
    left = api.post(f"{BASE}/exits", {"event_id": "out-1", "plate": "粤B12345", "gate": "X1",
                                      "occurred_at": yesterday(16, 6).isoformat()})  # fmt: skip
    assert left.status_code == 201 and left.json()["outcome"] == "applied"
    stay = ParkingSession.objects.get()
    assert (stay.state, stay.exception, stay.fee_fen, stay.paid_fen) == ("exited", "", 500, 500)


def test_an_exit_request_stays_within_its_query_budget(park, api, django_assert_max_num_queries):
    entry(api, "粤B12345", yesterday(9))
    ask = {"plate": "粤B12345", "request_id": "r", "occurred_at": yesterday(12).isoformat()}
    with django_assert_max_num_queries(14):
        assert api.post(f"{BASE}/exit-requests", ask).json()["due_fen"] == 1500


# ---------------------------------------------------------------- the integration guide's recipe


@pytest.mark.django_db(transaction=True)
def test_the_guides_curl_recipe_runs_against_a_live_server(world, live_server):
    park = car_park(world)
    key, secret = car_park_key_create(actor=Actor.system("test"), car_park_id=park.pk)
    doc = (Path(__file__).resolve().parents[3] / "docs" / "parking.md").read_text()
    section = doc.split("## Integration API (car-park vendors)", 1)[1]
    script = re.search(r"### curl \+ openssl\n\n```bash\n(.*?)```", section, re.S).group(1)
    script = script.replace(
        "BASE=http://127.0.0.1:8000; KEY_ID=ck_…; SECRET=…",
        f"BASE={live_server.url}; KEY_ID={key.key_id}; SECRET='{secret}'",
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [a.get("outcome") or a.get("decision") for a in answers] == ["applied", "pay", "applied", "open", "applied"]
    assert (answers[1]["reason"], answers[1]["due_fen"], answers[3]["reason"]) == ("unpaid", 1000, "paid")
    stay = ParkingSession.objects.get()
    assert (stay.state, stay.exception, stay.paid_fen, stay.fee_fen) == ("exited", "", 1000, 1000)
