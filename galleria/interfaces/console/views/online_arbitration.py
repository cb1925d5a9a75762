"""Console: after-sales requests escalated to the mall (docs/design/online-mall.md §7, §9; docs/online-mall.md
"After-sales"). A merchant rejected them and the member asked the mall, or the merchant did not answer in time.
The list (escalated first, oldest first; or every request of the group), and one request: the order, the lines and
quantities, the member's reason, the merchant's note, the refund preview (the pipeline's own refund, rolled back),
then **refund** (as if the merchant had accepted: money, points and coupons back in proportion, the gateway's part
booked for the merchant) or **close** — a note the member and the merchant read is required. `online_mall.arbitrate`
(admin, customer service); everything is galleria.commerce's (services_after_sales.after_sale_arbitrate)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_orders
from galleria.commerce import services_after_sales as after_sales
from galleria.commerce.types import ReturnState
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for
from galleria.members.rules import mask_phone

from ..helpers import console_view, page_of
from ..loyalty import group_context

STATE_BADGES: dict[str, str] = {
    ReturnState.ESCALATED: "badge-warn",
    ReturnState.REFUNDED: "badge-ok",
    ReturnState.CLOSED: "",
    ReturnState.REJECTED: "badge-danger",
}


@console_view(perms.ONLINE_MALL_ARBITRATE)
def online_returns(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    show_all = request.GET.get("all") == "1"
    if show_all:
        qs = selectors_orders.group_returns(mall_group_id=g.id)
    else:
        qs = selectors_orders.escalated_returns(mall_group_id=g.id)
    page, query = page_of(request, qs)
    rows = [{"r": r, "badge": STATE_BADGES.get(r.state, "")} for r in page]
    return render(
        request,
        "console/online_mall/returns.html",
        {"nav": "online_returns", "g": g, "rows": rows, "page_obj": page, "query": query, "show_all": show_all},
    )


def _page(request: HttpRequest, request_id: int, *, error: str = "", status: int = 200) -> HttpResponse:
    group_id = selectors_orders.return_group_id(request_id=request_id)
    if group_id is None:
        raise Http404("return")
    g = group_context(request, group_id=group_id)
    found = selectors_orders.group_return_get(mall_group_id=g.id, request_id=request_id)
    if found is None:
        raise Http404("return")
    preview, preview_error = None, ""
    if found.state == ReturnState.ESCALATED:
        try:
            preview = after_sales.after_sale_preview(request_id=found.pk, mall_group_id=g.id)
        except ApplicationError as exc:
            preview_error = str(exc.message)
    return render(
        request,
        "console/online_mall/return.html",
        {
            "nav": "online_returns",
            "g": g,
            "rq": found,
            "o": found.order,
            "lines": selectors_orders.return_lines(request_id=found.pk),
            "badge": STATE_BADGES.get(found.state, ""),
            "phone": mask_phone(found.order.ship_phone) if found.order.ship_phone.startswith("+") else "",
            "preview": preview,
            "preview_error": preview_error,
            "error": error,
            "note": str(request.POST.get("note") or "")[:200] if request.method == "POST" else "",
        },
        status=status,
    )


@console_view(perms.ONLINE_MALL_ARBITRATE)
def online_return(request: HttpRequest, request_id: int) -> HttpResponse:
    """GET: the request; POST `decision` = refund | close with a `note`."""
    if request.method != "POST":
        return _page(request, request_id)
    group_id = selectors_orders.return_group_id(request_id=request_id)
    if group_id is None:
        raise Http404("return")
    g = group_context(request, group_id=group_id)
    decision = str(request.POST.get("decision") or "")
    if decision not in ("refund", "close"):
        return _page(request, request_id, error=_("Choose to refund or to close."), status=400)
    try:
        done = after_sales.after_sale_arbitrate(
            mall_group_id=g.id,
            request_id=request_id,
            refund=decision == "refund",
            actor=actor_for(request),
            note=str(request.POST.get("note") or "")[:200],
        )
    except ApplicationError as exc:
        message = next(iter(exc.fields.values()), exc.message)
        return _page(request, request_id, error=str(message), status=exc.status if exc.status < 500 else 400)
    if done.state == ReturnState.REFUNDED:
        messages.success(request, _("Refunded: the member gets the money and points back."))
    else:
        messages.success(request, _("Closed."))
    return redirect("console:online_return", request_id)
