"""After-sales (售后) and reviews of an online order in the member app (docs/design/online-mall.md §7; docs/online-
mall.md "How an order moves on"): the request form — which items and how many (up to what is still returnable),
refund only or return and refund, a reason — and, on the order's page, withdrawing a request or asking the mall to
decide a rejected one; a review of a received item (1–5 stars, up to 500 characters). The rules and the refund are
galleria.commerce's (services_after_sales, services_reviews, rules_orders); photos are not taken here yet."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.commerce import rules_orders, selectors_orders, services_after_sales, services_reviews
from galleria.commerce import selectors_mall_orders as orders_sel
from galleria.commerce.types import ReturnKind
from galleria.core import timeutil
from galleria.core.errors import ApplicationError

from ..coupon_text import error_text
from .views import _actor, _base_context, member_view


def request_kinds(order: Any) -> list[tuple[str, str]]:
    """The kinds of request the member may open on the order now (none: no after-sales button)."""
    now = timeutil.now()
    return [
        (value, str(label))
        for value, label in ReturnKind.choices
        if not rules_orders.may_request(state=order.state, kind=value, now=now, return_until_at=order.return_until)
    ]


def _units(raw: object) -> int | None:
    text = str(raw or "").strip() or "0"
    return int(text) if text.isdigit() and len(text) < 4 else None


@never_cache
@member_view
def mall_order_after_sale(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    order = orders_sel.member_online_order(member_id=member.pk, order_id=order_id)
    if order is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:mall_orders")
    kinds = request_kinds(order)
    detail = selectors_orders.order_detail(order)
    lines = [v for v in detail.lines if v.returnable > 0]
    if not kinds or not lines:
        messages.error(request, _("This order cannot have an after-sales request now."))
        return redirect("app:mall_order", order_id=order.pk)
    errors: dict[str, str] = {}
    data = request.POST if request.method == "POST" else None
    kind = str(data.get("kind") or "") if data else kinds[0][0]
    reason = str(data.get("reason") or "").strip()[:200] if data else ""
    wanted: dict[int, int] = {}
    if data is not None:
        for view in lines:
            units = _units(data.get(f"qty_{view.line.pk}"))
            if units is None or units > view.returnable:
                errors["lines"] = _("Choose at most the units you can still return.")
            elif units:
                wanted[view.line.pk] = units
        if not wanted and "lines" not in errors:
            errors["lines"] = _("Choose at least one item.")
        if kind not in dict(kinds):
            errors["kind"] = _("Choose what you want.")
        if not reason:
            errors["reason"] = _("Say why.")
        if not errors:
            try:
                services_after_sales.after_sale_request(
                    member_id=member.pk,
                    data=services_after_sales.ReturnIn(order_id=order.pk, kind=kind, lines=wanted, reason=reason),
                    key=str(data.get("key") or "")[:64],
                    actor=_actor(request, member),
                )
            except ApplicationError as exc:
                errors["form"] = error_text(exc)
            else:
                messages.success(request, _("Your request was sent to the shop."))
                return redirect("app:mall_order", order_id=order.pk)
    key = str(data.get("key") or "") if data else ""
    return render(
        request,
        "app/mall_orders/after_sale.html",
        {
            **_base_context(mall, member),
            "order": order,
            "lines": lines,
            "kinds": kinds,
            "kind": kind,
            "reason": reason,
            "reasons": [str(r) for r in rules_orders.RETURN_REASONS],
            "wanted": wanted,
            "errors": errors,
            "key": key if 16 <= len(key) <= 40 and key.isalnum() else uuid.uuid4().hex,
        },
        status=422 if errors else 200,
    )


def _request_action(request: HttpRequest, member: Any, order_id: int, request_id: int, action: Any) -> HttpResponse:
    try:
        action(member_id=member.pk, request_id=request_id, actor=_actor(request, member))
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
    return redirect("app:mall_order", order_id=order_id)


@require_POST
@member_view
def mall_return_withdraw(request: HttpRequest, member: Any, mall: Any, order_id: int, request_id: int) -> HttpResponse:
    return _request_action(request, member, order_id, request_id, services_after_sales.after_sale_withdraw)


@require_POST
@member_view
def mall_return_escalate(request: HttpRequest, member: Any, mall: Any, order_id: int, request_id: int) -> HttpResponse:
    return _request_action(request, member, order_id, request_id, services_after_sales.after_sale_escalate)


@require_POST
@member_view
def mall_line_review(request: HttpRequest, member: Any, mall: Any, order_id: int, line_id: int) -> HttpResponse:
    rating = _units(request.POST.get("rating"))
    try:
        services_reviews.review_create(
            member_id=member.pk,
            order_line_id=line_id,
            rating=rating or 0,
            text=str(request.POST.get("text") or "")[:600],
            is_anonymous=bool(request.POST.get("anonymous")),
            actor=_actor(request, member),
        )
    except ApplicationError as exc:
        messages.error(request, " ".join(str(v) for v in exc.fields.values()) or error_text(exc))
    else:
        messages.success(request, _("Thank you for your review."))
    return redirect("app:mall_order", order_id=order_id)
