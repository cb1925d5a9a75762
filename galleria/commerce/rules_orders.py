"""Pure rules of online orders after payment (docs/design/online-mall.md §6, §7): the order state machine as one
transition table, the windows (pickup, auto-receive, returns, merchant answer, reviews), carriers and tracking
numbers, the after-sales state machine and quantities. No database: services_orders.py, services_after_sales.py
and services_reviews.py ask these under their row locks.

An order's **transition table** names, for each (state, action), the state it goes to, the fulfilments it applies
to and who may do it. `transition(...)` answers the new state or "" (refused): services raise
`commerce.wrong_state` on "". Actors: `merchant` (its staff in the portal, or its signed integration), `member`,
`system` (the jobs), `mall` (console staff)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .types import Fulfilment, OrderState, ReturnKind, ReturnState

MERCHANT, MEMBER, SYSTEM, MALL = "merchant", "member", "system", "mall"

READY, HAND_OVER, SHIP, DELIVER, COMPLETE, CANCEL = "ready", "hand_over", "ship", "deliver", "complete", "cancel"
EVENT = "event"  # a timeline event on a shipped order (the state stays)


@dataclass(frozen=True)
class Transition:
    to: str
    fulfilments: frozenset[str]
    actors: frozenset[str]


def _t(to: str, fulfilments: tuple[str, ...], *actors: str) -> Transition:
    return Transition(to, frozenset(fulfilments), frozenset(actors))


PICKUP, DELIVERY = (Fulfilment.PICKUP,), (Fulfilment.DELIVERY,)
BOTH = (Fulfilment.PICKUP, Fulfilment.DELIVERY)

TRANSITIONS: dict[tuple[str, str], Transition] = {
    (OrderState.PAID, READY): _t(OrderState.READY_FOR_PICKUP, PICKUP, MERCHANT),
    (OrderState.PAID, HAND_OVER): _t(OrderState.DELIVERED, PICKUP, MERCHANT),
    (OrderState.READY_FOR_PICKUP, HAND_OVER): _t(OrderState.DELIVERED, PICKUP, MERCHANT),
    (OrderState.PAID, SHIP): _t(OrderState.SHIPPED, DELIVERY, MERCHANT),
    (OrderState.SHIPPED, EVENT): _t(OrderState.SHIPPED, DELIVERY, MERCHANT),
    (OrderState.SHIPPED, DELIVER): _t(OrderState.DELIVERED, DELIVERY, MERCHANT, MEMBER, SYSTEM),
    (OrderState.DELIVERED, COMPLETE): _t(OrderState.COMPLETED, BOTH, SYSTEM),
    (OrderState.PAID, CANCEL): _t(OrderState.CANCELLED, BOTH, MEMBER, MERCHANT, MALL),
    (OrderState.READY_FOR_PICKUP, CANCEL): _t(OrderState.CANCELLED, PICKUP, MERCHANT, SYSTEM, MALL),
}


def transition(*, state: str, action: str, fulfilment: str, actor: str) -> str:
    """The state `action` by `actor` leads to from `state`, or "" when the table refuses it."""
    found = TRANSITIONS.get((state, action))
    if found is None or fulfilment not in found.fulfilments or actor not in found.actors:
        return ""
    return found.to


def actions(*, state: str, fulfilment: str, actor: str) -> list[str]:
    """What `actor` may do to an order now (the screens show these buttons)."""
    return [a for (s, a), t in TRANSITIONS.items() if s == state and fulfilment in t.fulfilments and actor in t.actors]


# ------------------------------------------------------------------------------------------------- windows


def pickup_due(*, ready_at: dt.datetime, pickup_days: int) -> dt.datetime:
    """An order ready for pickup and not collected by then is cancelled with a full refund."""
    return ready_at + dt.timedelta(days=pickup_days)


def receive_due(*, shipped_at: dt.datetime, auto_receive_days: int) -> dt.datetime:
    """A shipped order is received automatically then (the member may confirm before)."""
    return shipped_at + dt.timedelta(days=auto_receive_days)


def return_until(*, delivered_at: dt.datetime, return_days: int) -> dt.datetime:
    return delivered_at + dt.timedelta(days=return_days)


def respond_by(*, requested_at: dt.datetime, hours: int) -> dt.datetime:
    return requested_at + dt.timedelta(hours=hours)


def review_until(*, delivered_at: dt.datetime, review_days: int) -> dt.datetime:
    return delivered_at + dt.timedelta(days=review_days)


# ------------------------------------------------------------------------------------------------- carriers

CARRIERS: tuple[tuple[str, object], ...] = (
    ("SF", pgettext_lazy("carrier", "SF Express")),
    ("ZTO", pgettext_lazy("carrier", "ZTO Express")),
    ("YTO", pgettext_lazy("carrier", "YTO Express")),
    ("YD", pgettext_lazy("carrier", "Yunda Express")),
    ("STO", pgettext_lazy("carrier", "STO Express")),
    ("JD", pgettext_lazy("carrier", "JD Logistics")),
    ("EMS", pgettext_lazy("carrier", "China Post EMS")),
    ("JT", pgettext_lazy("carrier", "J&T Express")),
    ("other", pgettext_lazy("carrier", "Other carrier")),
)
CARRIER_CODES = frozenset(code for code, _label in CARRIERS)
_TRACKING_RE = re.compile(r"^[A-Z0-9\-]{6,40}$")


def clean_tracking(text: str) -> str:
    """A tracking number as typed or scanned (full-width, spaces, lower case allowed); "" when not 6–40 letters,
    digits or dashes."""
    value = re.sub(r"\s", "", unicodedata.normalize("NFKC", text or "")).upper()[:60]
    return value if _TRACKING_RE.fullmatch(value) else ""


def carrier_label(code: str) -> str:
    return next((str(label) for c, label in CARRIERS if c == code), code)


# ------------------------------------------------------------------------------------------------- after-sales

OPEN_RETURN_STATES = frozenset(
    {
        ReturnState.REQUESTED,
        ReturnState.APPROVED,
        ReturnState.AWAITING_GOODS,
        ReturnState.GOODS_RECEIVED,
        ReturnState.ESCALATED,
    }
)
COUNTED_RETURN_STATES = OPEN_RETURN_STATES | {ReturnState.REFUNDED, ReturnState.REJECTED}
MAX_PHOTOS = 3

RETURN_TRANSITIONS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    (ReturnState.REQUESTED, "accept"): ("", frozenset({MERCHANT})),  # refund_only → refunded, else awaiting_goods
    (ReturnState.REQUESTED, "reject"): (ReturnState.REJECTED, frozenset({MERCHANT})),
    (ReturnState.REQUESTED, "withdraw"): (ReturnState.WITHDRAWN, frozenset({MEMBER})),
    (ReturnState.REQUESTED, "escalate"): (ReturnState.ESCALATED, frozenset({SYSTEM})),  # unanswered in time
    (ReturnState.REJECTED, "escalate"): (ReturnState.ESCALATED, frozenset({MEMBER})),
    (ReturnState.AWAITING_GOODS, "receive"): (ReturnState.REFUNDED, frozenset({MERCHANT})),
    (ReturnState.AWAITING_GOODS, "withdraw"): (ReturnState.WITHDRAWN, frozenset({MEMBER})),
    (ReturnState.ESCALATED, "refund"): (ReturnState.REFUNDED, frozenset({MALL})),
    (ReturnState.ESCALATED, "close"): (ReturnState.CLOSED, frozenset({MALL})),
}


def return_transition(*, state: str, action: str, kind: str, actor: str) -> str:
    """The after-sales request's next state, or "" (refused). Accepting a refund-only request refunds at once;
    accepting a return waits for the goods."""
    found = RETURN_TRANSITIONS.get((state, action))
    if found is None or actor not in found[1]:
        return ""
    if action == "accept":
        return ReturnState.REFUNDED if kind == ReturnKind.REFUND_ONLY else ReturnState.AWAITING_GOODS
    return found[0]


def may_request(*, state: str, kind: str, now: dt.datetime, return_until_at: dt.datetime | None) -> str:
    """Why a member may not open an after-sales request on an order now ("" = may). A paid order not yet shipped
    is cancelled instead (refund only, no approval); a return needs the goods in hand."""
    if state in (OrderState.PAID, OrderState.READY_FOR_PICKUP):
        return "commerce.cancel_instead"
    if state == OrderState.SHIPPED:
        return "" if kind == ReturnKind.REFUND_ONLY else "commerce.not_received"
    if state == OrderState.DELIVERED and return_until_at is not None and now < return_until_at:
        return ""
    return "commerce.return_window_over"


def quantity_left(*, bought: int, taken: int) -> int:
    """Units of a line still open to a request: bought − Σ units of its open, refunded and rejected requests."""
    return max(0, bought - taken)


def rating_ok(rating: int) -> bool:
    return 1 <= rating <= 5


RETURN_REASONS = (
    _("Not as described"),
    _("Damaged or faulty"),
    _("Wrong item or size"),
    _("No longer needed"),
    _("Other"),
)
