"""My orders of the online mall in the member app (docs/design/online-mall.md §6, §9): the list by tab (待付款 /
待发货 / 待自提 / 待收货 / done / cancelled) with the checkouts still waiting for payment on top, and one sub-order's
page — its shop, lines, figures, state, the pickup code (QR, barcode and digits) while it waits to be picked up,
the delivery timeline, and what the member may do now: cancel a paid order before the shop prepares it (a full
refund, galleria.commerce.services_online_gateway.online_order_cancel), confirm receipt of a shipped one
(services_orders.order_receive), ask for after-sales and review a received item (mall_after_sale_views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.commerce import rules, rules_orders, selectors_orders, services_orders
from galleria.commerce import selectors_mall_orders as orders_sel
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.commerce.types import Fulfilment, OrderState, ReturnState
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny

from ..coupon_text import error_text
from .barcode import code128_svg
from .mall_after_sale_views import request_kinds
from .points_mall_views import qr_svg
from .views import _actor, _base_context, member_view

PAGE_SIZE = 20
TABS = (
    ("all", gettext_lazy("All")),
    ("unpaid", gettext_lazy("To pay")),
    ("to_ship", gettext_lazy("To ship")),
    ("pickup", gettext_lazy("To pick up")),
    ("to_receive", gettext_lazy("To receive")),
    ("done", gettext_lazy("Done")),
    ("cancelled", gettext_lazy("Cancelled")),
)
CODE_STATES = (OrderState.PAID, OrderState.READY_FOR_PICKUP)
WITHDRAWABLE = (ReturnState.REQUESTED, ReturnState.AWAITING_GOODS)


def _row(order: Any, lines: list[Any]) -> dict[str, Any]:
    return {
        "order": order,
        "lines": lines,
        "units": sum(line.quantity for line in lines),
        "paid_text": format_cny(order.cash_fen),
        "goods_text": format_cny(order.goods_fen),
    }


@never_cache
@require_GET
@member_view
def mall_orders(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    tab = str(request.GET.get("tab") or "all")
    tab = tab if tab in orders_sel.MEMBER_TABS else "all"
    page = Paginator(orders_sel.member_online_orders(member_id=member.pk, tab=tab), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    lines = orders_sel.lines_of(order_ids=[o.pk for o in page])
    counts = orders_sel.member_tab_counts(member_id=member.pk)
    pending = orders_sel.member_pending_checkouts(member_id=member.pk) if tab in ("all", "unpaid") else []
    return render(
        request,
        "app/mall_orders/orders.html",
        {
            **_base_context(mall, member),
            "tab": "",
            "current_tab": tab,
            "tabs": [(key, label, counts.get(key, 0)) for key, label in TABS],
            "rows": [_row(o, lines.get(o.pk, [])) for o in page],
            "page_obj": page,
            "pending": [{"checkout": c, "rest_text": format_cny(c.gateway_fen + c.wallet_fen)} for c in pending],
        },
    )


@never_cache
@require_GET
@member_view
def mall_order(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    order = orders_sel.member_online_order(member_id=member.pk, order_id=order_id)
    if order is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:mall_orders")
    lines = orders_sel.lines_of(order_ids=[order.pk])[order.pk]
    detail = selectors_orders.order_detail(order)
    views = {v.line.pk: v for v in detail.lines}
    received = order.state in (OrderState.DELIVERED, OrderState.COMPLETED)
    show_code = bool(order.pickup_code) and order.fulfilment == Fulfilment.PICKUP and order.state in CODE_STATES
    checkout = order.checkout
    return render(
        request,
        "app/mall_orders/order.html",
        {
            **_base_context(mall, member),
            **_row(order, lines),
            "line_rows": [
                {
                    "line": line,
                    "unit_text": format_cny(line.unit_fen),
                    "amount_text": format_cny(line.amount_fen),
                    "review": views[line.pk].review if line.pk in views else None,
                    "reviewable": received and line.pk in views and views[line.pk].review is None,
                }
                for line in lines
            ],
            "figures": {
                "goods": format_cny(order.goods_fen),
                "discount": format_cny(order.discount_fen),
                "points_value": format_cny(order.points_value_fen),
                "cash": format_cny(order.cash_fen),
                "refunded": format_cny(order.refunded_fen),
            },
            "show_code": show_code,
            "code_spaced": rules.spaced_code(order.pickup_code),
            "qr_svg": mark_safe(qr_svg(order.pickup_code)) if show_code else "",  # noqa: S308 - segno, digits only
            "barcode_svg": mark_safe(code128_svg(order.pickup_code)) if show_code else "",  # noqa: S308 - our SVG
            "events": orders_sel.shipment_events(order_id=order.pk),
            "carrier_text": rules_orders.carrier_label(order.carrier) if order.carrier else "",
            "pending_checkout": checkout if checkout and order.state == OrderState.PENDING_PAYMENT else None,
            "can_cancel": order.state == OrderState.PAID,
            "can_receive": order.state == OrderState.SHIPPED,
            "can_request": bool(request_kinds(order)) and any(v.returnable > 0 for v in detail.lines),
            "returns": [
                {"r": r, "money_text": format_cny(r.money_fen), "can_withdraw": r.state in WITHDRAWABLE}
                for r in detail.returns
            ],
            "now": timeutil.now(),
        },
    )


@require_POST
@member_view
def mall_order_cancel(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    """The member cancels a paid order before the shop prepares it: everything is refunded at once."""
    try:
        order = online_order_cancel(
            order_id=order_id,
            member_id=member.pk,
            actor=_actor(request, member),
            reason=str(request.POST.get("reason") or "")[:200] or _("Cancelled by the member"),
        )
    except ApplicationError as exc:
        if exc.code == "commerce.order_not_found":
            messages.error(request, _("This order is not in your account."))
            return redirect("app:mall_orders")
        if exc.code == "commerce.cannot_cancel":
            messages.error(
                request, _("The shop has already prepared or sent this order, so it cannot be cancelled here.")
            )
        else:
            messages.error(request, error_text(exc))
        return redirect("app:mall_order", order_id=order_id)
    if order.points_returned:
        text = _("Cancelled. %(money)s and %(points)s points are on their way back.") % {
            "money": format_cny(order.cash_fen),
            "points": f"{order.points_returned:,}",
        }
    else:
        text = _("Cancelled. %(money)s is on its way back.") % {"money": format_cny(order.cash_fen)}
    messages.success(request, text)
    return redirect("app:mall_order", order_id=order.pk)


@require_POST
@member_view
def mall_order_receive(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    """确认收货: the member says a shipped order arrived (the return window starts)."""
    try:
        services_orders.order_receive(order_id=order_id, member_id=member.pk, actor=_actor(request, member))
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        return redirect("app:mall_order", order_id=order_id)
    messages.success(request, _("Thank you. The order is marked as received."))
    return redirect("app:mall_order", order_id=order_id)
