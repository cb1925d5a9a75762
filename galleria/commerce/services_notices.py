"""The member's inbox messages about an online order after payment (docs/design/online-mall.md §6, §7): ready for
pickup (with the code), shipped (carrier and tracking number), cancelled because not collected, and the answer to
an after-sales request. Each is sent **after commit** (`transaction.on_commit`): never inside the order's lock, and
never for a change that rolled back. A message that cannot be stored is logged and dropped — the order's change
stands (the app's order page shows the same facts)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.messaging.services import inbox_send
from galleria.messaging.types import Audience

from . import rules, rules_orders
from .models import Order, ReturnRequest
from .types import ReturnState

logger = logging.getLogger(__name__)

__all__ = ["notify_order", "notify_return"]


def _later(*, mall_group_id: int, member_id: int, title: str, body: str) -> None:
    def send() -> None:
        try:
            inbox_send(
                mall_group_id=mall_group_id,
                audience=Audience.MEMBER,
                member_id=member_id,
                title=title[:59],
                body=body,
                actor=Actor.system("online_mall"),
            )
        except ApplicationError:  # pragma: no cover - a text the inbox refuses: the order's change stands
            logger.warning("online order notice not stored", exc_info=True)

    transaction.on_commit(send)


def notify_order(order: Order, event: str) -> None:
    """`event`: ready | shipped | uncollected."""
    if event == "ready":
        title = _("Ready for pickup: %(number)s") % {"number": order.number}
        body = _("Your order %(number)s is ready. Show the pickup code %(code)s at the shop's counter.") % {
            "number": order.number,
            "code": rules.spaced_code(order.pickup_code),
        }
    elif event == "shipped":
        title = _("Shipped: %(number)s") % {"number": order.number}
        body = _("Your order %(number)s is on its way: %(carrier)s, tracking number %(tracking)s.") % {
            "number": order.number,
            "carrier": rules_orders.carrier_label(order.carrier),
            "tracking": order.tracking_no,
        }
    else:
        title = _("Not picked up: %(number)s") % {"number": order.number}
        body = _(
            "Your order %(number)s was not picked up in time and is cancelled. Everything you paid goes back: "
            "money, points and coupons."
        ) % {"number": order.number}
    _later(mall_group_id=order.mall_group_id, member_id=order.member_id, title=title, body=body)


def notify_return(request: ReturnRequest, order: Order) -> None:
    """The member's after-sales request was answered (refunded, accepted for a return, rejected, closed)."""
    note = request.decision_note
    if request.state == ReturnState.REFUNDED:
        body = _("Your request %(number)s is refunded: the money and points are on their way back.")
    elif request.state == ReturnState.AWAITING_GOODS:
        body = _("Your return %(number)s is accepted. Send the goods back; the refund follows when they arrive.")
    elif request.state == ReturnState.REJECTED:
        body = _("The shop rejected your request %(number)s. You can ask the mall to decide, in the order's page.")
    elif request.state == ReturnState.CLOSED:
        body = _("The mall closed your request %(number)s without a refund.")
    else:
        return
    text = body % {"number": request.number}
    if note:
        text = f"{text}\n{note}"
    title = _("After-sales: %(number)s") % {"number": order.number}
    _later(mall_group_id=order.mall_group_id, member_id=request.member_id, title=title, body=text)
