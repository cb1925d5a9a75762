"""The online mall's checkout and payment in the member app (docs/design/online-mall.md §5, §6, §9).

**Checkout** (`mall_checkout`): the cart's buyable lines by shop; per shop pickup store or delivery and its coupon,
one cross-shop coupon, points up to what the quote allows, the quote's figures, how to pay. "Update" quotes again
(no script needed); "Place order" posts the figures shown, and a different amount now (`commerce.price_changed`)
shows the new figures with a note instead of charging them. The form's key makes a double tap place once.

**Payment**: points only (nothing left) and the wallet pay at placement; WeChat Pay (H5, or JSAPI inside WeChat) and
Alipay (WAP) go to the gateway's cashier the way pay-at-store does (pay_flow.py) and come back to the checkout's
page (`mall_checkout_result`), which asks the gateway while the notification is late (polled by htmx, a meta
refresh without script), shows the time left to pay and a cancel button, and the orders once paid."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.commerce import selectors_checkout
from galleria.commerce import selectors_mall_orders as orders_sel
from galleria.commerce import services_checkout as checkout
from galleria.commerce.types import CheckoutState
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payments
from galleria.payments.types import AttemptState
from galleria.points.selectors import points_available
from galleria.wallet.selectors import wallet_balance

from . import mall_checkout_form as form
from .mall_cart import cart_shops
from .pay_flow import PROVIDER_LABELS, pay_device, pay_kind_for, redirect_url
from .views import _actor, _base_context, member_view

GATEWAYS = ("wechat", "alipay")


def _methods(mall: Any, member: Any, rest_fen: int) -> list[dict[str, Any]]:
    """How the rest may be paid: nothing left → points and discounts pay it; else the wallet (when it holds
    enough) and the group's gateways."""
    if rest_fen == 0:
        return [{"value": "points", "label": _("Points and discounts pay it all"), "ok": True, "note": ""}]
    balance = wallet_balance(member_id=member.pk).total_fen
    methods = [
        {
            "value": "wallet",
            "label": PROVIDER_LABELS["wallet"],
            "ok": balance >= rest_fen,
            "note": _("Balance %(amount)s") % {"amount": format_cny(balance)},
        }
    ]
    for provider in payment_selectors.providers_available(mall_group_id=mall.group_id):
        if provider in GATEWAYS:
            methods.append({"value": provider, "label": PROVIDER_LABELS[provider], "ok": True, "note": ""})
    return methods


def _placed(request: HttpRequest, member: Any) -> Any:
    """The checkout this form's key already placed, when the request is a "place order"."""
    if request.method != "POST" or request.POST.get("action") != "place":
        return None
    return selectors_checkout.checkout_by_key(member_id=member.pk, key=str(request.POST.get("key") or "")[:64])


def _page(request: HttpRequest, member: Any, mall: Any, *, first: bool, status: int = 200) -> HttpResponse:
    """Read the form, quote it, and either place the order or show the page again with the figures."""
    done = _placed(request, member)
    if done is not None:  # the same form again (a double tap, a reload): its checkout, placed once
        return redirect("app:mall_checkout_result", number=done.number)
    shops = [s for s in cart_shops(member_id=member.pk, mall_group_id=mall.group_id) if s.ok_lines]
    if not shops:
        done = _placed(request, member)  # the form's other request placed it (and emptied the cart) meanwhile
        if done is not None:
            return redirect("app:mall_checkout_result", number=done.number)
        messages.info(request, _("Nothing in your cart can be bought now."))
        return redirect("app:mall_cart")
    data = request.POST if request.method == "POST" else request.GET
    choices = form.read_choices(data, shops, first=first)
    if first:  # the member's own name and phone to start with (a delivery's receiver may be someone else)
        choices.name = (member.name or "")[:40]
        choices.phone = (member.phone or "").removeprefix("+86")[:20]
    wanted_method = choices.method if choices.method in ("wallet", *GATEWAYS) else ""
    quoted = form.quote(
        member_id=member.pk,
        mall_group_id=mall.group_id,
        shops=shops,
        choices=choices,
        pay_method=wanted_method or "wechat",
    )
    errors = quoted.errors
    q = quoted.quote
    methods = _methods(mall, member, q.rest_fen) if q else []
    usable = [m["value"] for m in methods if m["ok"]]
    method = wanted_method if wanted_method in usable else next((m for m in usable if m in GATEWAYS), "")
    method = "points" if q is not None and q.rest_fen == 0 else (method or (usable[0] if usable else ""))
    if request.method == "POST" and request.POST.get("action") == "place" and q is not None and not errors:
        placed = _place(request, member, mall, shops, choices, method, q.rest_fen)
        if isinstance(placed, HttpResponse):
            return placed
        errors.update(placed)
        status = 409 if "changed" in placed else 422
    elif request.method == "POST" and request.POST.get("action") == "place":
        status = 422
    ctx = {
        **_base_context(mall, member),
        "shops": [_shop_ctx(member, mall, s, choices, q) for s in shops],
        "choices": choices,
        "quote": q,
        "figures": _figures(q) if q else None,
        "dropped": quoted.dropped,
        "errors": errors,
        "delivers": form.delivers(choices),
        "cart_coupons": form.cart_coupons(
            member_id=member.pk, mall_group_id=mall.group_id, shops=shops, choices=choices, pay_method="wechat"
        ),
        "methods": methods,
        "method": method,
        "points_available": points_available(member_id=member.pk),
    }
    return render(request, "app/mall_orders/checkout.html", ctx, status=status)


def _shop_ctx(member: Any, mall: Any, shop: Any, choices: form.Choices, q: Any) -> dict[str, Any]:
    part = next((p for p in q.parts if p.merchant_id == shop.merchant_id), None) if q else None
    return {
        "shop": shop,
        "ways": shop.ways(),
        "way": choices.ways.get(shop.merchant_id, ""),
        "coupons": form.shop_coupons(member_id=member.pk, mall_group_id=mall.group_id, shop=shop),
        "coupon": choices.coupons.get(shop.merchant_id),
        "part": part,
        "discount_text": format_cny(part.discount_fen) if part else "",
        "rest_text": format_cny(part.rest_fen) if part else "",
    }


def _figures(q: Any) -> dict[str, str]:
    return {
        "goods": format_cny(q.goods_fen),
        "discount": format_cny(q.discount_fen),
        "cart_discount": format_cny(q.cart_discount_fen),
        "points_value": format_cny(q.points_value_fen),
        "rest": format_cny(q.rest_fen),
    }


def _place(
    request: HttpRequest, member: Any, mall: Any, shops: list[Any], choices: form.Choices, method: str, rest: int
) -> HttpResponse | dict[str, str]:
    """Place the checkout as shown; pay now, or go on to the gateway. A refusal comes back as {field: message}."""
    if choices.shown_rest is None:
        return {"form": _("Check the figures below, then place the order.")}
    data = form.place_in(
        member_id=member.pk,
        mall_group_id=mall.group_id,
        shops=shops,
        choices=choices,
        pay_method=method,
        rest_fen=choices.shown_rest,
    )
    try:
        placed = checkout.checkout_place(data, key=choices.key, actor=_actor(request, member))
    except ApplicationError as exc:
        if exc.code == "commerce.price_changed":
            return {
                "changed": _(
                    "The total changed to %(amount)s since the page was shown. Check it and place the order again."
                )
                % {"amount": format_cny(rest)}
            }
        return {form.error_field(exc): form.problem_text(exc)}
    result = reverse("app:mall_checkout_result", args=[placed.number])
    if placed.state != CheckoutState.PENDING_PAYMENT:
        if placed.state == CheckoutState.PAID:
            messages.success(request, _("Paid. Your orders are on their way to the shops."))
        return redirect(result)
    return _start_gateway(request, member, placed, placed.pay_method)


def _start_gateway(request: HttpRequest, member: Any, placed: Any, provider: str) -> HttpResponse:
    """Start (or resume) the gateway payment, then our own page sends the browser on to the cashier (a redirect from
    a POST to the gateway's origin would be a form-action the CSP forbids)."""
    result = reverse("app:mall_checkout_result", args=[placed.number])
    device = pay_device(request, member_id=member.pk, key=placed.number)
    try:
        checkout.checkout_pay_start(
            member_id=member.pk,
            checkout_id=placed.pk,
            provider=provider,
            kind=pay_kind_for(provider, device),
            payer=device.openid,
            client_ip=device.client_ip,
            return_url=request.build_absolute_uri(result),
        )
    except ApplicationError as exc:
        messages.error(request, form.problem_text(exc))
        return redirect(result)
    return redirect(result + "?go=1")


@never_cache
@member_view
def mall_checkout(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    return _page(request, member, mall, first=request.method != "POST")


# ------------------------------------------------------------------------------------------------- result


def _attempts(member: Any, number: str) -> list[Any]:
    found = [
        payment_selectors.member_attempt(member_id=member.pk, key=k)
        for k in (number, *(f"{number}:{p}" for p in GATEWAYS))
    ]
    return [a for a in found if a is not None]


def _result_context(member: Any, number: str) -> dict[str, Any] | None:
    found = orders_sel.member_checkout(member_id=member.pk, number=number)
    if found is None:
        return None
    attempts = _attempts(member, number)
    if found.state == CheckoutState.PENDING_PAYMENT:
        for attempt in attempts:
            if attempt.state in (AttemptState.PAYING, AttemptState.CREATED):
                payments.attempt_sync(attempt_id=attempt.pk)  # the notification may be late: ask the gateway
                attempt.refresh_from_db()
        found.refresh_from_db()
    now = timeutil.now()
    pending = found.state == CheckoutState.PENDING_PAYMENT
    waiting = [a for a in attempts if a.state in (AttemptState.PAYING, AttemptState.CREATED)]
    current = next((a for a in waiting if a.provider == found.pay_method), waiting[0] if waiting else None)
    orders = orders_sel.orders_of_checkout(checkout_id=found.pk)
    lines = orders_sel.lines_of(order_ids=[o.pk for o in orders])
    seconds = max(0, int((found.expires_at - now).total_seconds())) if pending else 0
    return {
        "checkout": found,
        "number": number,
        "pending": pending,
        "expired": pending and seconds == 0,
        "seconds_left": seconds,
        "time_left": f"{seconds // 60:02d}:{seconds % 60:02d}",
        "pay_url": redirect_url(pay_kind=current.pay_kind, payload=current.start_payload) if current else None,
        "jsapi": dict(current.start_payload) if current and current.pay_kind == "jsapi" else None,
        "provider_label": PROVIDER_LABELS.get(found.pay_method, ""),
        "rest_text": format_cny(found.gateway_fen + found.wallet_fen),
        "gateways": [(p, PROVIDER_LABELS[p]) for p in GATEWAYS if found.gateway_fen > 0],
        "orders": [{"order": o, "lines": lines.get(o.pk, [])} for o in orders],
        "refunded": any(a.fulfilment == "refunded" for a in attempts),
    }


@never_cache
@require_GET
@member_view
def mall_checkout_result(request: HttpRequest, member: Any, mall: Any, number: str) -> HttpResponse:
    ctx = _result_context(member, number)
    if ctx is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:mall_orders")
    go = request.GET.get("go") == "1" and bool(ctx["pay_url"])
    return render(request, "app/mall_orders/result.html", {**_base_context(mall, member), **ctx, "go": go})


@never_cache
@require_GET
@member_view
def mall_checkout_state(request: HttpRequest, member: Any, mall: Any, number: str) -> HttpResponse:
    """The result page's polled part (htmx): the page reloads itself once the checkout is paid or cancelled."""
    ctx = _result_context(member, number)
    if ctx is None:
        return HttpResponse(status=404)
    response = render(request, "app/mall_orders/_result_state.html", ctx)
    if not ctx["pending"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@member_view
def mall_checkout_pay(request: HttpRequest, member: Any, mall: Any, number: str) -> HttpResponse:
    """Pay a pending checkout (again, or with the other gateway)."""
    found = orders_sel.member_checkout(member_id=member.pk, number=number)
    provider = str(request.POST.get("provider") or "")
    if found is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:mall_orders")
    if provider not in GATEWAYS:
        return redirect("app:mall_checkout_result", number=number)
    return _start_gateway(request, member, found, provider)


@require_POST
@member_view
def mall_checkout_cancel(request: HttpRequest, member: Any, mall: Any, number: str) -> HttpResponse:
    """Cancel a checkout not paid yet: points, coupons and stock are released; nothing was charged."""
    found = orders_sel.member_checkout(member_id=member.pk, number=number)
    if found is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:mall_orders")
    try:
        checkout.checkout_cancel(member_id=member.pk, checkout_id=found.pk, actor=_actor(request, member))
    except ApplicationError as exc:
        if exc.code == "commerce.cannot_cancel":
            messages.info(request, _("This order was paid meanwhile, so it was not cancelled."))
        else:
            messages.error(request, form.problem_text(exc))
        return redirect("app:mall_checkout_result", number=number)
    messages.success(request, _("Cancelled. Your points and coupons are back; nothing was charged."))
    return redirect("app:mall_checkout_result", number=number)
