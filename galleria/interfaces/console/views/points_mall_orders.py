"""Console: points-mall orders (docs/points-mall.md, "Console") — the list with search, filters, pages and a CSV
export (audited), an order's page with cancel/refund and ship, the service desk's pickup verification (type or scan
the code → the order → confirm the handover; a wrong or used code is an inline error), and the redemption
statistics (ECharts, the same numbers as tables). `points_mall.view` reads; `points_mall.fulfil` hands over, ships
and cancels (galleria/commerce/services.py, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.audit.services import audit_record
from galleria.commerce import rules, selectors, services
from galleria.commerce.types import Fulfilment, OrderState
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for, scope_of
from galleria.interfaces.points_mall_ui import problem_text, state_label
from galleria.members.rules import mask_phone

from ..helpers import console_tz, console_view, page_of, trail
from ..loyalty import group_context
from ..points_mall_forms import CancelForm, OrderFilterForm, PeriodForm, PickupForm, ShipForm
from .parking_common import csv_response

EXPORT_MAX = 50_000


def _row(order: Any) -> dict[str, Any]:
    lines = list(order.lines.all())
    return {
        "order": order,
        "line": lines[0] if lines else None,
        "state_label": state_label(order.state, order.fulfilment),
        "masked_phone": mask_phone(order.member.phone) if order.member.phone else "",
    }


@console_view(perms.POINTS_MALL_VIEW)
def orders(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = OrderFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.OrderFilters(
        query=data.get("q") or "",
        state=data.get("state") or "",
        fulfilment=data.get("fulfilment") or "",
        since=data.get("since"),
        until=data.get("until"),
    )
    qs = selectors.order_list(mall_group_id=g.id, filters=filters)
    if request.GET.get("export") == "csv":
        return _export(request, g.id, qs)
    page, query = page_of(request, qs)
    return render(
        request,
        "console/points_mall/orders.html",
        {
            "nav": "points_mall_orders",
            "g": g,
            "form": form,
            "rows": [_row(o) for o in page],
            "page_obj": page,
            "query": query,
            "export_query": (query + "&" if query else "") + "export=csv",
            "states": OrderState,
        },
    )


def _export(request: HttpRequest, group_id: int, qs: Any) -> HttpResponse:
    rows = list(qs[:EXPORT_MAX])
    audit_record(
        actor=actor_for(request),
        action="points_mall.export",
        target_type="points_mall",
        target_id=group_id,
        mall_group_id=group_id,
        changes={"rows": len(rows), "filters": request.GET.urlencode()[:200]},
    )
    tz = console_tz(request)

    def line(o: Any) -> list[Any]:
        first = next(iter(o.lines.all()), None)
        return [
            o.number,
            timeutil.local(o.paid_at, tz).strftime("%Y-%m-%d %H:%M"),
            o.member.card_no,
            first.title if first else "",
            first.quantity if first else 0,
            o.total_points,
            fen_to_yuan_str(o.cash_fen),
            o.get_pay_method_display(),
            o.get_fulfilment_display(),
            state_label(o.state, o.fulfilment),
            o.tracking_no,
        ]

    return csv_response(
        f"points-mall-orders-{timeutil.local_date(timeutil.now(), tz).isoformat()}.csv",
        [
            _("Order"),
            _("Exchanged at"),
            _("Member card"),
            _("Item"),
            _("Quantity"),
            _("Points"),
            _("Cash (¥)"),
            _("Paid by"),
            _("Receiving"),
            _("State"),
            _("Tracking number"),
        ],
        (line(o) for o in rows),
    )


def _order_or_404(request: HttpRequest, order_id: int) -> tuple[Any, Any]:
    order = selectors.order_get(mall_group_id=scope_of(request).mall_group_id, order_id=order_id)
    if order is None:
        raise Http404("order")
    return order, group_context(request, group_id=order.mall_group_id)


@console_view(perms.POINTS_MALL_VIEW)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order, g = _order_or_404(request, order_id)
    return _order_page(request, order, g)


def _order_page(
    request: HttpRequest, order: Any, g: Any, *, cancel_form: Any = None, ship_form: Any = None, status: int = 200
) -> HttpResponse:
    scope = scope_of(request)
    can_fulfil = scope.can(perms.POINTS_MALL_FULFIL)
    return render(
        request,
        "console/points_mall/order.html",
        {
            "nav": "points_mall_orders",
            "g": g,
            **_row(order),
            "lines": list(order.lines.all()),
            "code_spaced": rules.spaced_code(order.pickup_code),
            "can_cancel": can_fulfil
            and rules.can_cancel(
                state=order.state, fulfilment=order.fulfilment, by_member=False, member_cancellable=True
            ),
            "can_ship": can_fulfil and rules.can_ship(state=order.state, fulfilment=order.fulfilment),
            "cancel_form": cancel_form or CancelForm(),
            "ship_form": ship_form or ShipForm(),
            "history": trail(
                audit_list(mall_group_id=g.id, target_type="points_mall_order", target_id=order.pk), scope
            ),
        },
        status=status,
    )


@require_POST
@console_view(perms.POINTS_MALL_FULFIL)
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    order, g = _order_or_404(request, order_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            done = services.order_cancel(
                order_id=order.pk, mall_group_id=g.id, reason=form.cleaned_data["reason"], actor=actor_for(request)
            )
        except ApplicationError as exc:
            form.add_error(None, problem_text(exc.code, exc.message))
        else:
            messages.success(
                request,
                _("Order cancelled: %(points)s points returned to the member.")
                % {"points": f"{done.points_returned:,}"},
            )
            return redirect("console:points_mall_order", order_id=order.pk)
    return _order_page(request, order, g, cancel_form=form, status=422)


@require_POST
@console_view(perms.POINTS_MALL_FULFIL)
def order_ship(request: HttpRequest, order_id: int) -> HttpResponse:
    order, g = _order_or_404(request, order_id)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            services.order_ship(
                mall_group_id=g.id,
                order_id=order.pk,
                carrier=form.cleaned_data["carrier"],
                tracking_no=form.cleaned_data["tracking_no"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            form.add_error(None, problem_text(exc.code, exc.message))
        else:
            messages.success(request, _("Marked as shipped."))
            return redirect("console:points_mall_order", order_id=order.pk)
    return _order_page(request, order, g, ship_form=form, status=422)


# ---------------------------------------------------------------------------------------------------- the desk


@console_view(perms.POINTS_MALL_FULFIL)
def pickup(request: HttpRequest) -> HttpResponse:
    """The service desk: type or scan the member's pickup code, see the order, confirm the handover."""
    g = group_context(request)
    source = request.POST if request.method == "POST" else request.GET
    form = PickupForm(source if "code" in source else None)
    order, error, status = None, "", 200
    if form.is_bound and form.is_valid():
        code = rules.normalise_code(form.cleaned_data["code"])
        order = selectors.order_by_pickup_code(mall_group_id=g.id, code=code) if code else None
        if order is None:
            error = problem_text("commerce.pickup_code_invalid")
            status = 404 if request.method == "GET" else 422
        elif request.method == "POST":
            raw = str(request.POST.get("order_id") or "")
            try:
                order = services.order_hand_over(
                    mall_group_id=g.id,
                    code=code,
                    order_id=int(raw) if raw.isdigit() and len(raw) < 12 else 0,
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                error, status = problem_text(exc.code, exc.message), 422
            else:
                messages.success(request, _("Handed over: order %(number)s is picked up.") % {"number": order.number})
                return redirect(reverse("console:points_mall_pickup") + f"?code={order.pickup_code}")
        elif order.state == OrderState.COMPLETED:
            error = problem_text("commerce.pickup_code_used")
        elif order.state == OrderState.CANCELLED:
            error = _("This order was cancelled: nothing to hand over.")
    elif form.is_bound:
        error, status = problem_text("commerce.pickup_code_invalid"), 422
    if error:
        form.add_error("code", error)
    return render(
        request,
        "console/points_mall/pickup.html",
        {
            "nav": "points_mall_pickup",
            "g": g,
            "form": form,
            **(_row(order) if order is not None else {"order": None}),
            "can_hand_over": order is not None and rules.can_hand_over(state=order.state, fulfilment=order.fulfilment),
            "waiting": selectors.waiting_counts(mall_group_id=g.id),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------------- statistics


@console_view(perms.POINTS_MALL_VIEW)
def stats(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    tz = console_tz(request)
    form = PeriodForm(request.GET or None)
    first, last = form.period(timeutil.local_date(timeutil.now(), tz))
    result = selectors.stats(mall_group_id=g.id, first=first, last=last)
    charts = {
        "points": {
            "labels": [d.strftime("%m-%d") for d, *_rest in result.by_day],
            "values": [p for _d, _n, p, _c in result.by_day] if result.orders else [],
        },
        "top": {
            "labels": [title for _pid, title, _q, _p in result.top_items],
            "values": [q for _pid, _t, q, _p in result.top_items],
        },
    }
    return render(
        request,
        "console/points_mall/stats.html",
        {
            "nav": "points_mall_stats",
            "g": g,
            "form": form,
            "first": first,
            "last": last,
            "stats": result,
            "charts": charts,
            "fulfilments": Fulfilment,
        },
    )
