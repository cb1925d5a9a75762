"""Merchant portal: the shop's online orders (docs/design/online-mall.md §6, §9; docs/online-mall.md "Orders"), made
for a phone at the counter — one column, big buttons.

- orders: tabs by state with counts (to prepare or ship, ready for pickup, shipped, delivered, completed,
  cancelled), "today" figures, search by order number, pickup code or the receiver phone's last 4 digits;
- an order: its lines, the member's delivery address (only for a delivery order), the timeline and the actions
  the transition table allows — ready for pickup, hand over (by the code), ship with a carrier and tracking
  number, a timeline event, delivered, cancel with a full refund;
- pickup: type (or scan) the member's code → the order → hand over. A code works once; a second scan says when
  it was handed over.

`portal.orders` (owner, manager, clerk). Everything is galleria.commerce's (services_orders, selectors_orders,
services_online_gateway.online_order_cancel): these views show it and place its errors next to the fields. Another
merchant's order reads as absent (404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import pii_access_record
from galleria.commerce import rules, rules_orders, selectors_orders
from galleria.commerce import services_orders as orders
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.commerce.types import Fulfilment, OrderState, ShipmentStatus
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.rules import mask_name, mask_phone

from .portal import portal_merchant, portal_render, portal_tz, portal_view

PAGE_SIZE = 20
EVENT_CHOICES = (
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.EXCEPTION,
    ShipmentStatus.NOTE,
)
STATE_BADGES: dict[str, str] = {
    OrderState.PAID: "badge-warn",
    OrderState.READY_FOR_PICKUP: "badge-warn",
    OrderState.SHIPPED: "",
    OrderState.DELIVERED: "badge-ok",
    OrderState.COMPLETED: "badge-ok",
    OrderState.CANCELLED: "badge-danger",
}


def _tabs() -> list[tuple[str, str]]:
    return [
        ("to_ship", _("To prepare or ship")),
        ("ready", _("Ready for pickup")),
        ("shipped", _("Shipped")),
        ("delivered", _("Delivered")),
        ("completed", _("Completed")),
        ("cancelled", _("Cancelled")),
    ]


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, nav: str, status: int = 200) -> Any:
    scope = scope_of(request)
    context = {
        "can_orders": scope.can(perms.PORTAL_ORDERS),
        "can_after_sales": scope.can(perms.PORTAL_AFTER_SALES),
        **context,
    }
    return portal_render(request, template, context, nav=nav, merchant=context.get("merchant"), status=status)


def _own(request: HttpRequest, order_id: int) -> tuple[Any, Any]:
    merchant = portal_merchant(request)
    order = selectors_orders.merchant_order_get(merchant_id=merchant.pk, order_id=order_id)
    if order is None:
        raise Http404("order")
    return order, merchant


# ------------------------------------------------------------------------------------------------- list


@portal_view(perms.PORTAL_ORDERS)
def order_list(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    tab = str(request.GET.get("tab") or "to_ship")
    tab = tab if tab in selectors_orders.TABS or tab == "all" else "to_ship"
    query = str(request.GET.get("q") or "").strip()[:30]
    qs = selectors_orders.merchant_orders(merchant_id=merchant.pk, tab="" if query else tab, query=query)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    tz_name = portal_tz(request)
    since, _end = timeutil.local_day_bounds(timeutil.local_date(timeutil.now(), tz_name), tz_name)
    counts = selectors_orders.tab_counts(merchant_id=merchant.pk)
    rows = [{"o": o, "badge": STATE_BADGES.get(o.state, ""), "state": o.get_state_display()} for o in page]
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        "merchant/shop/orders.html",
        {
            "merchant": merchant,
            "rows": rows,
            "page_obj": page,
            "query_string": params.urlencode(),
            "tab": "" if query else tab,
            "tabs": [(value, label, counts.get(value, 0)) for value, label in _tabs()],
            "today": selectors_orders.merchant_today(merchant_id=merchant.pk, since=since),
            "q": query,
        },
        nav="shop_orders",
    )


# ------------------------------------------------------------------------------------------------- one order


def _receiver(request: HttpRequest, order: Any) -> dict[str, str] | None:
    """A delivery order's receiver: in full while the merchant has to ship it (paid or shipped: the courier needs
    it; each showing is logged as a personal-data access), masked afterwards."""
    if order.fulfilment != Fulfilment.DELIVERY:
        return None
    if order.state in (OrderState.PAID, OrderState.SHIPPED):
        pii_access_record(
            actor=actor_for(request),
            mall_group_id=order.mall_group_id,
            member_ids=[order.member_id],
            fields=["name", "phone", "address"],
            source="merchant:shop_order",
        )
        return {"name": order.ship_name, "phone": order.ship_phone, "address": order.ship_address, "full": "1"}
    short = f"{order.ship_address[:8]}…" if len(order.ship_address) > 8 else order.ship_address
    return {"name": mask_name(order.ship_name), "phone": mask_phone(order.ship_phone), "address": short, "full": ""}


def _order_page(
    request: HttpRequest, order: Any, merchant: Any, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    detail = selectors_orders.order_detail(order)
    form = request.POST if request.method == "POST" else {}
    receiver = _receiver(request, order)
    return _render(
        request,
        "merchant/shop/order.html",
        {
            "merchant": merchant,
            "d": detail,
            "o": order,
            "badge": STATE_BADGES.get(order.state, ""),
            "receiver": receiver,
            "actions": set(detail.merchant_actions),
            "can_cancel": order.state in (OrderState.PAID, OrderState.READY_FOR_PICKUP),
            "carriers": [(c, str(label)) for c, label in rules_orders.CARRIERS],
            "events": [(s.value, s.label) for s in EVENT_CHOICES],
            "spaced_code": rules.spaced_code(order.pickup_code),
            "errors": errors or {},
            "form": form,
        },
        nav="shop_orders",
        status=status,
    )


@portal_view(perms.PORTAL_ORDERS)
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    order, merchant = _own(request, order_id)
    return _order_page(request, order, merchant)


@require_POST
@portal_view(perms.PORTAL_ORDERS)
def order_action(request: HttpRequest, order_id: int) -> HttpResponse:
    """One form per action (`action` = ready | ship | event | deliver | cancel); errors come back on the page."""
    order, merchant = _own(request, order_id)
    action = str(request.POST.get("action") or "")
    actor = actor_for(request)
    post = request.POST
    try:
        if action == "ready":
            orders.order_ready(order_id=order.pk, merchant_id=merchant.pk, actor=actor)
            messages.success(request, _("Marked ready: the member can come with the pickup code."))
        elif action == "ship":
            orders.order_ship(
                order_id=order.pk,
                merchant_id=merchant.pk,
                carrier=str(post.get("carrier") or ""),
                tracking_no=str(post.get("tracking_no") or ""),
                actor=actor,
            )
            messages.success(request, _("Shipped. The member can follow the parcel."))
        elif action == "event":
            orders.order_event_add(
                order_id=order.pk,
                merchant_id=merchant.pk,
                status=str(post.get("status") or ""),
                location=str(post.get("location") or "")[:60],
                text=str(post.get("text") or "")[:200],
                actor=actor,
            )
            messages.success(request, _("Added to the timeline."))
        elif action == "deliver":
            orders.order_deliver(order_id=order.pk, merchant_id=merchant.pk, actor=actor)
            messages.success(request, _("Marked delivered."))
        elif action == "cancel":
            reason = str(post.get("reason") or "").strip()[:200]
            if not reason:
                return _order_page(request, order, merchant, errors={"reason": _("Say why.")}, status=400)
            online_order_cancel(order_id=order.pk, merchant_id=merchant.pk, actor=actor, reason=reason)
            messages.success(request, _("Cancelled. Everything the member paid goes back."))
        else:
            messages.error(request, _("Choose what to do."))
    except ApplicationError as exc:
        errors = {k: str(v) for k, v in exc.fields.items()} or {"all": str(exc.message)}
        order.refresh_from_db()
        return _order_page(request, order, merchant, errors=errors, status=exc.status if exc.status < 500 else 400)
    return redirect("merchant:shop_order", order.pk)


# ------------------------------------------------------------------------------------------------- pickup


@portal_view(perms.PORTAL_ORDERS)
def pickup(request: HttpRequest) -> HttpResponse:
    """GET ?code= finds the order (nothing changes); POST hands it over."""
    merchant = portal_merchant(request)
    source = request.POST if request.method == "POST" else request.GET
    raw = str(source.get("code") or "")[:40]
    code = rules.normalise_code(raw)
    error, status, found, done = "", 200, None, None
    if raw and not code:
        error, status = _("A pickup code has 8 digits."), 400
    elif code:
        found = selectors_orders.merchant_order_by_code(merchant_id=merchant.pk, code=code)
        if found is None:
            error, status = _("No order has this pickup code. Check the digits and try again."), 404
    if request.method == "POST" and found is not None:
        try:
            done = orders.order_hand_over(merchant_id=merchant.pk, code=code, actor=actor_for(request))
        except ApplicationError as exc:
            found.refresh_from_db()
            error, status = str(exc.message), exc.status
        else:
            messages.success(request, _("Handed over: order %(number)s.") % {"number": done.number})
            return redirect("merchant:shop_order", done.pk)
    if found is not None and found.picked_up_at is not None:  # a second scan: say when, politely
        when = timezone.localtime(found.picked_up_at).strftime("%Y-%m-%d %H:%M")
        error = _("This pickup code was already used: handed over at %(when)s.") % {"when": when}
    elif found is not None and found.state == OrderState.CANCELLED:
        error = _("This order was cancelled: nothing to hand over.")
    detail = selectors_orders.order_detail(found) if found is not None else None
    return _render(
        request,
        "merchant/shop/pickup.html",
        {"merchant": merchant, "code": raw, "error": error, "d": detail, "o": found},
        nav="shop_pickup",
        status=status,
    )
