"""Races on PostgreSQL, through the signed car-park API (threads with their own connections, released together): a
replayed entry makes one stay, exit requests at once charge a frictionless stay once, an exit and a payment racing
leave a consistent stay, an exit and its entry delivered at once in reverse order make one completed stay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check
from galleria.parking import services
from galleria.parking.models import ParkingEvent, ParkingPayment, ParkingSession
from galleria.parking.services_keys import car_park_key_create
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.sales.models import Sale
from galleria.testing import run_parallel
from galleria.testing_pos import PosSigner, PosTestClient
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR, car_park, fund_wallet, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def yesterday(h: int, mi: int = 0) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=timeutil.zone("Asia/Shanghai"))


class Gate:
    """A barrier controller: the car park's key, a fresh test client (its own connection) per call."""

    def __init__(self, park: Any) -> None:
        key, secret = car_park_key_create(actor=Actor.system("test"), car_park_id=park.pk)
        self.signer = PosSigner(key.key_id, secret)

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        resp = PosTestClient(Client(), self.signer).post(f"/api/v1/parking/{path}", body)
        return resp.status_code, resp.json()


def frictionless_member(world: Any, plate: str, wallet_fen: int = 20_000) -> Any:
    m = member(world)
    fund_wallet(world, m, wallet_fen)
    plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=plate, actor=ACTOR)
    services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    return m


def test_the_same_entry_event_ten_times_at_once_makes_one_stay(world):
    park = car_park(world)
    gate = Gate(park)
    body = {"event_id": "cam-E1-0001", "plate": "粤B12345", "occurred_at": yesterday(9).isoformat(), "gate": "E1"}
    answers = run_parallel(10, lambda i: gate.post("entries", body))
    assert sorted(status for status, _ in answers) == [200] * 9 + [201]
    assert {a["session_id"] for _, a in answers} == {ParkingSession.objects.get().pk}
    assert sum(a["duplicate"] for _, a in answers) == 9
    assert {a["outcome"] for _, a in answers} == {"applied"}
    assert ParkingEvent.objects.count() == 1


@pytest.mark.parametrize("gates", [2, 8])
def test_exit_requests_at_once_charge_a_frictionless_stay_once(world, gates):
    park = car_park(world)
    gate = Gate(park)
    m = frictionless_member(world, "粤B66666")
    assert gate.post("entries", {"event_id": "in-1", "plate": "粤B66666", "occurred_at": yesterday(9).isoformat()})[0]
    at = yesterday(12).isoformat()

    def ask(i: int) -> tuple[int, dict[str, Any]]:
        return gate.post(
            "exit-requests", {"plate": "粤B66666", "request_id": f"X1-{i}", "gate": "X1", "occurred_at": at}
        )

    answers = run_parallel(gates, ask)
    assert {status for status, _ in answers} == {200}
    assert {a["decision"] for _, a in answers} == {"open"}
    assert sorted(a["reason"] for _, a in answers) == ["auto_paid"] + ["paid"] * (gates - 1)
    assert sum(a["auto_paid_fen"] for _, a in answers) == 1500  # 09:00–12:00 at ¥5/h
    payment = ParkingPayment.objects.get()
    assert (payment.source, payment.amount_fen, payment.wallet_fen) == ("auto", 1500, 1500)
    sale = Sale.objects.get()
    assert (sale.pk, sale.channel, sale.total_fen) == (payment.sale_id, "parking", 1500)
    held = wallet_balance(member_id=m.pk)
    assert held.principal_fen + held.bonus_fen == 20_000 - 1500
    assert ParkingSession.objects.get().paid_fen == 1500
    assert ledger_check().ok


@pytest.mark.parametrize("first", ["payment", "exit"])
def test_an_exit_and_a_payment_at_the_booth_racing_settle_the_stay_either_way(world, first):
    park = car_park(world)
    gate = Gate(park)
    gate.post("entries", {"event_id": "in-1", "plate": "京A88888", "occurred_at": yesterday(9).isoformat()})
    calls = {
        "payment": ("payments", {"event_id": "pay-1", "plate": "京A88888", "amount_fen": 1500,
                                 "occurred_at": yesterday(11, 58).isoformat(), "reference": "cash-17"}),
        "exit": ("exits", {"event_id": "out-1", "plate": "京A88888", "occurred_at": yesterday(12).isoformat()}),
    }  # fmt: skip
    order = [first, "exit" if first == "payment" else "payment"]
    answers = run_parallel(2, lambda i: gate.post(*calls[order[i]]))
    assert sorted(status for status, _ in answers) == [201, 201]
    stay = ParkingSession.objects.get()
    assert (stay.state, stay.paid_fen, stay.fee_fen) == ("exited", 1500, 1500)
    # 09:00–12:00 is ¥15, paid at the booth at 11:58: whichever is applied first, the stay is paid, not an unpaid exit
    assert stay.exception == ""
    assert ParkingPayment.objects.get().source == "third_party"
    assert {a["session_id"] for _, a in answers} == {stay.pk}


def test_an_exit_and_its_entry_delivered_at_once_in_reverse_order_make_one_completed_stay(world):
    park = car_park(world)
    gate = Gate(park)
    plates = [f"粤B{10000 + i}" for i in range(8)]

    def deliver(i: int) -> tuple[int, dict[str, Any]]:
        plate = plates[i // 2]
        if i % 2 == 0:  # the exit first (sent first, received at the same moment as the entry)
            return gate.post("exits", {"event_id": f"out-{plate}", "plate": plate,
                                       "occurred_at": yesterday(12).isoformat()})  # fmt: skip
        return gate.post(
            "entries", {"event_id": f"in-{plate}", "plate": plate, "occurred_at": yesterday(9).isoformat()}
        )

    answers = run_parallel(2 * len(plates), deliver)
    assert {status for status, _ in answers} == {201}
    for plate in plates:
        stays = list(ParkingSession.objects.filter(plate=plate))
        assert len(stays) == 1, f"{plate}: {[(s.state, s.exception) for s in stays]}"
        stay = stays[0]
        assert (stay.state, stay.entry_at, stay.exit_at) == ("exited", yesterday(9), yesterday(12))
        assert (stay.fee_fen, stay.exception) == (1500, "unpaid_exit")  # 3 h at ¥5, nobody paid
