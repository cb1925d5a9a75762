"""The member's e-receipt: an inbox message once a payment has done what it was for (in the mall's default
language, as the other automatic messages)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from galleria.audit.types import Actor
from galleria.core.money import format_cny
from galleria.messaging import services as messaging
from galleria.messaging.types import Audience
from galleria.sales.selectors import sale_list

from ..models import Fulfilment, PaymentAttempt, Purpose


def payment_receipt_send(*, attempt_id: int) -> None:
    attempt = PaymentAttempt.objects.select_related("merchant").filter(pk=attempt_id).first()
    if attempt is None or attempt.member_id is None:
        return
    amount = format_cny(attempt.amount_fen)
    own = attempt.purpose in (Purpose.TOPUP, Purpose.STORE)  # another app's fulfiler sends its own receipt
    with translation.override(settings.LANGUAGE_CODE):
        if attempt.fulfilment == Fulfilment.REFUNDED and not own:
            title = _("Payment refunded")
            body = _(
                "Your payment of %(amount)s could not be recorded (what it paid for changed meanwhile), so it is "
                "being refunded in full to where it came from."
            ) % {"amount": amount}
        elif attempt.fulfilment == Fulfilment.REFUNDED:
            title = _("Payment refunded")
            body = _(
                "Your payment of %(amount)s at %(shop)s could not be recorded (your points or coupons changed "
                "meanwhile), so it is being refunded in full to where it came from."
            ) % {"amount": amount, "shop": attempt.merchant.name if attempt.merchant else ""}
        elif attempt.fulfilment != Fulfilment.DONE or not own:
            return
        elif attempt.purpose == Purpose.TOPUP:
            title = _("Wallet topped up")
            body = _("%(amount)s was added to your wallet.") % {"amount": amount}
        else:
            sale = sale_list(member_id=attempt.member_id).filter(pk=attempt.sale_id or 0).first()
            title = _("Paid at %(shop)s") % {"shop": attempt.merchant.name if attempt.merchant else ""}
            body = _("You paid %(amount)s (total %(total)s). Points earned: %(points)s.") % {
                "amount": amount,
                "total": format_cny(sale.total_fen if sale else attempt.amount_fen),
                "points": sale.points_earned if sale else 0,
            }
    messaging.inbox_send(
        mall_group_id=attempt.mall_group_id,
        audience=Audience.MEMBER,
        member_id=attempt.member_id,
        title=title[:60],
        body=body,
        actor=Actor.system("payments"),
    )
