"""Reads of paid online orders, their after-sales and reviews (docs/design/online-mall.md §6, §7, §9): the merchant
portal's lists and counts, an order with its lines and timeline (for the member app, the portal and the console),
the after-sales of an order or of a merchant, a product's reviews, and what the `online_orders_progress` job finds
due. A member's or a merchant's read is scoped by that member or merchant: another's id reads as absent.

For the member app and the console (other screens build on these): `order_detail` (lines, timeline, after-sales,
reviews, what the member may do), `member_orders`, `order_returns`, `product_reviews`, `group_orders`,
`escalated_returns`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from . import rules_orders
from .models import OnlineSettings, Order, OrderLine, ReturnLine, ReturnRequest, Review, ShipmentEvent
from .types import OrderState, ReturnState, ReviewStatus, ShopChannel

# the merchant portal's tabs: name → states
TABS: dict[str, tuple[str, ...]] = {
    "to_ship": (OrderState.PAID,),
    "ready": (OrderState.READY_FOR_PICKUP,),
    "shipped": (OrderState.SHIPPED,),
    "delivered": (OrderState.DELIVERED,),
    "completed": (OrderState.COMPLETED,),
    "cancelled": (OrderState.CANCELLED,),
}
OPEN_STATES = tuple(rules_orders.OPEN_RETURN_STATES)


def _online() -> QuerySet[Order]:
    return Order.objects.filter(shop=ShopChannel.ONLINE, checkout__isnull=False).exclude(
        state=OrderState.PENDING_PAYMENT
    )


# ------------------------------------------------------------------------------------------------- merchant


def merchant_orders(*, merchant_id: int, tab: str = "", query: str = "") -> QuerySet[Order]:
    """The merchant's paid orders, newest paid first; `tab` one of TABS (else all); `query` an order number (or
    its end), a pickup code or the receiver phone's last 4 digits."""
    qs = _online().filter(merchant_id=merchant_id)
    if tab in TABS:
        qs = qs.filter(state__in=TABS[tab])
    query = query.strip()[:30]
    if query:
        match = Q(number__endswith=query.upper()) | Q(pickup_code=query)
        if len(query) == 4 and query.isdigit():
            match |= Q(ship_phone__endswith=query)
        qs = qs.filter(match)
    return qs.select_related("store").order_by("-paid_at", "-pk")


@dataclass(frozen=True)
class Today:
    """The portal's "today" figures: orders paid today, and what waits for the shop."""

    paid_today: int
    to_prepare: int  # pickup orders paid, not marked ready
    to_hand_over: int  # ready for pickup
    to_ship: int  # delivery orders paid
    after_sales: int  # requests waiting for the merchant's answer


def merchant_today(*, merchant_id: int, since: dt.datetime) -> Today:
    """`since`: the start of the mall-local day."""
    qs = _online().filter(merchant_id=merchant_id)
    by_state = dict(qs.filter(state=OrderState.PAID).values_list("fulfilment").annotate(n=Count("pk")).order_by())
    return Today(
        paid_today=qs.filter(paid_at__gte=since).count(),
        to_prepare=int(by_state.get("pickup", 0)),
        to_hand_over=qs.filter(state=OrderState.READY_FOR_PICKUP).count(),
        to_ship=int(by_state.get("delivery", 0)),
        after_sales=ReturnRequest.objects.filter(merchant_id=merchant_id, state=ReturnState.REQUESTED).count(),
    )


def tab_counts(*, merchant_id: int) -> dict[str, int]:
    rows = dict(_online().filter(merchant_id=merchant_id).values_list("state").annotate(n=Count("pk")).order_by())
    return {tab: sum(int(rows.get(s, 0)) for s in states) for tab, states in TABS.items()}


def merchant_order_get(*, merchant_id: int, order_id: int) -> Order | None:
    return _online().filter(merchant_id=merchant_id, pk=order_id).select_related("store").first()


def merchant_order_by_number(*, merchant_id: int, number: str) -> Order | None:
    return _online().filter(merchant_id=merchant_id, number=number).first() if number else None


def merchant_order_by_code(*, merchant_id: int, code: str) -> Order | None:
    """The merchant's order with this pickup code (normalised by the caller)."""
    if not code:
        return None
    return _online().filter(merchant_id=merchant_id, pickup_code=code).first()


def merchant_returns(*, merchant_id: int, open_only: bool = True) -> QuerySet[ReturnRequest]:
    """The merchant's after-sales queue: waiting for an answer first (oldest deadline first), then the rest."""
    qs = ReturnRequest.objects.filter(merchant_id=merchant_id).select_related("order")
    if open_only:
        qs = qs.filter(state__in=[ReturnState.REQUESTED, ReturnState.AWAITING_GOODS, ReturnState.ESCALATED])
    return qs.order_by("respond_by", "-created_at", "-pk")


def merchant_return_get(*, merchant_id: int, request_id: int) -> ReturnRequest | None:
    return ReturnRequest.objects.filter(merchant_id=merchant_id, pk=request_id).select_related("order").first()


# ------------------------------------------------------------------------------------------------- member / any


def member_orders(*, member_id: int, states: tuple[str, ...] = ()) -> QuerySet[Order]:
    qs = _online().filter(member_id=member_id)
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("-paid_at", "-pk")


def member_order_get(*, member_id: int, order_id: int) -> Order | None:
    return _online().filter(member_id=member_id, pk=order_id).first()


@dataclass(frozen=True)
class LineView:
    line: OrderLine
    returnable: int  # units still open to an after-sales request
    review: Review | None


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    lines: tuple[LineView, ...]
    timeline: tuple[ShipmentEvent, ...]  # newest first
    returns: tuple[ReturnRequest, ...]
    merchant_actions: tuple[str, ...]  # rules_orders actions the merchant may take now
    member_actions: tuple[str, ...]


def returned_units(*, order_id: int) -> dict[int, int]:
    """{order line id: units in open, refunded or rejected requests} of an order."""
    rows = (
        ReturnLine.objects.filter(request__order_id=order_id, request__state__in=rules_orders.COUNTED_RETURN_STATES)
        .values_list("order_line_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    )
    return {int(line_id): int(n) for line_id, n in rows}


def order_detail(order: Order) -> OrderDetail:
    """An order as every screen shows it: lines (with what is still returnable and the review), the timeline,
    its after-sales requests, and the actions the merchant and the member may take now."""
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    taken = returned_units(order_id=order.pk)
    reviews = {r.order_line_id: r for r in Review.objects.filter(order_line__order=order)}
    views = tuple(
        LineView(
            line=ln,
            returnable=rules_orders.quantity_left(bought=ln.quantity, taken=taken.get(ln.pk, 0)),
            review=reviews.get(ln.pk),
        )
        for ln in lines
    )
    kw = {"state": order.state, "fulfilment": order.fulfilment}
    return OrderDetail(
        order=order,
        lines=views,
        timeline=tuple(ShipmentEvent.objects.filter(order=order).order_by("-at", "-pk")),
        returns=tuple(order_returns(order_id=order.pk)),
        merchant_actions=tuple(rules_orders.actions(**kw, actor=rules_orders.MERCHANT)),
        member_actions=tuple(rules_orders.actions(**kw, actor=rules_orders.MEMBER)),
    )


def order_returns(*, order_id: int) -> QuerySet[ReturnRequest]:
    """An order's after-sales requests, newest first, with their lines."""
    return ReturnRequest.objects.filter(order_id=order_id).prefetch_related("lines").order_by("-created_at", "-pk")


def return_lines(*, request_id: int) -> list[ReturnLine]:
    return list(ReturnLine.objects.filter(request_id=request_id).select_related("order_line").order_by("pk"))


def order_has_open_request(*, order_id: int) -> bool:
    return ReturnRequest.objects.filter(order_id=order_id, state__in=OPEN_STATES).exists()


def product_reviews(*, product_id: int, limit: int = 20) -> list[Review]:
    """A product's visible reviews, newest first (the member app's product page)."""
    return list(
        Review.objects.filter(product_id=product_id, status=ReviewStatus.VISIBLE).order_by("-created_at", "-pk")[:limit]
    )


def merchant_reviews(*, merchant_id: int) -> QuerySet[Review]:
    return Review.objects.filter(merchant_id=merchant_id).select_related("product").order_by("-created_at", "-pk")


# ------------------------------------------------------------------------------------------------- console


def group_reviews(*, mall_group_id: int, status: str = "") -> QuerySet[Review]:
    """The group's reviews, newest first; `status` visible or hidden (else both)."""
    qs = Review.objects.filter(product__mall_group_id=mall_group_id).select_related("product", "merchant")
    if status in ReviewStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def group_orders(
    *, mall_group_id: int, states: tuple[str, ...] = (), merchant_id: int | None = None
) -> QuerySet[Order]:
    qs = _online().filter(mall_group_id=mall_group_id)
    if states:
        qs = qs.filter(state__in=states)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return qs.select_related("merchant", "store").order_by("-paid_at", "-pk")


def escalated_returns(*, mall_group_id: int) -> QuerySet[ReturnRequest]:
    """Requests escalated to the mall (rejected by the merchant, or not answered in time), oldest first."""
    return (
        ReturnRequest.objects.filter(order__mall_group_id=mall_group_id, state=ReturnState.ESCALATED)
        .select_related("order", "merchant")
        .order_by("escalated_at", "pk")
    )


def group_returns(*, mall_group_id: int) -> QuerySet[ReturnRequest]:
    """Every after-sales request of the group, newest first."""
    return (
        ReturnRequest.objects.filter(order__mall_group_id=mall_group_id)
        .select_related("order", "merchant")
        .order_by("-created_at", "-pk")
    )


def review_group_id(*, review_id: int) -> int | None:
    found = Review.objects.filter(pk=review_id).values_list("product__mall_group_id", flat=True).first()
    return int(found) if found is not None else None


def return_group_id(*, request_id: int) -> int | None:
    """The mall group of a request (the console finds the group of a URL's object for a platform admin)."""
    found = ReturnRequest.objects.filter(pk=request_id).values_list("order__mall_group_id", flat=True).first()
    return int(found) if found is not None else None


def group_return_get(*, mall_group_id: int, request_id: int) -> ReturnRequest | None:
    return (
        ReturnRequest.objects.filter(order__mall_group_id=mall_group_id, pk=request_id)
        .select_related("order", "merchant")
        .first()
    )


# ------------------------------------------------------------------------------------------------- the job


def orders_due(*, now: dt.datetime, limit: int) -> dict[str, list[int]]:
    """Ids of orders the job may move now, per group's settings (read without a lock; the job re-checks each under
    its lock): shipped past auto-receive, ready past the pickup days, delivered past the return window."""
    defaults = OnlineSettings()
    found: dict[str, list[int]] = {"shipped": [], "ready": [], "delivered": []}
    configured = {s.mall_group_id: s for s in OnlineSettings.objects.all()}
    online = _online()
    groups = set(online.filter(state__in=["shipped", "ready_for_pickup"]).values_list("mall_group_id", flat=True))
    for group_id in sorted(groups):
        s = configured.get(group_id, defaults)
        mine = online.filter(mall_group_id=group_id)
        shipped = mine.filter(state=OrderState.SHIPPED, shipped_at__lte=now - dt.timedelta(days=s.auto_receive_days))
        found["shipped"] += list(shipped.order_by("shipped_at").values_list("pk", flat=True)[:limit])
        ready = mine.filter(state=OrderState.READY_FOR_PICKUP, ready_at__lte=now - dt.timedelta(days=s.pickup_days))
        found["ready"] += list(ready.order_by("ready_at").values_list("pk", flat=True)[:limit])
    delivered = online.filter(state=OrderState.DELIVERED, return_until__lte=now).exclude(
        return_requests__state__in=OPEN_STATES
    )
    found["delivered"] = list(delivered.order_by("return_until").values_list("pk", flat=True)[:limit])
    return found


def returns_overdue(*, now: dt.datetime, limit: int) -> list[int]:
    """Requests still waiting for the merchant's answer past `respond_by` (the partial index)."""
    qs = ReturnRequest.objects.filter(state=ReturnState.REQUESTED, respond_by__lte=now).order_by("respond_by", "pk")
    return list(qs.values_list("pk", flat=True)[:limit])
