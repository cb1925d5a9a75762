"""A car park's day as its system would report it (pure: no database, no I/O; the same seed gives the same stream).

`simulate(...)` plans N cars over a window of time: arrivals follow a mall's curve by hour, stays last 20 minutes to
6 hours (log-normal around ~1 h 50 min), a share of the plates are real members' (given), a few plates are misread
at the entry camera and corrected by an operator minutes later, some cars pay at a pay station before they walk to
the car (when a tariff is given, the amount is the tariff's), and the space sensors report free spaces per zone every
15 minutes. Deliveries are imperfect as in life: some events are delivered twice (the same event id), some entries
arrive after their exit (a camera that was offline).

The stream is a list of `SimEvent`s in delivery order, each carrying the integration API's path and JSON body
(docs/parking.md, "Integration API"). An exit request is a question: `drive(stream, send)` sends each event through
`send` (HTTP for `galleria parking_simulate`, the services for a demo seeder) and, when the answer is "pay", lets the
driver pay at the booth and ask again — the only part of the stream that depends on the answers.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import rules

ENTRY, EXIT_REQUEST, EXIT, PAYMENT, PLATE_CORRECTION, OCCUPANCY = (
    "entry",
    "exit_request",
    "exit",
    "payment",
    "plate_correction",
    "occupancy",
)
PATHS = {
    ENTRY: "entries",
    EXIT_REQUEST: "exit-requests",
    EXIT: "exits",
    PAYMENT: "payments",
    PLATE_CORRECTION: "plate-corrections",
    OCCUPANCY: "occupancy",
}
# relative arrivals per mall-local hour (0–23): a shopping mall, busiest at lunch and in the evening
ARRIVALS_BY_HOUR = (1, 1, 0, 0, 0, 0, 1, 2, 4, 6, 9, 11, 13, 12, 10, 9, 9, 10, 13, 14, 11, 7, 4, 2)
PROVINCES = "粤" * 30 + "京沪湘桂赣闽浙苏川鄂"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
STAY_MIN, STAY_MAX, STAY_MEDIAN = 20, 360, 110  # minutes
OCCUPANCY_EVERY = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class SimEvent:
    deliver_at: dt.datetime  # when the car-park system sends it (a late or replayed delivery is later)
    occurred_at: dt.datetime
    kind: str
    body: Mapping[str, Any]  # the API's JSON body (times as ISO 8601 with offset)
    car: int = -1  # the simulated car (-1: an occupancy report)
    replay: bool = False  # a second delivery of an event already sent
    pays_if_asked: bool = True  # exit requests: the driver pays at the booth when told to

    @property
    def path(self) -> str:
        return PATHS[self.kind]


@dataclass(frozen=True)
class Car:
    index: int
    plate: str
    is_member_plate: bool
    entry_at: dt.datetime
    exit_at: dt.datetime | None  # None: still parked when the window ends
    zone: str
    misread_as: str = ""  # the plate the entry camera read, corrected later
    prepaid_at: dt.datetime | None = None
    prepaid_fen: int = 0


@dataclass
class Tally:
    """What `drive` saw: answers by kind and outcome, exit decisions by reason, booth payments, errors."""

    sent: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    booth_payments: int = 0
    booth_fen: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def random_plate(rng: random.Random) -> str:
    """A plausible plate in canonical form: mostly 粤, a share of new-energy plates (8 characters)."""
    province, authority = rng.choice(PROVINCES), rng.choice(LETTERS)
    if rng.random() < 0.18:  # new energy, small vehicle: D/F + a digit or letter + four digits
        serial = rng.choice("DF") + rng.choice("0123456789" + LETTERS) + f"{rng.randrange(10_000):04d}"
    else:
        digits = [rng.choice("0123456789") for _ in range(5)]
        if rng.random() < 0.3:
            digits[rng.randrange(5)] = rng.choice(LETTERS)
        serial = "".join(digits)
    return rules.normalize_plate(province + authority + serial)


def misread(plate: str, rng: random.Random) -> str:
    """The plate with one serial digit read as another (3 ↔ 8, 1 ↔ 7, 0 ↔ 6 …), still a valid plate."""
    swaps = {"0": "6", "1": "7", "2": "7", "3": "8", "4": "1", "5": "6", "6": "8", "7": "1", "8": "3", "9": "0"}
    positions = [i for i, ch in enumerate(plate) if i >= 2 and ch in swaps]
    if not positions:
        return ""
    i = rng.choice(positions)
    wrong = plate[:i] + swaps[plate[i]] + plate[i + 1 :]
    try:
        return rules.normalize_plate(wrong)
    except rules.PlateError:
        return ""


def _arrival(rng: random.Random, start: dt.datetime, minutes: int, tz: dt.tzinfo) -> dt.datetime:
    """A moment in [start, start + minutes) drawn along ARRIVALS_BY_HOUR (by the mall's wall clock)."""
    hours = math.ceil(minutes / 60)
    weights = [ARRIVALS_BY_HOUR[(start + dt.timedelta(hours=h)).astimezone(tz).hour] + 0.01 for h in range(hours)]
    hour = rng.choices(range(hours), weights=weights)[0]
    offset = min(hour * 60 + rng.randrange(60), minutes - 1)
    return start + dt.timedelta(minutes=offset, seconds=rng.randrange(60))


def _stay(rng: random.Random) -> dt.timedelta:
    minutes = rng.lognormvariate(math.log(STAY_MEDIAN), 0.65)
    return dt.timedelta(minutes=min(max(minutes, STAY_MIN), STAY_MAX), seconds=rng.randrange(60))


def plan_cars(
    *,
    start: dt.datetime,
    end: dt.datetime,
    cars: int,
    seed: int,
    tz: dt.tzinfo,
    member_plates: Sequence[str] = (),
    member_share: float = 0.35,
    zones: Sequence[str] = ("B1",),
    misread_share: float = 0.03,
    prepaid_share: float = 0.25,
    tariff: rules.Tariff | None = None,
) -> list[Car]:
    """The cars of the window, in order of arrival. A plate never has two stays at once."""
    rng = random.Random(f"cars:{seed}")
    minutes = max(int((end - start).total_seconds() // 60), 1)
    members = sorted({rules.normalize_plate(p) for p in member_plates})
    busy_until: dict[str, dt.datetime] = {}
    planned: list[Car] = []
    for i, entry_at in enumerate(sorted(_arrival(rng, start, minutes, tz) for _ in range(cars))):
        plate, is_member = "", False
        if members and rng.random() < member_share:
            free = [p for p in members if busy_until.get(p, start) <= entry_at]
            if free:
                plate, is_member = rng.choice(free), True
        while not plate or busy_until.get(plate, start) > entry_at:
            plate = random_plate(rng)
        exit_at: dt.datetime | None = entry_at + _stay(rng)
        if exit_at is not None and exit_at > end:
            exit_at = None
        busy_until[plate] = (exit_at or end) + dt.timedelta(minutes=10)
        wrong = misread(plate, rng) if rng.random() < misread_share else ""
        prepaid_at, prepaid_fen = None, 0
        if tariff is not None and exit_at is not None and not is_member and rng.random() < prepaid_share:
            prepaid_at = exit_at - dt.timedelta(minutes=rng.randint(4, 12))
            if prepaid_at > entry_at:
                prepaid_fen = rules.calculate_fee(tariff, entry_at=entry_at, exit_at=prepaid_at, tz=tz).gross_fen
            if prepaid_fen <= 0:
                prepaid_at, prepaid_fen = None, 0
        planned.append(
            Car(i, plate, is_member, entry_at, exit_at, rng.choice(list(zones)), wrong, prepaid_at, prepaid_fen)
        )
    return planned


def _car_events(
    car: Car, rng: random.Random, *, entry_gates: Sequence[str], exit_gates: Sequence[str]
) -> list[SimEvent]:
    tag = f"c{car.index:05d}"
    read = car.misread_as or car.plate
    entry_body = {
        "event_id": f"{tag}-in",
        "plate": read,
        "occurred_at": _iso(car.entry_at),
        "gate": rng.choice(list(entry_gates)),
        "zone": car.zone,
    }
    out = [SimEvent(car.entry_at, car.entry_at, ENTRY, entry_body, car.index)]
    if car.misread_as:
        fixed_at = car.entry_at + dt.timedelta(minutes=rng.randint(1, 15))
        if car.exit_at is None or fixed_at < car.exit_at:
            body: dict[str, Any] = {
                "event_id": f"{tag}-fix",
                "plate_was": car.misread_as,
                "plate": car.plate,
                "occurred_at": _iso(fixed_at),
            }
            out.append(SimEvent(fixed_at, fixed_at, PLATE_CORRECTION, body, car.index))
    if car.prepaid_at is not None:
        body = {
            "event_id": f"{tag}-paystation",
            "plate": car.plate,
            "amount_fen": car.prepaid_fen,
            "occurred_at": _iso(car.prepaid_at),
            "reference": f"PS-{tag}",
        }
        out.append(SimEvent(car.prepaid_at, car.prepaid_at, PAYMENT, body, car.index))
    if car.exit_at is not None:
        gate = rng.choice(list(exit_gates))
        ask = {"plate": car.plate, "gate": gate, "request_id": f"{tag}-ask", "occurred_at": _iso(car.exit_at)}
        pays = rng.random() >= 0.01  # one driver in a hundred gets through without paying (a barrier left open)
        out.append(SimEvent(car.exit_at, car.exit_at, EXIT_REQUEST, ask, car.index, pays_if_asked=pays))
        left = car.exit_at + dt.timedelta(minutes=4)
        body = {"event_id": f"{tag}-out", "plate": car.plate, "occurred_at": _iso(left), "gate": gate}
        out.append(SimEvent(left, left, EXIT, body, car.index))
    return out


def _occupancy(
    cars: Sequence[Car], *, start: dt.datetime, end: dt.datetime, zones: Mapping[str, int], rng: random.Random
) -> list[SimEvent]:
    out = []
    at = start + OCCUPANCY_EVERY
    while at <= end:
        reports = []
        for code, capacity in zones.items():
            parked = sum(
                1 for c in cars if c.zone == code and c.entry_at <= at and (c.exit_at is None or c.exit_at > at)
            )
            noise = rng.randint(-2, 2)  # sensors miss a car or count a shadow
            reports.append({"zone": code, "free": min(max(capacity - parked + noise, 0), capacity)})
        out.append(SimEvent(at, at, OCCUPANCY, {"occurred_at": _iso(at), "zones": reports}))
        at += OCCUPANCY_EVERY
    return out


def simulate(
    *,
    start: dt.datetime,
    end: dt.datetime,
    cars: int,
    seed: int,
    tz: dt.tzinfo,
    member_plates: Sequence[str] = (),
    zones: Mapping[str, int] | None = None,
    entry_gates: Sequence[str] = ("E1",),
    exit_gates: Sequence[str] = ("X1",),
    tariff: rules.Tariff | None = None,
    replay_share: float = 0.04,
    late_entry_share: float = 0.02,
    misread_share: float = 0.03,
) -> list[SimEvent]:
    """The event stream of `cars` cars between `start` and `end` (aware datetimes), in delivery order.

    `zones` maps zone codes to their spaces (occupancy reports; none without zones); `member_plates` are plates bound
    to members (about a third of the cars use one when given); `tariff` prices pay-station payments (none without).
    A share of events is delivered a second time later (`replay_share`, the same body: the server answers with the
    first outcome) and a share of entries is delivered only after the car's exit (`late_entry_share`)."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be aware and start < end")
    zone_spaces = dict(zones or {})
    planned = plan_cars(
        start=start,
        end=end,
        cars=cars,
        seed=seed,
        tz=tz,
        member_plates=member_plates,
        zones=tuple(zone_spaces) or ("",),
        misread_share=misread_share,
        tariff=tariff,
    )
    rng = random.Random(f"events:{seed}")
    stream: list[SimEvent] = []
    for car in planned:
        events = _car_events(car, rng, entry_gates=entry_gates, exit_gates=exit_gates)
        if car.exit_at is not None and rng.random() < late_entry_share:  # the entry camera was offline
            late = car.exit_at + dt.timedelta(minutes=rng.randint(5, 30))
            events[0] = replace(events[0], deliver_at=late)
        stream.extend(events)
    if zone_spaces:
        stream.extend(_occupancy(planned, start=start, end=end, zones=zone_spaces, rng=rng))
    replays = [
        replace(ev, deliver_at=ev.deliver_at + dt.timedelta(seconds=rng.randint(5, 600)), replay=True)
        for ev in stream
        if ev.kind in (ENTRY, EXIT, PAYMENT, PLATE_CORRECTION) and rng.random() < replay_share
    ]
    stream.extend(replays)
    stream.sort(key=lambda ev: (ev.deliver_at, ev.car, ev.replay))
    return stream


def booth_payment(ask: SimEvent, due_fen: int) -> SimEvent:
    """The driver told to pay at the exit pays `due_fen` at the booth a minute later."""
    at = ask.occurred_at + dt.timedelta(minutes=1)
    body = {
        "event_id": f"{ask.body['request_id']}-booth",
        "plate": ask.body["plate"],
        "amount_fen": due_fen,
        "occurred_at": _iso(at),
        "reference": f"BOOTH-{ask.body['request_id']}",
    }
    return SimEvent(at, at, PAYMENT, body, ask.car)


def ask_again(ask: SimEvent) -> SimEvent:
    at = ask.occurred_at + dt.timedelta(minutes=2)
    body = {**ask.body, "request_id": f"{ask.body['request_id']}-2", "occurred_at": _iso(at)}
    return SimEvent(at, at, EXIT_REQUEST, body, ask.car, pays_if_asked=False)


Send = Callable[[SimEvent], Mapping[str, Any]]
"""Sends one event and returns the API's JSON answer; an error answer is a problem document (with "code")."""


def drive(stream: Iterable[SimEvent], send: Send, *, tally: Tally | None = None) -> Tally:
    """Send every event in order; when an exit request is answered "pay", the driver pays at the booth what is due
    and asks again (a car-park system does the same). Returns what was seen."""
    seen = tally or Tally()

    def one(ev: SimEvent) -> Mapping[str, Any]:
        answer = send(ev)
        seen.sent[ev.kind] += 1
        if "code" in answer and "status" in answer:  # a problem document
            seen.errors[str(answer["code"])] += 1
        elif ev.kind == EXIT_REQUEST:
            seen.decisions[f"{answer.get('decision')}:{answer.get('reason')}"] += 1
        elif "outcome" in answer:
            seen.outcomes[f"{ev.kind}:{'duplicate' if answer.get('duplicate') else answer['outcome']}"] += 1
        return answer

    for ev in stream:
        answer = one(ev)
        if ev.kind == EXIT_REQUEST and ev.pays_if_asked and answer.get("decision") == "pay":
            due = int(answer.get("due_fen") or 0)
            if due > 0:
                one(booth_payment(ev, due))
                seen.booth_payments += 1
                seen.booth_fen += due
                one(ask_again(ev))
    return seen


__all__ = [
    "ARRIVALS_BY_HOUR",
    "Car",
    "SimEvent",
    "Tally",
    "ask_again",
    "booth_payment",
    "drive",
    "misread",
    "plan_cars",
    "random_plate",
    "simulate",
]
