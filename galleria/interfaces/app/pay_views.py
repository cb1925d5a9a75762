"""Pay at store in the member app (聚合支付), and the page every gateway payment returns to.

The member opens a shop (by scanning its printed QR, which is this page's URL, or from the list), types the amount,
and sees the checkout's own quote: the best coupons (or the one chosen), points usable within the limits, the tier
discount, what is left to pay and the points it earns. They pay the rest by WeChat Pay, Alipay or the wallet. A
wallet payment (or nothing left to pay) is recorded at once; a gateway payment goes to the gateway's cashier and
comes back to `payment`, which waits for the gateway's word (asking it when the notification is late) and then
shows the e-receipt. Pricing, points and coupons are the pipeline's: nothing here computes them."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError as FormValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny, yuan_to_fen
from galleria.merchants.selectors import store_for_payments, stores_for_payments
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payments
from galleria.payments.types import AttemptState, Fulfilment
from galleria.sales.types import Quote

from ..coupon_text import reason_message
from .pay_flow import PROVIDER_LABELS, PayChoice, parse_coupon_choice, pay_device, pay_kind_for, redirect_url
from .views import _actor, _base_context, member_view

MAX_AMOUNT_YUAN = 50_000


class PayForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
        error_messages={"required": gettext_lazy("Enter the amount the shop asks for.")},
    )
    use_points = forms.BooleanField(label=gettext_lazy("Use my points"), required=False)
    coupon = forms.CharField(required=False, max_length=20)
    method = forms.ChoiceField(
        label=gettext_lazy("Pay with"),
        choices=[("wechat", "wechat"), ("alipay", "alipay"), ("wallet", "wallet")],
        required=False,
    )
    key = forms.CharField(max_length=40, required=False)

    def clean_amount(self) -> int:
        raw = str(self.cleaned_data["amount"]).strip().replace("¥", "").replace(",", "")
        try:
            fen = yuan_to_fen(raw)
        except ApplicationError as exc:
            raise FormValidationError(_("Enter an amount like 128 or 128.50.")) from exc
        if not 0 < fen <= MAX_AMOUNT_YUAN * 100:
            raise FormValidationError(_("Enter an amount between ¥0.01 and ¥50,000."))
        return fen

    def choice(self) -> PayChoice:
        return PayChoice(
            total_fen=self.cleaned_data["amount"],
            use_points=bool(self.cleaned_data.get("use_points")),
            coupon_ids=parse_coupon_choice(self.cleaned_data.get("coupon") or ""),
            method=self.cleaned_data.get("method") or "",
            key=(self.cleaned_data.get("key") or "")[:40],
        )


def _quote(*, member: Any, mall: Any, store_id: int, choice: PayChoice) -> Quote:
    """The checkout's quote for the choice: with points, as many as the rules let this basket use."""
    kwargs: dict[str, Any] = {
        "member_id": member.pk,
        "mall_group_id": mall.group_id,
        "store_id": store_id,
        "total_fen": choice.total_fen,
        "coupon_ids": choice.coupon_ids,
    }
    quote = payments.store_pay_quote(points_to_use=0, **kwargs)
    if choice.use_points and quote.max_points_usable > 0:
        quote = payments.store_pay_quote(points_to_use=quote.max_points_usable, **kwargs)
    return quote


def _points_used(quote: Quote) -> int:
    return quote.max_points_usable if quote.points_value_fen else 0


def _quote_context(quote: Quote) -> dict[str, Any]:
    return {
        "quote": quote,
        "total_text": format_cny(quote.total_fen),
        "discount_text": format_cny(quote.discount_fen),
        "points_value_text": format_cny(quote.points_value_fen),
        "pay_text": format_cny(quote.paid_fen),
        "applied": [(a.name, format_cny(a.discount_fen)) for a in quote.applied],
        "coupon_options": [
            {
                "id": c.coupon_id,
                "name": c.name,
                "ok": c.is_applicable,
                "text": format_cny(c.discount_fen) if c.is_applicable else reason_message(c.reason_code),
            }
            for c in quote.coupons
        ],
    }


def _store_or_none(mall: Any, store_id: int) -> Any:
    return store_for_payments(store_id=store_id, mall_group_id=mall.group_id)


@never_cache
@member_view
def pay_home(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """Pick the shop (or scan its QR with the phone's camera: the QR is the shop's pay page)."""
    query = request.GET.get("q", "").strip()[:40]
    stores = stores_for_payments(mall_group_id=mall.group_id)
    if query:
        stores = stores.filter(merchant__name__icontains=query) | stores.filter(name__icontains=query)
    ctx = {**_base_context(mall, member), "stores": list(stores[:200]), "q": query}
    return render(request, "app/pay/home.html", ctx)


def _pay_page(
    request: HttpRequest, member: Any, mall: Any, store: Any, *, form: PayForm, status: int = 200
) -> HttpResponse:
    ctx = {
        **_base_context(mall, member),
        "store": store,
        "form": form,
        "form_key": form.data.get("key") or uuid.uuid4().hex,
        "providers": [
            (p, PROVIDER_LABELS[p]) for p in payment_selectors.providers_available(mall_group_id=mall.group_id)
        ],
        "wallet_label": PROVIDER_LABELS["wallet"],
    }
    return render(request, "app/pay/store.html", ctx, status=status)


@never_cache
@member_view
def pay_store(request: HttpRequest, member: Any, mall: Any, store_id: int) -> HttpResponse:
    store = _store_or_none(mall, store_id)
    if store is None:
        messages.error(request, _("This shop does not take payments in the app."))
        return redirect("app:pay")
    if request.method != "POST":
        return _pay_page(request, member, mall, store, form=PayForm())
    form = PayForm(request.POST)
    if not form.is_valid():
        return _pay_page(request, member, mall, store, form=form, status=422)
    choice = form.choice()
    if not choice.method or not choice.key:
        form.add_error("method", _("Choose how to pay."))
        return _pay_page(request, member, mall, store, form=form, status=422)
    try:
        return _pay(request, member, mall, store, choice)
    except ApplicationError as exc:
        form.add_error(None, reason_message(exc.code) if exc.code.startswith("coupon.") else str(exc.message))
        return _pay_page(request, member, mall, store, form=form, status=422)


def _pay(request: HttpRequest, member: Any, mall: Any, store: Any, choice: PayChoice) -> HttpResponse:
    quote = _quote(member=member, mall=mall, store_id=store.pk, choice=choice)
    common = {
        "member_id": member.pk,
        "mall_group_id": mall.group_id,
        "store_id": store.pk,
        "total_fen": choice.total_fen,
        "points_to_use": _points_used(quote),
        "coupon_ids": quote.best_coupon_ids,
        "idempotency_key": choice.key,
    }
    if choice.method == "wallet" or quote.paid_fen == 0:
        result = payments.store_pay_direct(
            use_wallet=choice.method == "wallet", actor=_actor(request, member), **common
        )
        messages.success(request, _("Paid. You earned %(n)s points.") % {"n": result.points_earned})
        return redirect("app:bill", sale_id=result.sale_id)
    device = pay_device(request, member_id=member.pk, key=choice.key)
    payments.store_pay_start(
        provider=choice.method,
        kind=pay_kind_for(choice.method, device),
        payer=device.openid,
        client_ip=device.client_ip,
        return_url=device.return_url,
        **common,
    )
    # our own page sends the browser on to the cashier: a redirect from this POST to the gateway's origin would be
    # a form-action the CSP forbids
    return redirect(reverse("app:payment", args=[choice.key]) + "?go=1")


@require_POST
@member_view
def pay_quote(request: HttpRequest, member: Any, mall: Any, store_id: int) -> HttpResponse:
    """The quote panel (htmx): what the member pays and earns for what the form says now."""
    store = _store_or_none(mall, store_id)
    form = PayForm(request.POST)
    ctx: dict[str, Any] = {"store": store}
    if store is not None and form.is_valid():
        try:
            ctx |= _quote_context(_quote(member=member, mall=mall, store_id=store.pk, choice=form.choice()))
        except ApplicationError as exc:
            ctx["error"] = reason_message(exc.code) if exc.code.startswith("coupon.") else str(exc.message)
    elif store is not None and form.data.get("amount"):
        ctx["error"] = " ".join(str(e) for e in form.errors.get("amount", []))
    return render(request, "app/pay/_quote.html", ctx)


def _payment_context(member: Any, key: str) -> dict[str, Any] | None:
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    if attempt is None:
        return None
    if attempt.state in (AttemptState.PAYING, AttemptState.CREATED):
        payments.attempt_sync(attempt_id=attempt.pk)  # the notification may be late: ask the gateway
        attempt.refresh_from_db()
    waiting = attempt.state in (AttemptState.PAYING, AttemptState.CREATED)
    return {
        "attempt": attempt,
        "key": key,
        "waiting": waiting,
        "done": attempt.fulfilment == Fulfilment.DONE,
        "refunded": attempt.fulfilment == Fulfilment.REFUNDED,
        "amount_text": format_cny(attempt.amount_fen),
        "bonus_text": format_cny(attempt.topup.bonus_fen)
        if attempt.topup is not None and attempt.topup.bonus_fen
        else "",
        "provider_label": PROVIDER_LABELS.get(attempt.provider, attempt.provider),
        "pay_url": redirect_url(pay_kind=attempt.pay_kind, payload=attempt.start_payload) if waiting else None,
        "jsapi": dict(attempt.start_payload) if waiting and attempt.pay_kind == "jsapi" else None,
    }


@never_cache
@member_view
def payment(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    """Where the gateway's cashier sends the member back: waiting → paid (e-receipt) or closed."""
    ctx = _payment_context(member, key)
    if ctx is None:
        messages.error(request, _("No such payment."))
        return redirect("app:home")
    attempt = ctx["attempt"]
    if ctx["done"] and attempt.sale_id:
        return redirect("app:bill", sale_id=attempt.sale_id)
    go = request.GET.get("go") == "1" and bool(ctx["pay_url"])
    return render(request, "app/pay/payment.html", {**_base_context(mall, member), **ctx, "go": go})


@never_cache
@member_view
def payment_state(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    """The payment page's polled part (htmx): the page reloads itself once the payment is settled."""
    ctx = _payment_context(member, key)
    if ctx is None:
        return HttpResponse(status=404)
    response = render(request, "app/pay/_payment_state.html", ctx)
    if not ctx["waiting"]:
        response["HX-Refresh"] = "true"
    return response
