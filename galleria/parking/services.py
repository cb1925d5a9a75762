"""Parking writes (docs/parking.md): the car-park system's events, members' plates, paying a stay (through the
checkout pipeline: channel "parking" at the car park's store), frictionless exit, merchant grants.

Events are idempotent per (car park, event id): the event row is written first under its unique key, so a replay —
sequential or concurrent — finds it and answers with the first outcome. A stay's row is locked before anything about
it changes; two exit requests at once are serialised on it, so a stay is charged once."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue_after_commit
from galleria.coupons.selectors import parking_coupons
from galleria.coupons.services import coupon_redeem_standalone_in_tx
from galleria.coupons.types import ParkingCouponOption
from galleria.members.selectors import member_plate_bindings
from galleria.points import selectors as points_selectors
from galleria.points.selectors import points_balance
from galleria.sales.services import sale_commit_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn
from galleria.wallet.selectors import wallet_balance

from . import rules, selectors
from . import sql as parking_sql
from .models import CarPark, Gate, ParkingEvent, ParkingPayment, ParkingProfile, ParkingSession, Zone
from .services_grants import grants_settle_in_tx
from .types import (
    Decision,
    EventKind,
    EventOutcome,
    ExitDecision,
    FeeView,
    GatewayTender,
    PaymentSource,
    SessionException,
    SessionState,
)

RECEIPT_TASK = "galleria.parking.tasks.parking_receipt_task"
PARKING_SKU = "PARKING"
PARKING_CATEGORY = "parking"
COUPON_KINDS = (rules.BenefitKind.COUPON_HOURS, rules.BenefitKind.COUPON_AMOUNT)


@dataclass(frozen=True)
class EventResult:
    event_id: str
    outcome: str  # EventOutcome value
    session_id: int | None
    detail: str = ""


def plate_or_error(text: str) -> str:
    try:
        return rules.normalize_plate(text)
    except rules.PlateError as exc:
        raise ValidationError(
            _("Not a valid plate: %(plate)s") % {"plate": text[:20]},
            code=exc.code,
            fields={"plate": exc.code},
        ) from exc


# ---------------------------------------------------------------------------------------------------- events


def _claim_event(
    car_park: CarPark, *, event_id: str, kind: str, plate: str, at: dt.datetime, gate: str, payload: Mapping[str, Any]
) -> tuple[ParkingEvent, bool]:
    """The event's row, written first (in a savepoint) under its unique key: (row, True) the first time; (the
    stored row, False) for a replay — the caller answers with its recorded outcome."""
    try:
        with transaction.atomic():
            event = ParkingEvent.objects.create(
                car_park=car_park,
                event_id=event_id[:64],
                kind=kind,
                plate=plate,
                occurred_at=at,
                gate=gate[:20],
                payload=dict(payload),
            )
        return event, True
    except IntegrityError:
        return ParkingEvent.objects.get(car_park=car_park, event_id=event_id[:64]), False


def _replayed(event: ParkingEvent, kind: str) -> EventResult:
    if event.kind != kind:
        raise ConflictError(
            _("This event id was already used for another kind of event."),
            code="parking.event_id_reused",
            extra={"kind": event.kind},
        )
    return EventResult(event.event_id, EventOutcome.DUPLICATE, event.session_id, event.outcome)


def _done(event: ParkingEvent, outcome: str, session: ParkingSession | None, detail: str = "") -> EventResult:
    event.outcome, event.session, event.detail = outcome, session, detail[:200]
    event.save(update_fields=["outcome", "session", "detail"])
    return EventResult(event.event_id, outcome, session.pk if session else None, detail)


def _member_of(car_park: CarPark, plate: str) -> int | None:
    return selectors.plate_member_id(mall_group_id=car_park.mall.group_id, plate=plate)


def _zone(car_park: CarPark, code: str, gate: str = "") -> Zone | None:
    """The zone the event names, else the zone of the entry gate it came through (a gate inside a zone)."""
    if code:
        return Zone.objects.filter(car_park=car_park, code=code).first()
    if gate:
        gates = Gate.objects.filter(car_park=car_park, code=gate[:20]).values("zone_id")
        return Zone.objects.filter(car_park=car_park, pk__in=gates).first()
    return None


def _close_fee(session: ParkingSession, at: dt.datetime) -> None:
    """At exit: the fee of the stay, stored with its explanation (for a stay paid before it left, the explanation
    of that payment, with what the time after it cost); an exit with something still due is an unpaid exit (a
    payment the car-park system reports later clears it)."""
    view, result = selectors.session_fee(session, at=at)
    session.fee_fen = view.paid_fen + view.due_fen
    session.gross_fen = view.gross_fen
    if result is not None or not session.explanation:
        session.explanation = _explanation(view)
    else:
        session.explanation = {**session.explanation, "extra_fen": view.due_fen, "paid_fen": view.paid_fen}
    if view.due_fen > 0 and not session.exception:
        session.exception = SessionException.UNPAID_EXIT
    if result is not None:  # priced now (no app payment before): the benefits it took are used by this stay
        _record_benefits(session, result.benefits, at=at)


def _record_benefits(
    session: ParkingSession, lines: Sequence[rules.BenefitLine], *, at: dt.datetime
) -> list[dict[str, Any]]:
    """Mark what a priced stay used — a benefit is used when it took money off (fen > 0; hours that fell under a cap
    already reached saved nothing and stay free): the merchant grants (billed for the fee they covered,
    services_grants.grants_settle_in_tx), the day's once-a-day hours (tier, same-day spend). Returns the used lines,
    as stored on a payment."""
    used = [line for line in lines if line.fen > 0]
    grants_settle_in_tx(session, lines)  # every grant line: one this stay no longer needs is freed again
    if session.daily_benefits_on is None and any(line.kind in selectors.ONCE_A_DAY for line in used):
        session.daily_benefits_on = timeutil.local_date(at, session.car_park.mall.timezone)
    return [
        {
            "kind": ln.kind.value,
            "source_id": ln.source_id,
            "minutes_used": ln.minutes_used,
            "fen": ln.fen,
            "key": ln.key,
            "params": dict(ln.params),
        }
        for ln in used
    ]


def _explanation(view: FeeView) -> dict[str, Any]:
    return {
        "tariff": view.tariff_code,
        "gross_fen": view.gross_fen,
        "benefits_fen": view.benefits_fen,
        "due_fen": view.due_fen,
        "segments": list(view.segments),
        "benefits": list(view.benefits),
    }


def event_entry(
    *,
    car_park: CarPark,
    event_id: str,
    plate: str,
    at: dt.datetime,
    gate: str = "",
    zone: str = "",
    payload: Mapping[str, Any] | None = None,
) -> EventResult:
    """A car entered. A plate still parked here (its exit was never seen) has that stay closed as "entry without
    an exit" at this moment; an exit already recorded for this plate without its entry (events out of order) is
    completed by this entry instead of opening a new stay."""
    plate = plate_or_error(plate)
    with transaction.atomic():
        event, first = _claim_event(
            car_park, event_id=event_id, kind=EventKind.ENTRY, plate=plate, at=at, gate=gate, payload=payload or {}
        )
        if not first:
            return _replayed(event, EventKind.ENTRY)
        waiting = (
            ParkingSession.objects.filter(
                car_park=car_park,
                plate=plate,
                exception=SessionException.NO_ENTRY,
                entry_at__isnull=True,
                exit_at__gte=at,
            )
            .order_by("exit_at")
            .first()
        )
        late = lock_one(ParkingSession.objects.filter(pk=waiting.pk)) if waiting is not None else None
        if late is not None:  # the exit came first: this entry completes that stay
            late.entry_at, late.entry_gate, late.entry_event = at, gate[:20], event.event_id
            late.exception = SessionException.NONE
            late.member_id = late.member_id or _member_of(car_park, plate)
            assert late.exit_at is not None
            _close_fee(late, late.exit_at)
            late.save()
            return _done(event, EventOutcome.REPAIRED, late, "exit before entry")
        stale = selectors.open_session(car_park_id=car_park.pk, plate=plate)
        detail = ""
        if stale is not None:
            stale = lock_one(ParkingSession.objects.filter(pk=stale.pk))
            if stale.entry_at is not None and stale.entry_at > at:  # an older entry arriving late: no new stay
                return _done(event, EventOutcome.IGNORED, stale, "older than the stay in progress")
            stale.state, stale.exception = SessionState.CLOSED, SessionException.NO_EXIT
            stale.exit_at = at
            stale.note = gettext("Closed: the plate entered again without an exit.")[:200]
            stale.save()
            detail = f"closed stay {stale.pk} (no exit)"
        session = ParkingSession.objects.create(
            car_park=car_park,
            plate=plate,
            member_id=_member_of(car_park, plate),
            entry_at=at,
            entry_gate=gate[:20],
            entry_event=event.event_id,
            zone=_zone(car_park, zone, gate),
        )
        return _done(event, EventOutcome.APPLIED, session, detail)


def event_exit(
    *,
    car_park: CarPark,
    event_id: str,
    plate: str,
    at: dt.datetime,
    gate: str = "",
    payload: Mapping[str, Any] | None = None,
) -> EventResult:
    """A car left. Without a stay in progress (the entry was missed, or has not arrived yet) the exit is recorded
    as a stay with no entry; a late entry completes it."""
    plate = plate_or_error(plate)
    with transaction.atomic():
        event, first = _claim_event(
            car_park, event_id=event_id, kind=EventKind.EXIT, plate=plate, at=at, gate=gate, payload=payload or {}
        )
        if not first:
            return _replayed(event, EventKind.EXIT)
        found = selectors.open_session(car_park_id=car_park.pk, plate=plate)
        if found is None or (found.entry_at is not None and found.entry_at > at):
            session = ParkingSession.objects.create(
                car_park=car_park,
                plate=plate,
                member_id=_member_of(car_park, plate),
                state=SessionState.EXITED,
                exception=SessionException.NO_ENTRY,
                exit_at=at,
                exit_gate=gate[:20],
                exit_event=event.event_id,
            )
            return _done(event, EventOutcome.EXCEPTION, session, "no entry")
        session = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=found.pk))
        session.state, session.exit_at, session.exit_gate, session.exit_event = (
            SessionState.EXITED,
            at,
            gate[:20],
            event.event_id,
        )
        _close_fee(session, at)
        session.save()
        outcome = EventOutcome.EXCEPTION if session.exception else EventOutcome.APPLIED
        return _done(event, outcome, session, session.exception)


def event_payment(
    *,
    car_park: CarPark,
    event_id: str,
    plate: str,
    amount_fen: int,
    at: dt.datetime,
    reference: str = "",
    payload: Mapping[str, Any] | None = None,
) -> EventResult:
    """The car-park system took a payment itself (cash at the booth, its own QR): recorded against the plate's
    stay (in progress, or the last one that left unpaid), no sale — the money is not the mall's to book here."""
    plate = plate_or_error(plate)
    if amount_fen <= 0:
        raise ValidationError(_("A payment is a positive amount."), code="parking.amount_invalid")
    with transaction.atomic():
        event, first = _claim_event(
            car_park, event_id=event_id, kind=EventKind.PAYMENT, plate=plate, at=at, gate="", payload=payload or {}
        )
        if not first:
            return _replayed(event, EventKind.PAYMENT)
        found = selectors.open_session(car_park_id=car_park.pk, plate=plate) or (
            ParkingSession.objects.filter(car_park=car_park, plate=plate, exit_at__gte=at - dt.timedelta(days=1))
            .exclude(state=SessionState.PARKED)
            .order_by("-exit_at")
            .first()
        )
        if found is None:
            return _done(event, EventOutcome.EXCEPTION, None, "no stay for this plate")
        session = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=found.pk))
        used: list[dict[str, Any]] = []
        paid_before_it_left = session.exit_at is not None and at <= session.exit_at and session.entry_at is not None
        # the payment covers the stay up to `at` when it is at least what was due then (a smaller amount is a part
        # payment: it counts, and the rest stays due)
        covers = False
        if session.state == SessionState.PARKED or paid_before_it_left:
            booth_view, result = selectors.session_fee(session, at=at)
            covers = amount_fen >= booth_view.due_fen
        if session.state == SessionState.PARKED and covers:  # the booth charged the fee we price: benefits used
            used = _record_benefits(session, result.benefits, at=at) if result is not None else []
            if result is not None and not session.explanation:
                session.explanation = _explanation(booth_view)
        ParkingPayment.objects.create(
            session=session,
            key=f"event:{car_park.pk}:{event.event_id}"[:80],
            source=PaymentSource.THIRD_PARTY,
            amount_fen=amount_fen,
            other_fen=amount_fen,
            reference=reference[:64],
            covers_until=at,
            paid_at=at,
            benefits=used,
        )
        session.paid_fen += amount_fen
        if covers:
            session.paid_until = at
            session.leave_by = rules.leave_by(at, session.car_park.leave_grace_minutes)
        if paid_before_it_left and session.state != SessionState.PARKED:
            # reported after the exit it paid for: the exit is priced again as if the events had come in order
            assert session.exit_at is not None
            if session.exception == SessionException.UNPAID_EXIT:
                session.exception = SessionException.NONE
            _close_fee(session, session.exit_at)
        elif session.exception == SessionException.UNPAID_EXIT and session.paid_fen >= (session.fee_fen or 0):
            session.exception = SessionException.NONE
        session.save()
        return _done(event, EventOutcome.APPLIED, session)


def event_plate_correction(
    *,
    car_park: CarPark,
    event_id: str,
    plate_was: str,
    plate: str,
    at: dt.datetime,
    payload: Mapping[str, Any] | None = None,
) -> EventResult:
    """The camera misread a plate and the operator corrected it: the stay in progress under the misread plate
    moves to the right one (and to its member); the old plate is kept on the stay."""
    wrong, right = plate_or_error(plate_was), plate_or_error(plate)
    with transaction.atomic():
        event, first = _claim_event(
            car_park,
            event_id=event_id,
            kind=EventKind.PLATE_CORRECTION,
            plate=right,
            at=at,
            gate="",
            payload={**(payload or {}), "plate_was": wrong},
        )
        if not first:
            return _replayed(event, EventKind.PLATE_CORRECTION)
        found = selectors.open_session(car_park_id=car_park.pk, plate=wrong)
        if found is None:
            return _done(event, EventOutcome.EXCEPTION, None, "no stay in progress for the misread plate")
        if selectors.open_session(car_park_id=car_park.pk, plate=right) is not None:
            raise ConflictError(
                _("The corrected plate already has a stay in progress here."), code="parking.plate_already_parked"
            )
        session = lock_one(ParkingSession.objects.filter(pk=found.pk))
        session.plate_was, session.plate = wrong, right
        session.member_id = _member_of(car_park, right)
        session.exception = session.exception or SessionException.PLATE_CORRECTED
        session.save()
        return _done(event, EventOutcome.APPLIED, session)


# ---------------------------------------------------------------------------------------------------- exit


def exit_request(
    *, car_park: CarPark, plate: str, at: dt.datetime | None = None, gate: str = "", request_id: str = ""
) -> ExitDecision:
    """The exit camera read a plate: open the barrier, or ask for payment first. Paid (or free) stays open; a
    member who opted in to the frictionless exit is charged from the wallet here (at most the car park's cap per
    exit) and the barrier opens. Serialised on the stay's row: two requests at once charge once."""
    at = at or timeutil.now()
    plate = plate_or_error(plate)
    with transaction.atomic():
        found = selectors.open_session(car_park_id=car_park.pk, plate=plate)
        if found is None:
            return ExitDecision(
                decision=Decision.PAY, session_id=None, plate=plate, due_fen=car_park.lost_ticket_fen, reason="no_entry"
            )
        session = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=found.pk))
        _claim_member(session)
        view, _result = selectors.session_fee(session, at=at)
        if view.due_fen == 0:
            reason = "paid" if session.paid_fen else "free"
            return ExitDecision(
                decision=Decision.OPEN, session_id=session.pk, plate=plate, due_fen=0, reason=reason, fee=view
            )
        auto = _auto_pay(session, priced=(view, _result), at=at, request_id=request_id)
        if auto is not None:
            view, _result = selectors.session_fee(session, at=at)
            return ExitDecision(
                decision=Decision.OPEN,
                session_id=session.pk,
                plate=plate,
                due_fen=0,
                reason="auto_paid",
                fee=view,
                auto_paid_fen=auto.amount_fen,
            )
        return ExitDecision(
            decision=Decision.PAY, session_id=session.pk, plate=plate, due_fen=view.due_fen, reason="unpaid", fee=view
        )


def _auto_pay(
    session: ParkingSession, *, priced: tuple[FeeView, rules.FeeResult | None], at: dt.datetime, request_id: str
) -> ParkingPayment | None:
    """无感支付: the stay's member verified this plate with the frictionless exit on, the amount is within the car
    park's cap and the wallet holds it: the wallet pays, through the checkout pipeline, in the caller's transaction
    (with the stay locked), at the fee the exit request just computed (`priced`, same stay, same moment).
    Otherwise None (the driver pays at the exit or in the app)."""
    due_fen = priced[0].due_fen
    if session.member_id is None or not selectors.auto_pay_enabled(member_id=session.member_id, plate=session.plate):
        return None
    if not rules.auto_pay_allowed(due_fen, session.car_park.auto_pay_cap_fen):
        return None
    held = wallet_balance(member_id=session.member_id)
    if held.principal_fen + held.bonus_fen < due_fen:
        return None
    key = f"auto:{session.pk}:{int(at.timestamp())}"
    return _pay_locked(
        session,
        at=at,
        points=0,
        wallet_fen=due_fen,
        key=key,
        source=PaymentSource.AUTO,
        actor=Actor.system("parking"),
        priced=priced,
    )


# ---------------------------------------------------------------------------------------------------- paying


def _step_fen(session: ParkingSession, at: dt.datetime) -> int:
    """What one hour costs at the day rate of the tariff in force at entry: points pay whole hours of it."""
    tariff = selectors.tariff_in_force(car_park_id=session.car_park_id, at=session.entry_at or at)
    if tariff is None:
        return 0
    return tariff.rates.day.unit_price_fen * 60 // tariff.unit_minutes


def chosen_coupons(*, member_id: int | None, coupon_ids: Sequence[int], at: dt.datetime) -> list[ParkingCouponOption]:
    """The member's parking coupons among `coupon_ids`, usable now, in the order chosen; an id that is not one is
    refused (never silently dropped)."""
    if not coupon_ids:
        return []
    mine = {c.coupon_id: c for c in parking_coupons(member_id=member_id, at=at)} if member_id else {}
    unknown = [cid for cid in coupon_ids if cid not in mine]
    if unknown or len(set(coupon_ids)) != len(coupon_ids):
        raise ValidationError(
            _("This parking coupon cannot be used here now."),
            code="parking.coupon_invalid",
            extra={"coupon_ids": unknown},
        )
    return [mine[cid] for cid in coupon_ids]


def pay_quote(
    *, session: ParkingSession, at: dt.datetime | None = None, coupon_ids: Sequence[int] = ()
) -> tuple[FeeView, rules.PointsQuote | None]:
    """The fee now (with the chosen parking coupons) and the most points usable on it (whole hours)."""
    at = at or timeutil.now()
    coupons = chosen_coupons(member_id=session.member_id, coupon_ids=coupon_ids, at=at)
    view, _result = selectors.session_fee(session, at=at, coupons=selectors.coupon_benefits(coupons))
    if session.member_id is None or view.due_fen == 0:
        return view, None
    policy = points_selectors.policy_get(mall_group_id=session.car_park.mall.group_id)
    step = _step_fen(session, at)
    if step <= 0:
        return view, None
    quote = rules.points_usable(
        view.due_fen,
        step_fen=step,
        rate=rules.PointsRate(points=policy.redeem_points_per_yuan, fen=100),
        balance_points=points_balance(member_id=session.member_id),
    )
    return view, quote


def _pay_locked(
    session: ParkingSession,
    *,
    at: dt.datetime,
    points: int,
    wallet_fen: int,
    key: str,
    source: str,
    actor: Actor,
    coupons: Sequence[ParkingCouponOption] = (),
    gateway: GatewayTender | None = None,
    priced: tuple[FeeView, rules.FeeResult | None] | None = None,
) -> ParkingPayment:
    """Pay what is due now with `points` (their value at the group's rate), `wallet_fen` and the money a payment
    gateway took (`gateway`: WeChat Pay / Alipay, services_gateway.py), which must add up to it: a sale of the car
    park's store through the checkout pipeline, then the stay marked paid until `at`. `priced`: the fee of this
    locked stay at `at` without coupons, when the caller has just computed it (the frictionless exit)."""
    car_park = session.car_park
    if car_park.store_id is None:
        raise ValidationError(_("This car park takes no payments in the app."), code="parking.no_store")
    if priced is not None and not coupons:
        view, result = priced
    else:
        view, result = selectors.session_fee(session, at=at, coupons=selectors.coupon_benefits(coupons))
    if view.due_fen <= 0 and not coupons:
        raise ConflictError(_("Nothing is due for this stay."), code="parking.nothing_due")
    points_fen = 0
    if points:  # their value at the group's payment rate (no read when no points pay: a frictionless exit)
        policy = points_selectors.policy_get(mall_group_id=car_park.mall.group_id)
        points_fen = points * 100 // policy.redeem_points_per_yuan
    gateway_fen = gateway.amount_fen if gateway is not None else 0
    if points_fen + wallet_fen + gateway_fen != view.due_fen:
        raise ValidationError(
            _("Points and wallet must add up to the fee due (%(due)s fen).") % {"due": view.due_fen},
            code="parking.amount_mismatch",
            extra={"due_fen": view.due_fen},
        )
    assert session.member_id is not None
    # the store with its merchant, mall and group, read once (one fixed statement) for the coupons and the sale
    store = parking_sql.car_park_store(car_park)
    assert store is not None
    name = gettext("Parking %(plate)s") % {"plate": rules.format_plate(session.plate)}
    benefits = list(result.benefits) if result is not None else []
    by_id = {str(c.coupon_id): c for c in coupons}
    for line in benefits:  # the parking coupons the fee needed are redeemed now; one it did not need stays unused
        chosen = by_id.get(line.source_id or "") if line.kind in COUPON_KINDS else None
        if chosen is not None and (line.minutes_used or line.fen):
            coupon_redeem_standalone_in_tx(
                code=chosen.code,
                mall_group_id=car_park.mall.group_id,
                merchant_id=store.merchant_id,
                actor=actor,
                idempotency_key=f"{key}:{chosen.coupon_id}"[:100],
                at=at,
            )
    if view.due_fen == 0:  # the coupons covered it all: no sale, the stay is paid
        return _paid(
            session, at=at, key=key, source=source, view=view, sale_id=None, points=0, wallet_fen=0, benefits=benefits
        )
    sale = sale_commit_in_tx(
        data=SaleIn(
            merchant_id=store.merchant_id,
            store_id=car_park.store_id,
            terminal_id=None,
            pos_sale_id=f"park:{hashlib.sha256(key.encode()).hexdigest()[:32]}",
            occurred_at=at,
            lines=(
                LineIn(
                    sku=PARKING_SKU,
                    name=name[:120],
                    quantity=1,
                    unit_price_fen=view.due_fen,
                    amount_fen=view.due_fen,
                    category=PARKING_CATEGORY,
                ),
            ),
            payments=_tenders(wallet_fen, gateway),
            member_id=session.member_id,
            points_to_use=points,
            channel=Channel.PARKING,
        ),
        actor=actor,
        merchant=store.merchant,
        store=store,
    )
    return _paid(
        session,
        at=at,
        key=key,
        source=source,
        view=view,
        sale_id=sale.sale_id,
        points=points,
        wallet_fen=wallet_fen,
        benefits=benefits,
        gateway=gateway,
    )


def _tenders(wallet_fen: int, gateway: GatewayTender | None) -> tuple[PaymentIn, ...]:
    """The sale's money: the wallet's part and the gateway's (named by its provider, as pay at store does)."""
    tenders = [PaymentIn("wallet", wallet_fen)] if wallet_fen else []
    if gateway is not None and gateway.amount_fen:
        tenders.append(PaymentIn(gateway.method, gateway.amount_fen))
    return tuple(tenders)


def _paid(
    session: ParkingSession,
    *,
    at: dt.datetime,
    key: str,
    source: str,
    view: FeeView,
    sale_id: int | None,
    points: int,
    wallet_fen: int,
    benefits: Sequence[rules.BenefitLine],
    gateway: GatewayTender | None = None,
) -> ParkingPayment:
    """The payment row, the benefits it used, the stay paid until `at` with its minutes to leave (fixed statements:
    parking/sql.py), and the member's receipt."""
    payment = ParkingPayment(
        session=session,
        key=key[:80],
        source=source,
        amount_fen=view.due_fen,
        points_used=points,
        wallet_fen=wallet_fen,
        other_fen=gateway.amount_fen if gateway is not None else 0,
        reference=gateway.reference[:64] if gateway is not None else "",
        sale_id=sale_id,
        covers_until=at,
        paid_at=at,
        benefits=_record_benefits(session, benefits, at=at),
    )
    parking_sql.payment_insert(payment)
    if source in (PaymentSource.APP, PaymentSource.AUTO):  # the member's receipt, once the payment has committed
        enqueue_after_commit(RECEIPT_TASK, payment_id=payment.pk)
    if not session.explanation:  # the stay's first payment explains its fee (the exit adds any extra time)
        session.explanation = _explanation(view)
    session.paid_fen += view.due_fen
    session.paid_until = at
    session.leave_by = rules.leave_by(at, session.car_park.leave_grace_minutes)
    parking_sql.session_save(session)
    return payment


def parking_pay(
    *,
    session_id: int,
    member_id: int,
    points: int,
    key: str,
    actor: Actor,
    at: dt.datetime | None = None,
    coupon_ids: Sequence[int] = (),
) -> ParkingPayment:
    """A member pays their stay in the app: parking coupons first (those the fee needs are redeemed), `points`
    (whole hours, at most what `pay_quote` allows) and the rest from the wallet. Idempotent per `key` (the same key
    returns the first payment)."""
    at = at or timeutil.now()
    done = ParkingPayment.objects.filter(key=key[:80]).first()
    if done is not None:
        return done
    with transaction.atomic():
        found = selectors.session_get(session_id=session_id)
        if found is not None:
            _claim_member(found)
        if found is None or found.member_id != member_id:
            raise NotFoundError(_("No such stay."), code="parking.not_found")
        session = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=found.pk))
        if session.state != SessionState.PARKED:
            raise ConflictError(_("This car has already left."), code="parking.left")
        view, quote = pay_quote(session=session, at=at, coupon_ids=coupon_ids)
        if view.due_fen <= 0 and not coupon_ids:
            raise ConflictError(_("Nothing is due for this stay."), code="parking.nothing_due")
        if points < 0 or (points and (quote is None or points > quote.points or points % quote.points_per_step)):
            raise ValidationError(
                _("Points pay whole hours of parking: at most %(n)s points here.")
                % {"n": quote.points if quote else 0},
                code="parking.points_invalid",
                extra={"max_points": quote.points if quote else 0},
            )
        policy = points_selectors.policy_get(mall_group_id=session.car_park.mall.group_id)
        points_fen = points * 100 // policy.redeem_points_per_yuan
        payment = _pay_locked(
            session,
            at=at,
            points=points,
            wallet_fen=view.due_fen - points_fen,
            key=key,
            source=PaymentSource.APP,
            actor=actor,
            coupons=chosen_coupons(member_id=member_id, coupon_ids=coupon_ids, at=at),
        )
        audit_record(
            actor=actor,
            action="parking.pay",
            target_type="parking_session",
            target_id=session.pk,
            target_label=session.plate,
            mall_group_id=session.car_park.mall.group_id,
            changes={"amount_fen": payment.amount_fen, "points": points, "wallet_fen": payment.wallet_fen},
        )
        return payment


# ---------------------------------------------------------------------------------------------------- members


def auto_pay_set(*, member_id: int, enabled: bool, actor: Actor) -> ParkingProfile:
    """Turn the frictionless exit on or off for a member. It charges only stays of the member's verified plates
    (docs/parking.md, "Plates verified once"), so turning it on needs one. Audited."""
    if enabled and not any(b.is_verified for b in member_plate_bindings(member_id=member_id)):
        raise ValidationError(
            _("Verify one of your plates first: the frictionless exit only charges a car proved to be yours."),
            code="parking.auto_pay_needs_verified_plate",
        )
    with transaction.atomic():
        ParkingProfile.objects.get_or_create(member_id=member_id)
        profile = lock_one(ParkingProfile.objects.filter(member_id=member_id))
        if profile.auto_pay != enabled:
            profile.auto_pay = enabled
            profile.auto_pay_since = timeutil.now() if enabled else None
            profile.save()
            audit_record(
                actor=actor,
                action="parking.auto_pay",
                target_type="member",
                target_id=member_id,
                changes={"auto_pay": enabled},
            )
        return profile


def _claim_member(session: ParkingSession) -> None:
    """A stay whose plate was bound to a member after the car entered belongs to that member from now on."""
    if session.member_id is None:
        session.member_id = _member_of(session.car_park, session.plate)
        if session.member_id is not None:
            session.save(update_fields=["member", "updated_at"])


__all__ = [
    "EventResult",
    "auto_pay_set",
    "event_entry",
    "event_exit",
    "event_payment",
    "event_plate_correction",
    "exit_request",
    "parking_pay",
    "pay_quote",
    "plate_or_error",
]
