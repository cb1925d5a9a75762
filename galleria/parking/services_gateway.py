"""Paying a stay through a payment gateway (WeChat Pay / Alipay): the rest after parking coupons and points
(docs/parking.md, "Paying: points, wallet, gateway"; docs/payments.md, "Other purposes: parking").

- **Start** (`parking_pay_start`): the stay is quoted now (`services.pay_quote`: the chosen coupons first, then
  whole hours of points); what is left is asked of the gateway as a payments attempt of purpose `parking`, which
  keeps the stay, the points, the coupons, the fee quoted and the moment. Nothing is recorded yet.
- **Fulfilment** (`parking_fulfil`, registered with payments in `ParkingConfig.ready()`): payments calls it when
  the money has arrived, inside the notification's durable transaction with the attempt locked (lock order: the
  attempt, then the stay, then what the checkout locks). The stay is priced again, under its row lock, at the moment
  the member paid (the gateway's time, never before the quote nor after now): when what is due then, less the points,
  is still exactly the amount paid, the payment is recorded through the one parking payment path
  (`services._pay_locked`, with the gateway's money as a tender of the sale). Otherwise — the car has left, the fee
  stepped up (another billing unit started before the member paid), a coupon or the points are gone — it raises, and
  payments refunds the whole amount at the gateway; the member pays again. The attempt's state under its lock makes
  a redelivered notification, or a query racing it, record one payment."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.payments.services import purpose_pay_start
from galleria.payments.types import Fulfilled, PaidAttempt, PaymentStarted, Purpose
from galleria.points import selectors as points_selectors

from . import rules, selectors
from .models import ParkingSession
from .services import _claim_member, _pay_locked, chosen_coupons, pay_quote
from .types import GatewayTender, PaymentSource, SessionState

KEY_PREFIX = "gw:"  # ParkingPayment.key of a gateway payment: gw:<out_trade_no>


def _points_fen(session: ParkingSession, points: int) -> int:
    policy = points_selectors.policy_get(mall_group_id=session.car_park.mall.group_id)
    return points * 100 // policy.redeem_points_per_yuan if points else 0


def _check_points(points: int, quote: rules.PointsQuote | None) -> None:
    if points < 0 or (points and (quote is None or points > quote.points or points % quote.points_per_step)):
        raise ValidationError(
            _("Points pay whole hours of parking: at most %(n)s points here.") % {"n": quote.points if quote else 0},
            code="parking.points_invalid",
            extra={"max_points": quote.points if quote else 0},
        )


def parking_pay_start(
    *,
    session_id: int,
    member_id: int,
    points: int,
    coupon_ids: Sequence[int],
    provider: str,
    kind: str,
    key: str,
    actor: Actor,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
    at: dt.datetime | None = None,
) -> PaymentStarted:
    """Start paying the rest of a stay (after `coupon_ids` and `points`) at `provider`. The same `key` gives the
    same attempt (a different amount with it is an idempotency conflict). The stay is paid only when the money
    arrives (`parking_fulfil`)."""
    at = at or timeutil.now()
    with transaction.atomic():
        found = selectors.session_get(session_id=session_id)
        if found is not None:
            _claim_member(found)
        if found is None or found.member_id != member_id:
            raise NotFoundError(_("No such stay."), code="parking.not_found")
    session = ParkingSession.objects.select_related("car_park", "car_park__mall").get(pk=found.pk)
    if session.state != SessionState.PARKED:
        raise ConflictError(_("This car has already left."), code="parking.left")
    if session.car_park.store_id is None:
        raise ValidationError(_("This car park takes no payments in the app."), code="parking.no_store")
    view, quote = pay_quote(session=session, at=at, coupon_ids=coupon_ids)
    if view.due_fen <= 0:
        raise ConflictError(_("Nothing is due for this stay."), code="parking.nothing_due")
    _check_points(points, quote)
    amount_fen = view.due_fen - _points_fen(session, points)
    if amount_fen <= 0:
        raise ConflictError(
            _("Nothing is left to pay by WeChat Pay or Alipay: your points pay it all."),
            code="parking.gateway_nothing_left",
        )
    plate = rules.format_plate(session.plate)
    order: dict[str, object] = {
        "session_id": session.pk,
        "plate": session.plate,
        "points": points,
        "coupons": [int(c) for c in coupon_ids],
        "due_fen": view.due_fen,
        "quoted_at": at.isoformat(),
    }
    started = purpose_pay_start(
        purpose=Purpose.PARKING,
        mall_group_id=session.car_park.mall.group_id,
        member_id=member_id,
        amount_fen=amount_fen,
        order=order,
        provider=provider,
        kind=kind,
        idempotency_key=key,
        description=f"{session.car_park.name} {plate}"[:120],
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        match=("session_id", "points", "coupons"),
    )
    audit_record(
        actor=actor,
        action="parking.pay_start",
        target_type="parking_session",
        target_id=session.pk,
        target_label=session.plate,
        mall_group_id=session.car_park.mall.group_id,
        changes={
            "provider": provider,
            "amount_fen": amount_fen,
            "points": points,
            "out_trade_no": started.out_trade_no,
        },
    )
    return started


def _paid_moment(paid: PaidAttempt) -> dt.datetime:
    """When the member paid, as the gateway says — never before the quote (clocks disagree) nor after now."""
    now = timezone.now()
    moment = min(paid.paid_at, now)
    quoted = paid.order.get("quoted_at")
    if isinstance(quoted, str):
        with contextlib.suppress(ValueError):
            moment = max(moment, min(dt.datetime.fromisoformat(quoted), now))
    return moment


def parking_fulfil(paid: PaidAttempt) -> Fulfilled:
    """The gateway's money for a stay arrived: record the payment, or raise (payments refunds it in full). Runs
    in payments' notification transaction with the attempt locked; the stay is locked here."""
    order = paid.order
    session_id = order.get("session_id")
    if not isinstance(session_id, int):
        raise NotFoundError(_("No such stay."), code="parking.not_found")
    found = ParkingSession.objects.filter(pk=session_id).first()
    if found is None or found.member_id != paid.member_id:
        raise NotFoundError(_("No such stay."), code="parking.not_found")
    session = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=found.pk))
    if session.state != SessionState.PARKED:
        raise ConflictError(_("This car has already left."), code="parking.left")
    at = _paid_moment(paid)
    points = int(str(order.get("points") or 0))
    raw_coupons = order.get("coupons")
    coupon_ids = [int(c) for c in raw_coupons] if isinstance(raw_coupons, list) else []
    coupons = chosen_coupons(member_id=paid.member_id, coupon_ids=coupon_ids, at=at)
    view, _quote = pay_quote(session=session, at=at, coupon_ids=coupon_ids)
    if view.due_fen == 0 and session.paid_fen > 0:
        raise ConflictError(_("This stay was already paid."), code="parking.already_paid")
    if view.due_fen - _points_fen(session, points) != paid.amount_fen:
        raise ConflictError(
            _("The parking fee changed before the payment arrived: it is refunded, please pay again."),
            code="parking.fee_changed",
            extra={"due_fen": view.due_fen, "paid_fen": paid.amount_fen},
        )
    actor = Actor.system("parking:gateway")
    payment = _pay_locked(
        session,
        at=at,
        points=points,
        wallet_fen=0,
        key=f"{KEY_PREFIX}{paid.out_trade_no}",
        source=PaymentSource.APP,
        actor=actor,
        coupons=coupons,
        gateway=GatewayTender(method=paid.provider, amount_fen=paid.amount_fen, reference=paid.out_trade_no),
    )
    audit_record(
        actor=actor,
        action="parking.pay",
        target_type="parking_session",
        target_id=session.pk,
        target_label=session.plate,
        mall_group_id=session.car_park.mall.group_id,
        changes={
            "amount_fen": payment.amount_fen,
            "points": points,
            "gateway": paid.provider,
            "gateway_fen": paid.amount_fen,
            "out_trade_no": paid.out_trade_no,
        },
    )
    return Fulfilled(sale_id=payment.sale_id)


def gateway_payment_key(out_trade_no: str) -> str:
    """The ParkingPayment.key a gateway payment is recorded under."""
    return f"{KEY_PREFIX}{out_trade_no}"


__all__ = ["gateway_payment_key", "parking_fulfil", "parking_pay_start"]
