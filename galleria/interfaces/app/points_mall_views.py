"""The points mall in the member app (docs/points-mall.md, "Member app"): the shop (categories, item cards with the
points price, cash, stock left and a tier-only badge), an item's page with its limits explained, the exchange's
confirmation (balance check, how to receive it, how to pay the cash part), the gateway's return page, my exchanges
with the pickup code as a QR, an order's page and cancelling it.

Everything is galleria.commerce's (selectors.availability, services.points_mall_exchange, services_gateway): these
views show it and translate problem codes. The cash part is paid from the wallet at once, or by WeChat Pay / Alipay
(those the group configured, as pay at store): the member goes to the cashier and comes back to
`points_mall_payment`, which asks the gateway while the notification is late, then shows the order. Every form
carries a random key, so a double tap makes one order. An order that is not the member's looks like none."""

from __future__ import annotations

import dataclasses
import re
import secrets
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.commerce import rules, selectors, services, services_gateway
from galleria.commerce.services import ExchangeIn
from galleria.commerce.types import Fulfilment, OrderState
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.points_mall_ui import card_of, image_url, problem_text, state_label
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payments
from galleria.payments.types import AttemptState, Purpose
from galleria.payments.types import Fulfilment as PaymentFulfilment
from galleria.points.selectors import points_balance
from galleria.tiers.selectors import member_tier
from galleria.wallet.selectors import wallet_balance

from .pay_flow import PROVIDER_LABELS, pay_device, pay_kind_for, redirect_url
from .views import _actor, _base_context, member_view

KEY_PATTERN = r"^[A-Za-z0-9_-]{16,40}$"
ORDERS_PAGE = 20
IMAGE_MAX_AGE = 365 * 24 * 3600


def _available(product: Any, member: Any, mall: Any) -> Any:
    sku = selectors.sku_of(product)
    tier = member_tier(member_id=member.pk, mall_group_id=mall.group_id)
    return sku, selectors.availability(
        product=product,
        sku=sku,
        member_id=member.pk,
        member_rank=tier.rank,
        at=timeutil.now(),
        tz_name=selectors.shop_tz(mall_group_id=mall.group_id),
    )


# ---------------------------------------------------------------- the shop


@never_cache
@require_GET
@member_view
def points_mall(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    settings = selectors.settings_get(mall_group_id=mall.group_id)
    categories = list(selectors.categories(mall_group_id=mall.group_id))
    raw = str(request.GET.get("c") or "")
    chosen = int(raw) if raw.isdigit() and len(raw) < 12 and any(c.pk == int(raw) for c in categories) else None
    products = selectors.products_on_sale(mall_group_id=mall.group_id, at=timeutil.now(), category_id=chosen)
    cards = [card_of(p, selectors.sku_of(p)) for p in products] if selectors.is_open(settings) else []
    return render(
        request,
        "app/points_mall/home.html",
        {
            **_base_context(mall, member),
            "open": selectors.is_open(settings),
            "categories": categories,
            "chosen": chosen,
            "cards": cards,
            "balance": points_balance(member_id=member.pk),
        },
    )


def _product_or_none(mall: Any, product_id: int) -> Any:
    product = selectors.product_get(mall_group_id=mall.group_id, product_id=product_id)
    if product is None or product.status == "draft":
        return None
    return product


@never_cache
@require_GET
@member_view
def points_mall_item(request: HttpRequest, member: Any, mall: Any, product_id: int) -> HttpResponse:
    product = _product_or_none(mall, product_id)
    if product is None:
        messages.error(request, problem_text("commerce.not_found"))
        return redirect("app:points_mall")
    sku, available = _available(product, member, mall)
    settings = selectors.settings_get(mall_group_id=mall.group_id)
    return render(
        request,
        "app/points_mall/item.html",
        {
            **_base_context(mall, member),
            "product": product,
            "card": card_of(product, sku),
            "available": available,
            "problem": problem_text(available.problem) if available.problem else "",
            "balance": points_balance(member_id=member.pk),
            "settings": settings,
            "fulfilments": rules.fulfilments(
                kind=product.kind, allow_pickup=product.allow_pickup, allow_delivery=product.allow_delivery
            ),
        },
    )


# ---------------------------------------------------------------- the exchange


class ExchangeForm(forms.Form):
    key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)
    unit_points = forms.IntegerField(min_value=0, max_value=100_000_000, widget=forms.HiddenInput)
    unit_fen = forms.IntegerField(min_value=0, max_value=100_000_000, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=rules.MAX_QUANTITY, initial=1)
    fulfilment = forms.ChoiceField(choices=Fulfilment.choices)
    method = forms.ChoiceField(
        choices=[("wallet", "wallet"), ("wechat", "wechat"), ("alipay", "alipay")], required=False
    )
    ship_name = forms.CharField(max_length=40, required=False)
    ship_phone = forms.CharField(max_length=20, required=False)
    ship_address = forms.CharField(max_length=200, required=False)


def _exchange_render(
    request: HttpRequest, member: Any, mall: Any, product: Any, *, form: ExchangeForm | None, status: int = 200
) -> HttpResponse:
    sku, available = _available(product, member, mall)
    providers = payment_selectors.providers_available(mall_group_id=mall.group_id)
    fulfilments = rules.fulfilments(
        kind=product.kind, allow_pickup=product.allow_pickup, allow_delivery=product.allow_delivery
    )
    data: Any = form.data if form is not None else {}
    quantity = str(data.get("quantity") or "1")
    qty = int(quantity) if quantity.isdigit() and 1 <= int(quantity) <= rules.MAX_QUANTITY else 1
    wallet_fen = wallet_balance(member_id=member.pk).total_fen
    method = str(data.get("method") or "")
    cash = (sku.price_fen if sku else 0) * qty
    if method not in ("wallet", *providers):
        method = "wallet" if wallet_fen >= cash or not providers else providers[0]
    balance = points_balance(member_id=member.pk)
    points = (sku.price_points if sku else 0) * qty
    return render(
        request,
        "app/points_mall/exchange.html",
        {
            **_base_context(mall, member),
            "product": product,
            "sku": sku,
            "card": card_of(product, sku),
            "available": available,
            "problem": problem_text(available.problem) if available.problem else "",
            "form": form,
            "form_key": (data.get("key") if form is not None else "") or secrets.token_urlsafe(18),
            "quantity": qty,
            "quantities": range(1, max(available.max_quantity, 1) + 1),
            "fulfilments": [(f, Fulfilment(f).label) for f in fulfilments],
            "fulfilment": str(data.get("fulfilment") or (fulfilments[0] if fulfilments else "")),
            "providers": [(p, PROVIDER_LABELS[p]) for p in providers],
            "method": method,
            "balance": balance,
            "points": points,
            "cash_fen": cash,
            "wallet_fen": wallet_fen,
            "short_points": max(points - balance, 0),
            "settings": selectors.settings_get(mall_group_id=mall.group_id),
        },
        status=status,
    )


@never_cache
@member_view
def points_mall_exchange(request: HttpRequest, member: Any, mall: Any, product_id: int) -> HttpResponse:
    """Confirm an exchange (GET) and make it (POST): points, and the cash part from the wallet or at a gateway."""
    product = _product_or_none(mall, product_id)
    if product is None:
        messages.error(request, problem_text("commerce.not_found"))
        return redirect("app:points_mall")
    if request.method != "POST":
        return _exchange_render(request, member, mall, product, form=None)
    form = ExchangeForm(request.POST)
    key = str(request.POST.get("key") or "")
    if re.fullmatch(KEY_PATTERN, key):  # the same form sent again (a double tap, a reload): its order
        done = selectors.order_by_key(member_id=member.pk, key=key)
        if done is not None:
            return redirect("app:points_mall_order", order_id=done.pk)
        started = payment_selectors.member_attempt(member_id=member.pk, key=key)
        if started is not None and started.purpose == Purpose.EXCHANGE:
            return redirect("app:points_mall_payment", key=key)
    if not form.is_valid():
        if "key" in form.errors or "unit_points" in form.errors:
            form.add_error(None, _("This form has expired. Please check and confirm again."))
        return _exchange_render(request, member, mall, product, form=form, status=422)
    d = form.cleaned_data
    address = None
    if d["fulfilment"] == Fulfilment.DELIVERY:
        address, errors = rules.clean_address(name=d["ship_name"], phone=d["ship_phone"], address=d["ship_address"])
        for name, message in errors.items():
            form.add_error(name, message)
        if errors:
            return _exchange_render(request, member, mall, product, form=form, status=422)
    data = ExchangeIn(
        member_id=member.pk,
        mall_group_id=mall.group_id,
        product_id=product.pk,
        quantity=d["quantity"],
        fulfilment=d["fulfilment"],
        unit_points=d["unit_points"],
        unit_fen=d["unit_fen"],
        address=address,
    )
    method = d.get("method") or "wallet"
    if d["unit_fen"] and method in ("wechat", "alipay"):
        return _exchange_by_gateway(request, member, mall, product, form=form, data=data, key=key, method=method)
    try:
        order = services.points_mall_exchange(data, key=key, actor=_actor(request, member))
    except ApplicationError as exc:
        done = selectors.order_by_key(member_id=member.pk, key=key)
        if done is not None:  # a second tap overtook the first
            return redirect("app:points_mall_order", order_id=done.pk)
        form.add_error(None, problem_text(exc.code, exc.message))
        return _exchange_render(request, member, mall, product, form=form, status=422)
    messages.success(request, _("Exchanged! Your order is below."))
    return redirect("app:points_mall_order", order_id=order.pk)


def _exchange_by_gateway(
    request: HttpRequest,
    member: Any,
    mall: Any,
    product: Any,
    *,
    form: ExchangeForm,
    data: ExchangeIn,
    key: str,
    method: str,
) -> HttpResponse:
    if method not in payment_selectors.providers_available(mall_group_id=mall.group_id):
        form.add_error("method", problem_text("payments.provider_not_configured"))
        return _exchange_render(request, member, mall, product, form=form, status=422)
    device = pay_device(request, member_id=member.pk, key=key)
    device = dataclasses.replace(
        device, return_url=request.build_absolute_uri(reverse("app:points_mall_payment", args=[key]))
    )
    try:
        services_gateway.exchange_pay_start(
            data,
            provider=method,
            kind=pay_kind_for(method, device),
            key=key,
            actor=_actor(request, member),
            payer=device.openid,
            client_ip=device.client_ip,
            return_url=device.return_url,
        )
    except ApplicationError as exc:
        form.add_error(None, problem_text(exc.code, exc.message))
        return _exchange_render(request, member, mall, product, form=form, status=422)
    return redirect(reverse("app:points_mall_payment", args=[key]) + "?go=1")


def _gateway_context(member: Any, key: str) -> dict[str, Any] | None:
    if not re.fullmatch(KEY_PATTERN, key):
        return None
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    if attempt is None or attempt.purpose != Purpose.EXCHANGE:
        return None
    if attempt.state in (AttemptState.PAYING, AttemptState.CREATED):
        payments.attempt_sync(attempt_id=attempt.pk)
        attempt.refresh_from_db()
    waiting = attempt.state in (AttemptState.PAYING, AttemptState.CREATED)
    order = None
    if attempt.fulfilment == PaymentFulfilment.DONE:
        order = selectors.order_by_gateway(out_trade_no=attempt.out_trade_no)
    return {
        "attempt": attempt,
        "key": key,
        "waiting": waiting,
        "order": order,
        "refunded": attempt.fulfilment == PaymentFulfilment.REFUNDED,
        "failure_text": problem_text(attempt.failure) if attempt.failure else "",
        "product_id": attempt.order.get("product_id"),
        "provider_label": PROVIDER_LABELS.get(attempt.provider, attempt.provider),
        "pay_url": redirect_url(pay_kind=attempt.pay_kind, payload=attempt.start_payload) if waiting else None,
        "jsapi": dict(attempt.start_payload) if waiting and attempt.pay_kind == "jsapi" else None,
    }


@never_cache
@require_GET
@member_view
def points_mall_payment(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    ctx = _gateway_context(member, key)
    if ctx is None:
        messages.error(request, _("No such payment."))
        return redirect("app:points_mall_orders")
    if ctx["order"] is not None:
        return redirect("app:points_mall_order", order_id=ctx["order"].pk)
    go = request.GET.get("go") == "1" and bool(ctx["pay_url"])
    return render(request, "app/points_mall/payment.html", {**_base_context(mall, member), **ctx, "go": go})


@never_cache
@require_GET
@member_view
def points_mall_payment_state(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    ctx = _gateway_context(member, key)
    if ctx is None:
        return HttpResponse(status=404)
    response = render(request, "app/points_mall/_payment_state.html", ctx)
    if not ctx["waiting"]:
        response["HX-Refresh"] = "true"
    return response


# ---------------------------------------------------------------- my exchanges


def _order_row(order: Any) -> dict[str, Any]:
    line = next(iter(order.lines.all()), None)
    return {
        "order": order,
        "line": line,
        "image": image_url(line.product) if line else "",
        "kind": line.product.kind if line else "gift",
        "state_label": state_label(order.state, order.fulfilment),
    }


@never_cache
@require_GET
@member_view
def points_mall_orders(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    page = Paginator(selectors.member_orders(member_id=member.pk), ORDERS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "app/points_mall/orders.html",
        {**_base_context(mall, member), "rows": [_order_row(o) for o in page], "page_obj": page},
    )


def qr_svg(code: str) -> str:
    qr = segno.make(code, error="m", micro=False)
    return str(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430", title=_("Pickup code")))


@never_cache
@require_GET
@member_view
def points_mall_order(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    order = selectors.member_order(member_id=member.pk, order_id=order_id)
    if order is None:
        messages.error(request, _("This order is not in your account."))
        return redirect("app:points_mall_orders")
    row = _order_row(order)
    line = row["line"]
    cancellable = line is not None and rules.can_cancel(
        state=order.state,
        fulfilment=order.fulfilment,
        by_member=True,
        member_cancellable=line.product.member_cancellable,
    )
    show_code = order.fulfilment == Fulfilment.PICKUP and order.state == OrderState.PAID
    return render(
        request,
        "app/points_mall/order.html",
        {
            **_base_context(mall, member),
            **row,
            "settings": selectors.settings_get(mall_group_id=mall.group_id),
            "show_code": show_code,
            "code_spaced": rules.spaced_code(order.pickup_code),
            "qr_svg": mark_safe(qr_svg(order.pickup_code)) if show_code else "",  # noqa: S308 - segno, digits only
            "cancellable": cancellable,
        },
    )


@require_POST
@member_view
def points_mall_order_cancel(request: HttpRequest, member: Any, mall: Any, order_id: int) -> HttpResponse:
    try:
        order = services.order_cancel(
            order_id=order_id, member_id=member.pk, reason=_("Cancelled by the member"), actor=_actor(request, member)
        )
    except ApplicationError as exc:
        if exc.code == "commerce.order_not_found":
            messages.error(request, _("This order is not in your account."))
            return redirect("app:points_mall_orders")
        messages.error(request, problem_text(exc.code, exc.message))
        return redirect("app:points_mall_order", order_id=order_id)
    messages.success(
        request, _("Cancelled: %(points)s points are back in your account.") % {"points": f"{order.points_returned:,}"}
    )
    return redirect("app:points_mall_order", order_id=order.pk)


# ---------------------------------------------------------------- pictures


@require_GET
def points_mall_image(request: HttpRequest, product_id: int, sha: str) -> HttpResponse:
    """An item's picture. Public (items are public), addressed by id *and* digest so ids cannot be walked; the bytes
    behind a digest never change, so it is cached a year. Served as the JPEG we re-encoded, `nosniff`, sandboxed."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise Http404
    product = selectors.product_by_image(product_id=product_id, sha=sha)
    if product is None:
        raise Http404
    if request.headers.get("If-None-Match") == f'"{sha}"':
        response: HttpResponse = HttpResponseNotModified()
    else:
        data = selectors.image_bytes(product=product)
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="image/jpeg")
    response["ETag"] = f'"{sha}"'
    response["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
