"""The car-park integration API, /api/v1/parking/… (docs/parking.md, "Integration API (car-park vendors)").

Every request is signed with a key of one car park (parking_auth; the POS API's signing) and acts on that car park
only. The events (entries, exits, payments taken by the car-park system, plate corrections) are idempotent by their
event id — a replay answers 200 with the first outcome and `"duplicate": true` — and may arrive late, twice or out of
order: the services apply them in any order (galleria/parking/services.py). An exit request is a question (open the
barrier or not?) answered now; asking again never charges twice. Every error is problem+json with a stable code; bad
input is 422, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, Field, StringConstraints

from galleria.core.errors import PermissionDeniedError, ValidationError
from galleria.merchants.rules import MAX_SKEW_SECONDS
from galleria.parking import rules, services
from galleria.parking.plate_locks import plate_lock
from galleria.parking.services_occupancy import car_park_state, occupancy_report
from galleria.parking.types import ExitDecision, FeeView

from .parking_auth import CarParkContext, car_park_auth
from .schemas import NO_NUL, ProblemOut

router = Router(tags=["Car park"], auth=car_park_auth)
ERRORS: dict[int, type] = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}
MAX_AGE = dt.timedelta(days=30)  # an event older than this is refused (a person looks at it instead)
MAX_AHEAD = dt.timedelta(seconds=MAX_SKEW_SECONDS)  # the signature's clock window
MAX_FEN = 10**9

EventId = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=NO_NUL)]
Plate = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=NO_NUL)]
GateCode = Annotated[str, StringConstraints(max_length=20, strip_whitespace=True, pattern=NO_NUL)]
ZoneCode = Annotated[str, StringConstraints(max_length=20, strip_whitespace=True, pattern=NO_NUL)]
CarParkCode = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True, pattern=NO_NUL)]
Reference = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True, pattern=NO_NUL)]

CAR_PARK_FIELD = Field(
    None, description="Optional: the car park's code. When given it must be the key's car park (403 otherwise)."
)


# ---------------------------------------------------------------- schemas


class EventIn(Schema):
    car_park: CarParkCode | None = CAR_PARK_FIELD
    event_id: EventId = Field(description="Unique per car park; a replay of the same id is answered, not applied")
    occurred_at: AwareDatetime = Field(description="When it happened, ISO 8601 with its UTC offset")


class EntryIn(EventIn):
    plate: Plate
    gate: GateCode = ""
    zone: ZoneCode = Field("", description="The zone the car drives into (a zone code of the car park), if known")


class ExitIn(EventIn):
    plate: Plate
    gate: GateCode = ""


class PaymentIn(EventIn):
    plate: Plate
    amount_fen: int = Field(ge=1, le=MAX_FEN, description="What the car-park system took, in fen")
    reference: Reference = Field("", description="The car-park system's own payment reference")


class PlateCorrectionIn(EventIn):
    plate_was: Plate = Field(description="The plate as the camera misread it")
    plate: Plate = Field(description="The right plate")


class ExitRequestIn(Schema):
    car_park: CarParkCode | None = CAR_PARK_FIELD
    plate: Plate
    gate: GateCode = ""
    request_id: EventId = Field(description="The barrier controller's id of this request (logged; retry with it)")
    occurred_at: AwareDatetime | None = Field(None, description="When the camera read the plate (default: now)")


class ZoneReportIn(Schema):
    zone: ZoneCode = Field(min_length=1)
    free: int = Field(ge=0, le=100_000, description="Free spaces the sensors count in the zone")


class OccupancyIn(Schema):
    car_park: CarParkCode | None = CAR_PARK_FIELD
    occurred_at: AwareDatetime | None = Field(None, description="When the sensors counted (default: now)")
    zones: list[ZoneReportIn] = Field(min_length=1, max_length=200)


class EventOut(Schema):
    event_id: str
    outcome: str = Field(description="applied | repaired | exception | ignored (a replay: the first outcome)")
    duplicate: bool
    session_id: int | None
    detail: str


class BenefitOut(Schema):
    kind: str
    funder: str
    minutes_used: int
    fen: int


class FeeOut(Schema):
    tariff: str
    entry_at: dt.datetime | None
    at: dt.datetime
    stay_minutes: int
    gross_fen: int
    benefits: list[BenefitOut]
    benefits_fen: int
    net_fen: int
    paid_fen: int
    due_fen: int


class ExitDecisionOut(Schema):
    decision: Literal["open", "pay"]
    reason: str = Field(description="free | paid | auto_paid | unpaid | no_entry")
    plate: str
    session_id: int | None
    due_fen: int
    auto_paid_fen: int
    leave_by: dt.datetime | None
    fee: FeeOut | None


class OccupancyOut(Schema):
    updated: list[str]
    stale: list[str] = Field(description="Zones that already had a newer reading: this one was not stored")


class ZoneOut(Schema):
    code: str
    name: str
    floor: str
    capacity: int
    free_reported: int | None
    free_reported_at: dt.datetime | None


class StatusOut(Schema):
    code: str
    name: str
    capacity: int
    parked: int
    free: int
    zones: list[ZoneOut]


class StatusQuery(Schema):
    car_park: CarParkCode | None = CAR_PARK_FIELD


# ---------------------------------------------------------------- helpers


def _context(request: HttpRequest, code: str | None) -> CarParkContext:
    ctx = getattr(request, "auth", None)
    assert isinstance(ctx, CarParkContext)
    if code is not None and code != ctx.car_park.code:
        raise PermissionDeniedError(
            _("This key belongs to another car park."), code="parking.wrong_car_park", extra={"car_park": code}
        )
    return ctx


def _moment(value: dt.datetime | None, *, field: str = "occurred_at") -> dt.datetime:
    """A reported time: not ahead of the server clock by more than the signature's window, not older than 30 days."""
    now = timezone.now()
    if value is None:
        return now
    if value - now > MAX_AHEAD:
        raise ValidationError(
            _("This time is in the future."), code="parking.time_in_future", fields={field: "in the future"}
        )
    if now - value > MAX_AGE:
        raise ValidationError(
            _("This time is too long ago to apply automatically."),
            code="parking.time_too_old",
            fields={field: "too old"},
        )
    return value


T = TypeVar("T")


def _applied(run: Callable[[], T], *, car_park_id: int, plates: tuple[str, ...]) -> T:
    """Run a service call in a transaction that first takes the lock of its plates (parking.plate_locks: an exit and
    its entry arriving at once, in reverse order, make one stay). A rule the tariff engine refuses is a 422; a unique
    key another request took at the same moment is answered by running the call again, which then sees it."""
    canonical = tuple(services.plate_or_error(p) for p in plates)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                plate_lock(car_park_id=car_park_id, plates=canonical)
                return run()
        except rules.ParkingRuleError as exc:
            raise ValidationError(str(exc), code=exc.code, extra={"params": _plain_params(exc.params)}) from exc
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _plain_params(params: Any) -> dict[str, Any]:
    return {str(k): v if isinstance(v, int | str | bool | None) else str(v) for k, v in dict(params or {}).items()}


def _event(result: services.EventResult) -> Status:
    duplicate = result.outcome == "duplicate"
    out = EventOut(
        event_id=result.event_id,
        outcome=result.detail if duplicate else result.outcome,
        duplicate=duplicate,
        session_id=result.session_id,
        detail="" if duplicate else result.detail,
    )
    return Status(200 if duplicate else 201, out)


def _fee(view: FeeView | None) -> FeeOut | None:
    if view is None:
        return None
    return FeeOut(
        tariff=view.tariff_code,
        entry_at=view.entry_at,
        at=view.at,
        stay_minutes=view.stay_minutes,
        gross_fen=view.gross_fen,
        benefits=[
            BenefitOut(
                kind=str(b["kind"]),
                funder=str(b.get("funder", "")),
                minutes_used=int(b.get("minutes_used") or 0),  # type: ignore[call-overload]
                fen=int(b.get("fen") or 0),  # type: ignore[call-overload]
            )
            for b in view.benefits
            if b.get("minutes_used") or b.get("fen")
        ],
        benefits_fen=view.benefits_fen,
        net_fen=view.net_fen,
        paid_fen=view.paid_fen,
        due_fen=view.due_fen,
    )


def _decision(decision: ExitDecision) -> ExitDecisionOut:
    return ExitDecisionOut(
        decision="open" if decision.decision == "open" else "pay",
        reason=decision.reason,
        plate=decision.plate,
        session_id=decision.session_id,
        due_fen=decision.due_fen,
        auto_paid_fen=decision.auto_paid_fen,
        leave_by=decision.fee.leave_by if decision.fee is not None else None,
        fee=_fee(decision.fee),
    )


# ---------------------------------------------------------------- operations


@router.post("/entries", response={200: EventOut, 201: EventOut, **ERRORS})
def entry(request: HttpRequest, payload: EntryIn) -> Status:
    """A car entered (entry camera). Replays of the event id: 200 with the first outcome."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    result = _applied(
        lambda: services.event_entry(
            car_park=ctx.car_park,
            event_id=payload.event_id,
            plate=payload.plate,
            at=at,
            gate=payload.gate,
            zone=payload.zone,
            payload={"key": ctx.key.key_id},
        ),
        car_park_id=ctx.car_park_id,
        plates=(payload.plate,),
    )
    return _event(result)


@router.post("/exit-requests", response={200: ExitDecisionOut, **ERRORS})
def exit_request(request: HttpRequest, payload: ExitRequestIn) -> ExitDecisionOut:
    """The exit camera read a plate: open the barrier, or ask the driver to pay first (and how much, explained)."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    decision = _applied(
        lambda: services.exit_request(
            car_park=ctx.car_park, plate=payload.plate, at=at, gate=payload.gate, request_id=payload.request_id
        ),
        car_park_id=ctx.car_park_id,
        plates=(payload.plate,),
    )
    return _decision(decision)


@router.post("/exits", response={200: EventOut, 201: EventOut, **ERRORS})
def exit_event(request: HttpRequest, payload: ExitIn) -> Status:
    """A car left (the barrier opened and closed behind it)."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    result = _applied(
        lambda: services.event_exit(
            car_park=ctx.car_park,
            event_id=payload.event_id,
            plate=payload.plate,
            at=at,
            gate=payload.gate,
            payload={"key": ctx.key.key_id},
        ),
        car_park_id=ctx.car_park_id,
        plates=(payload.plate,),
    )
    return _event(result)


@router.post("/payments", response={200: EventOut, 201: EventOut, **ERRORS})
def payment(request: HttpRequest, payload: PaymentIn) -> Status:
    """The car-park system took a payment itself (booth, its own QR code): recorded against the plate's stay."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    result = _applied(
        lambda: services.event_payment(
            car_park=ctx.car_park,
            event_id=payload.event_id,
            plate=payload.plate,
            amount_fen=payload.amount_fen,
            at=at,
            reference=payload.reference,
            payload={"key": ctx.key.key_id},
        ),
        car_park_id=ctx.car_park_id,
        plates=(payload.plate,),
    )
    return _event(result)


@router.post("/plate-corrections", response={200: EventOut, 201: EventOut, **ERRORS})
def plate_correction(request: HttpRequest, payload: PlateCorrectionIn) -> Status:
    """An operator corrected a misread plate: the stay in progress moves to the right plate (and its member)."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    if services.plate_or_error(payload.plate_was) == services.plate_or_error(payload.plate):
        raise ValidationError(
            _("The corrected plate is the same as the misread one."),
            code="parking.plate_unchanged",
            fields={"plate": "unchanged"},
        )
    result = _applied(
        lambda: services.event_plate_correction(
            car_park=ctx.car_park,
            event_id=payload.event_id,
            plate_was=payload.plate_was,
            plate=payload.plate,
            at=at,
            payload={"key": ctx.key.key_id},
        ),
        car_park_id=ctx.car_park_id,
        plates=(payload.plate_was, payload.plate),
    )
    return _event(result)


@router.post("/occupancy", response={200: OccupancyOut, **ERRORS})
def occupancy(request: HttpRequest, payload: OccupancyIn) -> OccupancyOut:
    """Free spaces per zone as the space sensors count them; the newest reading of a zone wins."""
    ctx = _context(request, payload.car_park)
    at = _moment(payload.occurred_at)
    free: dict[str, int] = {}
    for report in payload.zones:
        if report.zone in free:
            raise ValidationError(
                _("Zone %(zone)s is reported twice.") % {"zone": report.zone},
                code="parking.zone_repeated",
                fields={"zones": "repeated"},
            )
        free[report.zone] = report.free
    result = occupancy_report(car_park=ctx.car_park, free_by_zone=free, at=at)
    return OccupancyOut(updated=list(result.updated), stale=list(result.stale))


@router.get("/status", response={200: StatusOut, **ERRORS})
def status(request: HttpRequest, query: Query[StatusQuery]) -> StatusOut:
    """The car park now: capacity, cars parked (stays in progress), and each zone's last reported free spaces."""
    ctx = _context(request, query.car_park)
    state = car_park_state(car_park=ctx.car_park)
    return StatusOut(
        code=state.code,
        name=state.name,
        capacity=state.capacity,
        parked=state.parked,
        free=state.free,
        zones=[
            ZoneOut(
                code=z.code,
                name=z.name,
                floor=z.floor,
                capacity=z.capacity,
                free_reported=z.free_reported,
                free_reported_at=z.free_reported_at,
            )
            for z in state.zones
        ],
    )


__all__ = ["router"]
