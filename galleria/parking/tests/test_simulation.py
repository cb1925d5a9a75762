"""The car-park simulator: a deterministic, plausible stream (galleria.parking.simulation), and
`galleria parking_simulate` driving a running server through the signed API."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check
from galleria.parking import rules, services
from galleria.parking.models import ParkingEvent, ParkingPayment, ParkingSession, Zone
from galleria.parking.services_keys import car_park_key_create
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.parking.simulation import (
    ENTRY,
    EXIT,
    EXIT_REQUEST,
    OCCUPANCY,
    PLATE_CORRECTION,
    SimEvent,
    drive,
    plan_cars,
    simulate,
)
from galleria.testing_pos import PosSigner, PosTestClient

from .helpers import ACTOR, car_park, fund_wallet, member

SHANGHAI = timeutil.zone("Asia/Shanghai")
START = dt.datetime(2026, 11, 20, 6, 0, tzinfo=SHANGHAI)
END = dt.datetime(2026, 11, 21, 6, 0, tzinfo=SHANGHAI)
MEMBERS = ["粤B12345", "粤BD12345", "京A88888"]


def stream(seed: int = 7, cars: int = 400) -> list[SimEvent]:
    return simulate(start=START, end=END, cars=cars, seed=seed, tz=SHANGHAI, member_plates=MEMBERS,
                    zones={"B1": 400, "B2": 300})  # fmt: skip


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    assert stream(7) == stream(7)
    assert stream(7) != stream(8)


def test_cars_arrive_along_the_days_curve_stay_20_minutes_to_6_hours_and_never_park_twice_at_once():
    cars = plan_cars(start=START, end=END, cars=2000, seed=3, tz=SHANGHAI, member_plates=MEMBERS)
    hours = Counter(c.entry_at.astimezone(SHANGHAI).hour for c in cars)
    assert hours[19] > 5 * hours[7] and hours[3] < 10  # the evening peak, hardly anyone at 03:00
    stays = [(c.exit_at - c.entry_at).total_seconds() / 60 for c in cars if c.exit_at is not None]
    assert min(stays) >= 20 and max(stays) < 361 and 60 < sorted(stays)[len(stays) // 2] < 180
    assert all(START <= c.entry_at < END for c in cars)
    assert sum(c.exit_at is None for c in cars) > 0  # some still parked when the window ends
    by_plate: dict[str, list[Any]] = defaultdict(list)
    for c in cars:
        assert rules.normalize_plate(c.plate) == c.plate
        by_plate[c.plate].append(c)
    for visits in by_plate.values():
        for a, b in itertools.pairwise(visits):
            assert a.exit_at is not None and a.exit_at < b.entry_at
    members = sum(c.is_member_plate for c in cars)
    assert members > 0 and {c.plate for c in cars if c.is_member_plate} <= set(MEMBERS)
    assert any(len(c.plate) == 8 for c in cars)  # new-energy plates


def test_the_stream_has_misreads_replays_late_entries_and_occupancy_in_delivery_order():
    events = stream(cars=800)
    assert [e.deliver_at for e in events] == sorted(e.deliver_at for e in events)
    kinds = Counter(e.kind for e in events if not e.replay)
    assert kinds[ENTRY] == 800 and kinds[EXIT_REQUEST] == kinds[EXIT] and kinds[OCCUPANCY] == 24 * 4
    corrections = [e for e in events if e.kind == PLATE_CORRECTION]
    assert corrections and all(e.body["plate_was"] != e.body["plate"] for e in corrections)
    replays = [e for e in events if e.replay]
    assert replays
    firsts = {(e.kind, e.body.get("event_id")): e for e in events if not e.replay}
    for again in replays:
        first = firsts[(again.kind, again.body["event_id"])]
        assert again.body == first.body and again.deliver_at > first.deliver_at
    late = [e for e in events if e.kind == ENTRY and e.deliver_at > e.occurred_at]
    assert late  # entries delivered after their car's exit
    for report in (e for e in events if e.kind == OCCUPANCY):
        assert all(0 <= z["free"] <= {"B1": 400, "B2": 300}[z["zone"]] for z in report.body["zones"])


def test_pay_station_payments_are_priced_with_the_tariff():
    tariff = rules.Tariff(code="A", effective_from=START - dt.timedelta(days=1),
                          rates=rules.RateSet(day=rules.Rate(500), daily_cap_fen=5000), free_minutes=30)  # fmt: skip
    cars = plan_cars(start=START, end=END, cars=300, seed=5, tz=SHANGHAI, tariff=tariff)
    prepaid = [c for c in cars if c.prepaid_at is not None]
    assert prepaid
    for c in prepaid:
        fee = rules.calculate_fee(tariff, entry_at=c.entry_at, exit_at=c.prepaid_at, tz=SHANGHAI)
        assert c.prepaid_fen == fee.gross_fen > 0 and c.entry_at < c.prepaid_at < c.exit_at


# ---------------------------------------------------------------- through the API


def _api_sender(api: PosTestClient) -> Any:
    def send(ev: SimEvent) -> dict[str, Any]:
        resp = api.post(f"/api/v1/parking/{ev.path}", dict(ev.body))
        assert resp.status_code < 500, resp.content
        return resp.json()

    return send


@pytest.mark.django_db
def test_a_simulated_afternoon_through_the_api_leaves_consistent_stays(world):
    park = car_park(world)
    Zone.objects.filter(car_park=park).update(capacity=60)
    m = member(world)
    fund_wallet(world, m, 50_000)
    plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate="粤B12345", actor=ACTOR)
    services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    key, secret = car_park_key_create(actor=Actor.system("test"), car_park_id=park.pk)
    api = PosTestClient(Client(), PosSigner(key.key_id, secret))
    end = timezone.now() - dt.timedelta(minutes=6)
    events = simulate(start=end - dt.timedelta(hours=6), end=end, cars=40, seed=11, tz=SHANGHAI,
                      member_plates=["粤B12345"], zones={"B1": 60}, replay_share=0.2)  # fmt: skip
    tally = drive(events, _api_sender(api))
    assert set(tally.errors) <= {"parking.plate_already_parked"}, tally.errors
    assert tally.outcomes["entry:duplicate"] + tally.outcomes["exit:duplicate"] > 0  # the replays were answered
    assert ParkingEvent.objects.count() == len({(e.kind, e.body["event_id"]) for e in events if "event_id" in e.body}
                                               ) + tally.booth_payments  # fmt: skip
    for ev in (e for e in events if e.kind == EXIT and not e.replay):
        stays = ParkingSession.objects.filter(plate=ev.body["plate"], exit_event=ev.body["event_id"])
        assert stays.count() == 1 and stays.get().state == "exited"
    member_stays = ParkingSession.objects.filter(member=m, state="exited")
    for stay in member_stays:  # frictionless: every one of the member's stays paid once, at most
        assert ParkingPayment.objects.filter(session=stay, source="auto").count() <= 1
        assert stay.exception in ("", "plate_corrected")
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_command_without_a_server_summarises_the_stream():
    out = io.StringIO()
    call_command("parking_simulate", "--dry-run", "--cars", "50", "--hours", "6", "--seed", "3", stdout=out)
    assert "events for 50 cars over 6 h" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_command_drives_a_running_server(world, live_server, tmp_path: Path):
    park = car_park(world)
    key, secret = car_park_key_create(actor=Actor.system("test"), car_park_id=park.pk)
    key_file = tmp_path / "carpark.env"
    key_file.write_text(
        f"GALLERIA_API_BASE={live_server.url}/api/v1/parking/\nGALLERIA_CAR_PARK={park.code}\n"
        f"GALLERIA_KEY_ID={key.key_id}\nGALLERIA_KEY_SECRET={secret}\n"
    )
    plates = tmp_path / "plates.txt"
    plates.write_text("# members\n粤B·12345\n")
    out = io.StringIO()
    call_command("parking_simulate", "--key-file", str(key_file), "--cars", "25", "--hours", "4", "--rate", "0",
                 "--member-plates-from", str(plates), "--seed", "5", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "星河广场停车场 (p1): 800 spaces" in text and "errors" not in text, text
    assert ParkingSession.objects.filter(car_park=park).count() >= 20
    assert Zone.objects.get(car_park=park, code="B1").free_reported is not None
