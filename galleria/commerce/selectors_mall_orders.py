"""Reads of online-mall orders for the screens (docs/design/online-mall.md §9): the member's orders by tab and one
order with its lines and timeline, the member's checkouts waiting for payment, the cart's stock and shop facts,
and the console's list across merchants. Every member read is scoped by that member (another member's id reads
as absent); every console read by the mall group. Writes are services_checkout / services_online_gateway's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from galleria.core import timeutil

from .models import Checkout, Order, OrderLine, ShipmentEvent
from .types import CheckoutState, Fulfilment, OrderState, ShopChannel

# The member's tabs (§9: 待付款 / 待发货 / 待自提 / 待收货 / 售后 …): tab → the orders it lists.
MEMBER_TABS: dict[str, Q] = {
    "all": Q(),
    "unpaid": Q(state=OrderState.PENDING_PAYMENT),
    "to_ship": Q(state=OrderState.PAID, fulfilment=Fulfilment.DELIVERY),
    "pickup": Q(state__in=(OrderState.PAID, OrderState.READY_FOR_PICKUP), fulfilment=Fulfilment.PICKUP),
    "to_receive": Q(state=OrderState.SHIPPED),
    "done": Q(state__in=(OrderState.DELIVERED, OrderState.COMPLETED)),
    "cancelled": Q(state=OrderState.CANCELLED),
}


def _online() -> QuerySet[Order]:
    return Order.objects.filter(shop=ShopChannel.ONLINE).select_related("merchant", "store", "checkout")


def member_online_orders(*, member_id: int, tab: str = "all") -> QuerySet[Order]:
    """The member's online orders of a tab, newest placement first."""
    return _online().filter(MEMBER_TABS.get(tab, Q()), member_id=member_id).order_by("-created_at", "-pk")


def member_online_order(*, member_id: int, order_id: int) -> Order | None:
    return _online().filter(member_id=member_id, pk=order_id).first()


def member_tab_counts(*, member_id: int) -> dict[str, int]:
    """How many orders each tab lists (the tab bar's badges), in one query per tab: at most seven small counts."""
    base = Order.objects.filter(shop=ShopChannel.ONLINE, member_id=member_id)
    return {tab: base.filter(q).count() for tab, q in MEMBER_TABS.items() if tab not in ("all", "done", "cancelled")}


def member_checkout(*, member_id: int, number: str) -> Checkout | None:
    return Checkout.objects.filter(member_id=member_id, number=number).first() if number else None


def member_pending_checkouts(*, member_id: int, at: dt.datetime | None = None) -> list[Checkout]:
    """The member's checkouts still waiting for payment (their window not over), newest first."""
    moment = at or timeutil.now()
    qs = Checkout.objects.filter(member_id=member_id, state=CheckoutState.PENDING_PAYMENT, expires_at__gt=moment)
    return list(qs.order_by("-placed_at")[:20])


def lines_of(*, order_ids: Iterable[int]) -> dict[int, list[OrderLine]]:
    """{order id: its lines by line number}, each with its product (for the picture)."""
    ids = list(order_ids)
    found: dict[int, list[OrderLine]] = {i: [] for i in ids}
    for line in OrderLine.objects.filter(order_id__in=ids).select_related("product").order_by("order_id", "line_no"):
        found[line.order_id].append(line)
    return found


def orders_of_checkout(*, checkout_id: int) -> list[Order]:
    return list(_online().filter(checkout_id=checkout_id).order_by("pk"))


def shipment_events(*, order_id: int) -> list[ShipmentEvent]:
    """An order's timeline, newest first."""
    return list(ShipmentEvent.objects.filter(order_id=order_id).order_by("-at", "-pk"))


# ------------------------------------------------------------------------------------------------- console


def console_online_orders(
    *,
    mall_group_id: int,
    state: str = "",
    merchant_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    query: str = "",
) -> QuerySet[Order]:
    """The console's online orders across merchants: by state, merchant, placement time, order number."""
    qs = _online().filter(mall_group_id=mall_group_id)
    if state:
        qs = qs.filter(state=state)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if query:
        qs = qs.filter(Q(number=query) | Q(checkout__number=query))
    return qs.select_related("member").order_by("-created_at", "-pk")


def console_online_order(*, mall_group_id: int, order_id: int) -> Order | None:
    return _online().select_related("member").filter(mall_group_id=mall_group_id, pk=order_id).first()


def online_order_group_id(*, order_id: int) -> int | None:
    """The mall group of an online order (None when there is none): how the console finds the group of a URL's
    order for a platform admin."""
    found = Order.objects.filter(pk=order_id, shop=ShopChannel.ONLINE).values_list("mall_group_id", flat=True).first()
    return int(found) if found is not None else None
