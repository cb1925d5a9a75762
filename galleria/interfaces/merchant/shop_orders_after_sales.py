"""Merchant portal: the shop's after-sales queue (docs/design/online-mall.md §7, §9; docs/online-mall.md
"After-sales"). Requests waiting for an answer first, with the time left to answer; a request's page shows the
lines and quantities, the member's reason, and the **refund preview** — the pipeline's own refund run in a
transaction rolled back: the money per payment method, the points given back and the earned points taken back —
then accept (a refund-only request is refunded at once; a return waits for the goods), reject with a reason (the
member may take it to the mall), or "goods received" (refund now, optionally back to stock).

`portal.after_sales` (owners and managers). Another merchant's request reads as absent (404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_orders
from galleria.commerce import services_after_sales as after_sales
from galleria.commerce.types import ReturnState
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of

from .portal import portal_merchant, portal_render, portal_view

PAGE_SIZE = 20
STATE_BADGES: dict[str, str] = {
    ReturnState.REQUESTED: "badge-warn",
    ReturnState.AWAITING_GOODS: "badge-warn",
    ReturnState.ESCALATED: "badge-danger",
    ReturnState.REFUNDED: "badge-ok",
}


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> Any:
    scope = scope_of(request)
    context = {"can_orders": scope.can(perms.PORTAL_ORDERS), "can_after_sales": True, **context}
    return portal_render(
        request, template, context, nav="shop_after_sales", merchant=context.get("merchant"), status=status
    )


def _method_label(method: str) -> str:
    labels = {"wallet": _("Wallet"), "wechat": _("WeChat Pay"), "alipay": _("Alipay")}
    return labels.get(method, method)


@portal_view(perms.PORTAL_AFTER_SALES)
def return_list(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    show_all = request.GET.get("all") == "1"
    qs = selectors_orders.merchant_returns(merchant_id=merchant.pk, open_only=not show_all)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timeutil.now()
    rows = [
        {
            "r": r,
            "badge": STATE_BADGES.get(r.state, ""),
            "state": r.get_state_display(),
            "hours_left": max(0, int((r.respond_by - now).total_seconds() // 3600))
            if r.state == ReturnState.REQUESTED and r.respond_by
            else None,
        }
        for r in page
    ]
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        "merchant/shop/returns.html",
        {
            "merchant": merchant,
            "rows": rows,
            "page_obj": page,
            "query_string": params.urlencode(),
            "show_all": show_all,
        },
    )


def _return_page(
    request: HttpRequest, merchant: Any, request_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    found = selectors_orders.merchant_return_get(merchant_id=merchant.pk, request_id=request_id)
    if found is None:
        raise Http404("return")
    preview, preview_error = None, ""
    if found.state in (ReturnState.REQUESTED, ReturnState.AWAITING_GOODS):
        try:
            preview = after_sales.after_sale_preview(request_id=found.pk, merchant_id=merchant.pk)
        except ApplicationError as exc:
            preview_error = str(exc.message)
    money = [(_method_label(m), amount) for m, amount in (preview.payments.items() if preview else [])]
    return _render(
        request,
        "merchant/shop/return.html",
        {
            "merchant": merchant,
            "rq": found,
            "o": found.order,
            "lines": selectors_orders.return_lines(request_id=found.pk),
            "badge": STATE_BADGES.get(found.state, ""),
            "preview": preview,
            "money": money,
            "preview_error": preview_error,
            "errors": errors or {},
            "note": str(request.POST.get("note") or "") if request.method == "POST" else "",
        },
        status=status,
    )


@portal_view(perms.PORTAL_AFTER_SALES)
def return_page(request: HttpRequest, request_id: int) -> HttpResponse:
    return _return_page(request, portal_merchant(request), request_id)


@require_POST
@portal_view(perms.PORTAL_AFTER_SALES)
def return_action(request: HttpRequest, request_id: int) -> HttpResponse:
    """`action` = accept | reject (with `note`) | receive (with `restock`)."""
    merchant = portal_merchant(request)
    if selectors_orders.merchant_return_get(merchant_id=merchant.pk, request_id=request_id) is None:
        raise Http404("return")
    action = str(request.POST.get("action") or "")
    note = str(request.POST.get("note") or "").strip()[:200]
    actor = actor_for(request)
    try:
        if action == "accept":
            done = after_sales.after_sale_accept(merchant_id=merchant.pk, request_id=request_id, actor=actor, note=note)
        elif action == "reject":
            done = after_sales.after_sale_reject(merchant_id=merchant.pk, request_id=request_id, actor=actor, note=note)
        elif action == "receive":
            done = after_sales.after_sale_receive(
                merchant_id=merchant.pk, request_id=request_id, actor=actor, restock=request.POST.get("restock") == "1"
            )
        else:
            messages.error(request, _("Choose what to do."))
            return redirect("merchant:shop_return", request_id)
    except ApplicationError as exc:
        errors = {k: str(v) for k, v in exc.fields.items()} or {"all": str(exc.message)}
        return _return_page(
            request, merchant, request_id, errors=errors, status=exc.status if exc.status < 500 else 400
        )
    if done.state == ReturnState.REFUNDED:
        messages.success(request, _("Refunded. The member gets the money and points back."))
    elif done.state == ReturnState.AWAITING_GOODS:
        messages.success(request, _("Accepted. Confirm here when the goods come back: the refund is made then."))
    else:
        messages.success(request, _("Rejected. The member can ask the mall to decide."))
    return redirect("merchant:shop_return", request_id)
