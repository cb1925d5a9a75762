"""The member's parking receipt: an inbox message once a stay is paid in the app or charged at the exit by the
frictionless exit (in the mall's default language, as the other automatic messages). Sent by a task enqueued in the
payment's transaction, so a receipt goes out once and only for a payment that committed."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.money import format_cny
from galleria.messaging import services as messaging
from galleria.messaging.types import Audience

from . import rules
from .models import ParkingPayment
from .types import PaymentSource


def parking_receipt_send(*, payment_id: int) -> None:
    payment = ParkingPayment.objects.select_related("session", "session__car_park__mall").filter(pk=payment_id).first()
    if payment is None or payment.session.member_id is None or payment.source == PaymentSource.THIRD_PARTY:
        return
    session = payment.session
    mall = session.car_park.mall
    plate = rules.format_plate(session.plate)
    points_fen = payment.amount_fen - payment.wallet_fen - payment.other_fen
    with translation.override(settings.LANGUAGE_CODE):
        if payment.source == PaymentSource.AUTO:
            title = _("Parking paid at the exit: %(plate)s") % {"plate": plate}
            body = _(
                "The frictionless exit paid %(amount)s for %(plate)s at %(car_park)s from your wallet; the barrier "
                "opened."
            ) % {"amount": format_cny(payment.amount_fen), "plate": plate, "car_park": session.car_park.name}
        elif payment.other_fen and payment.sale_id:  # the rest paid at WeChat Pay / Alipay (services_gateway.py)
            title = _("Parking paid: %(plate)s") % {"plate": plate}
            body = _(
                "You paid %(amount)s for parking %(plate)s at %(car_park)s: %(points)s points (%(points_value)s) "
                "and %(paid)s by WeChat Pay or Alipay."
            ) % {
                "amount": format_cny(payment.amount_fen),
                "plate": plate,
                "car_park": session.car_park.name,
                "points": f"{payment.points_used:,}",
                "points_value": format_cny(points_fen),
                "paid": format_cny(payment.other_fen),
            }
        else:
            title = _("Parking paid: %(plate)s") % {"plate": plate}
            body = _(
                "You paid %(amount)s for parking %(plate)s at %(car_park)s: %(points)s points (%(points_value)s) "
                "and %(wallet)s from your wallet."
            ) % {
                "amount": format_cny(payment.amount_fen),
                "plate": plate,
                "car_park": session.car_park.name,
                "points": f"{payment.points_used:,}",
                "points_value": format_cny(points_fen),
                "wallet": format_cny(payment.wallet_fen),
            }
        if payment.source != PaymentSource.AUTO and session.leave_by is not None:
            leave_by = timeutil.local(session.leave_by, mall.timezone)
            body += " " + _("Please leave by %(time)s; after that the extra time is charged.") % {
                "time": f"{leave_by:%H:%M}"
            }
    messaging.inbox_send(
        mall_group_id=mall.group_id,
        audience=Audience.MEMBER,
        member_id=session.member_id,
        title=title[:60],
        body=body,
        actor=Actor.system("parking"),
    )
