"""Money-priced events: paying a held seat at a payment gateway (WeChat Pay / Alipay) — docs/events.md,
"Money-priced events"; the same two steps as the points mall's cash part (commerce/services_gateway.py).

- **Start** (`registration_pay_start`): a seat registered for a money-priced event is held (state `paying`, until
  `pay_expires_at`), an offered seat until its offer deadline; the member's points (the points part, if any) are
  checked as they are now, then a payments attempt of purpose `event` for `price_fen` × seats, expiring when the
  hold does. Nothing is taken yet. The same registration, provider and kind give the same attempt.
- **Fulfilment** (`event_fulfil`, registered with payments in `EventsConfig.ready()`; payments never imports
  events): payments calls it when the money has arrived, in the notification's durable transaction with the attempt
  row locked. Lock order after it: the event row, the registration row, then what the checkout locks — the seat is
  confirmed and its sale (channel `event`) records the points and the gateway's money. When the seat is no longer
  held (the hold lapsed, the member cancelled, another payment confirmed it) it raises and payments refunds the
  whole amount at the gateway: the member is never charged for nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError
from galleria.payments.services import purpose_pay_start
from galleria.payments.types import Fulfilled, PaidAttempt, PaymentStarted, Purpose
from galleria.points.selectors import points_balance

from . import exceptions, selectors
from .models import Event, Registration
from .services import _charge, _locked
from .types import GatewayPaid, RegistrationState

__all__ = ["event_fulfil", "pay_key", "registration_pay_start"]

PAYABLE = (RegistrationState.PAYING, RegistrationState.OFFERED)


def pay_key(*, registration_id: int, provider: str, kind: str) -> str:
    """The payments idempotency key of a registration's attempt at `provider` (one per registration and way)."""
    return f"ev{registration_id}-{provider}-{kind}"[:64]


def _deadline(reg: Registration) -> dt.datetime | None:
    return reg.pay_expires_at if reg.state == RegistrationState.PAYING else reg.offer_expires_at


def registration_pay_start(
    *,
    registration_id: int,
    member_id: int,
    provider: str,
    kind: str,
    actor: Actor,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
    at: dt.datetime | None = None,
) -> PaymentStarted:
    """Start paying a held (or offered) seat of a money-priced event at `provider`. The seat is confirmed when the
    money arrives (event_fulfil)."""
    at = at or timeutil.now()
    reg = selectors.member_registration(member_id=member_id, registration_id=registration_id)
    if reg is None:
        raise exceptions.RegistrationNotFoundError()
    event: Event = reg.event
    if not event.price_fen:
        raise ConflictError(_("Nothing to pay by WeChat Pay or Alipay."), code="events.nothing_to_pay")
    deadline = _deadline(reg)
    if reg.state not in PAYABLE or (deadline is not None and deadline <= at):
        raise exceptions.PaymentNotOpenError(extra={"state": reg.state})
    points = event.price_points * reg.seats
    if points:
        balance = points_balance(member_id=member_id)
        if balance < points:
            raise ConflictError(_("Not enough points."), code="points.insufficient", extra={"balance": balance})
    started = purpose_pay_start(
        purpose=Purpose.EVENT,
        mall_group_id=reg.mall_group_id,
        member_id=member_id,
        amount_fen=event.price_fen * reg.seats,
        order={"registration_id": reg.pk, "event_id": event.pk, "seats": reg.seats, "unit_fen": event.price_fen},
        provider=provider,
        kind=kind,
        idempotency_key=pay_key(registration_id=reg.pk, provider=provider, kind=kind),
        description=f"{event.title} ×{reg.seats}"[:120],
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        expires_at=deadline,
    )
    audit_record(
        actor=actor,
        action="event.pay_start",
        target_type="event_registration",
        target_id=reg.pk,
        target_label=event.title,
        mall_group_id=reg.mall_group_id,
        changes={"provider": provider, "amount_fen": started.amount_fen, "out_trade_no": started.out_trade_no},
    )
    return started


def event_fulfil(paid: PaidAttempt) -> Fulfilled:
    """The gateway's money for a held seat arrived: confirm it and record its sale, or raise (payments refunds the
    money in full)."""
    registration_id = int(str(paid.order.get("registration_id") or 0))
    with transaction.atomic():
        event, reg = _locked(registration_id=registration_id, mall_group_id=None, member_id=paid.member_id)
        if reg.state not in PAYABLE:  # lapsed, cancelled, or already paid by another attempt
            raise exceptions.PaymentNotOpenError(extra={"state": reg.state})
        if paid.amount_fen != event.price_fen * reg.seats:
            raise exceptions.PaymentNotOpenError(extra={"amount_fen": paid.amount_fen})
        before = reg.state
        at = min(paid.paid_at, timeutil.now())
        _charge(
            event,
            reg,
            actor=Actor.system("events:gateway"),
            at=at,
            gateway=GatewayPaid(provider=paid.provider, amount_fen=paid.amount_fen, out_trade_no=paid.out_trade_no),
        )
        reg.state, reg.confirmed_at = RegistrationState.CONFIRMED, at
        reg.pay_expires_at = reg.offer_expires_at = None
        reg.save()
        audit_record(
            actor=Actor.system("events:gateway"),
            action="event.confirm",
            target_type="event_registration",
            target_id=reg.pk,
            target_label=event.title,
            mall_group_id=event.mall_group_id,
            changes={
                "state": [before, RegistrationState.CONFIRMED],
                "points": reg.points,
                "paid_fen": reg.paid_fen,
                "out_trade_no": reg.out_trade_no,
            },
        )
        return Fulfilled(sale_id=reg.sale_id)
