"""Parking in the member app (#16, docs/parking.md): my car (the fee so far with the benefits applied, where the
car is), paying a stay with points and the wallet, past stays with their explanation, the frictionless exit.

The fee, the points usable and the payment are the parking app's (selectors.session_fee, services.pay_quote,
services.parking_pay, services_gateway.parking_pay_start): these views show them and translate their problem codes.
The rest after points is paid from the wallet at once, or by WeChat Pay / Alipay (those the group configured, as on
the pay-at-store page): the member goes to the gateway's cashier and comes back to `parking_payment`, which asks the
gateway (payments.attempt_sync) while the notification is late and then shows the paid stay, or the refund when the
fee stepped up before the money arrived. Like every member-app view these read the member from the session only; a
stay that is not the member's looks exactly like one that does not exist.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.members.selectors import member_plates
from galleria.parking import selectors_app, services, services_gateway
from galleria.parking.types import SessionState
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payments
from galleria.payments.types import AttemptState, Fulfilment, Purpose

from .parking_plate_views import plate_rows
from .pay_flow import PROVIDER_LABELS, pay_device, pay_kind_for, redirect_url
from .presenters import current_tier
from .presenters import parking as present
from .presenters.common import paging_of
from .views import _actor, _base_context, member_view

logger = logging.getLogger(__name__)

HISTORY_PAGE = 20
KEY_PATTERN = r"^[A-Za-z0-9_-]{16,40}$"


def problem_message(exc: ApplicationError) -> str:
    """A service's problem code in the member's words (the service's own message when the code is not listed)."""
    known = {
        "parking.not_found": _("This stay is not in your account."),
        "parking.left": _("This car has already left."),
        "parking.nothing_due": _("Nothing is due for this stay any more."),
        "parking.points_invalid": _("Points pay whole hours of parking. Please choose again."),
        "parking.amount_mismatch": _("The fee changed while you were paying. Please check it and confirm again."),
        "parking.no_store": _("This car park takes no payments in the app. Please pay at the exit."),
        "wallet.insufficient": _("Your wallet does not hold enough. Top it up, or use more points."),
        "ledger.insufficient": _("Your wallet or points balance does not hold enough any more."),
        "points.insufficient": _("You do not have enough points any more. Please choose again."),
        "parking.gateway_nothing_left": _("Your points pay it all: choose the wallet to confirm."),
        "payments.provider_not_configured": _("This way of paying is not available now. Please choose another."),
        "payments.gateway_unavailable": _("The payment service did not answer. Please try again in a moment."),
        "payments.gateway_refused": _("The payment service refused this payment. Nothing was charged."),
        "payments.idempotency_conflict": _("This form has expired. Please check the amount and confirm again."),
    }
    return known.get(exc.code) or str(exc.message)


def _tier_name(member: Any) -> str:
    return current_tier(member=member).name


# ---------------------------------------------------------------- my car


@never_cache
@require_GET
@member_view
def parking(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    now = timeutil.now()
    cars = present.my_cars(member=member, mall_group_id=mall.group_id, at=now, tier_name=_tier_name(member))
    plates = plate_rows(member.pk)
    spaces = selectors_app.free_spaces(mall_id=mall.pk, at=now)
    auto_since = selectors_app.auto_pay_since(member_id=member.pk)
    ctx = {
        **_base_context(mall, member),
        "cars": cars,
        "plates": plates,
        "verified_plates": any(p["is_verified"] for p in plates),
        "spaces": spaces,
        "auto_pay": auto_since is not None,
        "auto_pay_since": auto_since,
        "caps": sorted({(s.name, s.auto_pay_cap_fen) for s in spaces if s.takes_app_payments}),
    }
    return render(request, "app/parking/home.html", ctx)


# ---------------------------------------------------------------- paying


class ParkingPayForm(forms.Form):
    hours = forms.IntegerField(
        min_value=0,
        max_value=10_000,
        error_messages={"required": gettext_lazy("Choose how many hours your points pay.")},
    )
    key = forms.RegexField(regex=KEY_PATTERN)
    due = forms.IntegerField(min_value=0)
    method = forms.ChoiceField(
        choices=[("wallet", "wallet"), ("wechat", "wechat"), ("alipay", "alipay")],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose how to pay the rest.")},
    )


def _coupon_ids(data: Any) -> list[int]:
    """The parking coupons chosen on the pay page (`coupon` values; anything that is not an id is ignored)."""
    return [int(v) for v in data.getlist("coupon")[:20] if str(v).isdigit() and len(str(v)) < 19]


def _pay_render(
    request: HttpRequest,
    member: Any,
    mall: Any,
    page: present.PayPage,
    *,
    form: ParkingPayForm | None = None,
    key: str = "",
    hours: int | None = None,
    status: int = 200,
) -> HttpResponse:
    chosen = hours if hours is not None and page.option(hours) is not None else page.max_hours
    providers = _providers(mall)
    method = (form.data.get("method") if form is not None else "") or ""
    ctx = {
        **_base_context(mall, member),
        "page": page,
        "card": page.card,
        "form": form,
        "form_key": key or secrets.token_urlsafe(18),
        "chosen": chosen,
        "providers": [(p, PROVIDER_LABELS[p]) for p in providers],
        "method": method
        if method in (*providers, "wallet")
        else ("wallet" if page.any_affordable or not providers else providers[0]),
    }
    return render(request, "app/parking/pay.html", ctx, status=status)


def _providers(mall: Any) -> list[str]:
    """The gateways the group takes (an active credential each), WeChat Pay first — as the pay-at-store page."""
    return payment_selectors.providers_available(mall_group_id=mall.group_id)


def _gateway_attempt(member: Any, key: str) -> Any:
    """The parking payment this form already started at a gateway, if any."""
    if not re.fullmatch(KEY_PATTERN, key):
        return None
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    return attempt if attempt is not None and attempt.purpose == Purpose.PARKING else None


def _payment_key(member: Any, key: str) -> str:
    """The form's key, scoped to the member (the car-park system's and the frictionless exit's keys differ)."""
    return f"app:{member.pk}:{key}"


def _paid_with(member: Any, session_id: int, key: str) -> Any:
    """The payment this form already made for this stay, if any."""
    if not re.fullmatch(KEY_PATTERN, key):
        return None
    done = selectors_app.payment_by_key(key=_payment_key(member, key))
    return done if done is not None and done.session_id == session_id else None


@never_cache
@member_view
def parking_pay(request: HttpRequest, member: Any, mall: Any, session_id: int) -> HttpResponse:
    """Pay what is due now: whole hours of points (0 up to what `pay_quote` allows), the rest from the wallet."""
    session = selectors_app.member_session(member_id=member.pk, mall_group_id=mall.group_id, session_id=session_id)
    if session is None:
        messages.error(request, _("This stay is not in your account."))
        return redirect("app:parking")
    if request.method == "POST":  # the same form sent again (a double tap, a reload): its payment
        done = _paid_with(member, session.pk, str(request.POST.get("key") or ""))
        if done is not None:
            return redirect("app:parking_paid", payment_id=done.pk)
        started = _gateway_attempt(member, str(request.POST.get("key") or ""))
        if started is not None and started.order.get("session_id") == session.pk:
            return redirect("app:parking_payment", key=started.idempotency_key)
    if session.state != SessionState.PARKED:
        messages.info(request, _("This car has already left."))
        return redirect("app:parking_stay", session_id=session.pk)
    now = timeutil.now()
    wanted = _coupon_ids(request.POST if request.method == "POST" else request.GET)
    page = present.pay_page(session, member=member, at=now, tier_name=_tier_name(member), coupon_ids=wanted)
    if page.card.fee_error:
        messages.error(request, _("The fee of this stay cannot be worked out right now. Please pay at the exit."))
        return redirect("app:parking")
    if page.card.due_fen <= 0:
        messages.info(request, _("Nothing is due for this stay now."))
        return redirect("app:parking")
    if not page.card.takes_app_payments:
        messages.error(request, _("This car park takes no payments in the app. Please pay at the exit."))
        return redirect("app:parking")
    if request.method != "POST":
        return _pay_render(request, member, mall, page)

    form = ParkingPayForm(request.POST)
    if not form.is_valid():
        if "key" in form.errors or "due" in form.errors:
            form.add_error(None, _("This form has expired. Please check the amount and confirm again."))
        return _pay_render(request, member, mall, page, form=form, status=422)
    key, hours = form.cleaned_data["key"], form.cleaned_data["hours"]
    method = form.cleaned_data.get("method") or "wallet"
    option = page.option(hours)
    by_gateway = method != "wallet" and option is not None and option.wallet_fen > 0  # else nothing is left for it
    if len(page.coupon_ids) != len(set(wanted)):
        form.add_error(None, _("A coupon you chose cannot be used now. Please check and confirm again."))
    elif form.cleaned_data["due"] != page.due_fen:
        form.add_error(
            None,
            _("The fee is now %(amount)s (the parking time went on). Please check and confirm again.")
            % {"amount": format_cny(page.due_fen)},
        )
    elif option is None:
        form.add_error(
            "hours",
            ngettext(
                "Points pay at most %(n)s hour of this stay.",
                "Points pay at most %(n)s hours of this stay.",
                page.max_hours,
            )
            % {"n": page.max_hours},
        )
    elif by_gateway and method not in _providers(mall):
        form.add_error("method", _("This way of paying is not available now. Please choose another."))
    elif not by_gateway and not option.affordable:
        form.add_error(
            None,
            _("Your wallet holds %(balance)s, not enough for the %(rest)s left to pay.")
            % {"balance": format_cny(page.wallet_fen), "rest": format_cny(option.wallet_fen)},
        )
    if form.errors:
        return _pay_render(request, member, mall, page, form=form, key=key, hours=hours, status=422)
    assert option is not None
    if by_gateway:
        return _pay_by_gateway(request, member, mall, page, form=form, key=key, method=method, option=option)
    try:
        payment = services.parking_pay(
            session_id=session.pk,
            member_id=member.pk,
            points=option.points,
            key=_payment_key(member, key),
            actor=_actor(request, member),
            at=now,
            coupon_ids=page.coupon_ids,
        )
    except ApplicationError as exc:
        done = _paid_with(member, session.pk, key)
        if done is not None:  # a second click overtook the first
            return redirect("app:parking_paid", payment_id=done.pk)
        form.add_error(None, problem_message(exc))
        return _pay_render(request, member, mall, page, form=form, key=key, hours=hours, status=422)
    return redirect("app:parking_paid", payment_id=payment.pk)


def _pay_by_gateway(
    request: HttpRequest,
    member: Any,
    mall: Any,
    page: present.PayPage,
    *,
    form: ParkingPayForm,
    key: str,
    method: str,
    option: present.PayOption,
) -> HttpResponse:
    """Start the gateway payment of what points leave, then our own page sends the browser on to the cashier (a
    redirect from this POST to the gateway's origin would be a form-action the CSP forbids)."""
    device = pay_device(request, member_id=member.pk, key=key)
    device = dataclasses.replace(
        device, return_url=request.build_absolute_uri(reverse("app:parking_payment", args=[key]))
    )
    try:
        services_gateway.parking_pay_start(
            session_id=page.card.session_id,
            member_id=member.pk,
            points=option.points,
            coupon_ids=page.coupon_ids,
            provider=method,
            kind=pay_kind_for(method, device),
            key=key,
            actor=_actor(request, member),
            payer=device.openid,
            client_ip=device.client_ip,
            return_url=device.return_url,
        )
    except ApplicationError as exc:
        form.add_error(None, problem_message(exc))
        return _pay_render(request, member, mall, page, form=form, key=key, hours=option.hours, status=422)
    return redirect(reverse("app:parking_payment", args=[key]) + "?go=1")


def _gateway_context(member: Any, key: str) -> dict[str, Any] | None:
    """The member's parking payment at a gateway, asked again while it still waits (the notification may be late)."""
    attempt = _gateway_attempt(member, key)
    if attempt is None:
        return None
    if attempt.state in (AttemptState.PAYING, AttemptState.CREATED):
        payments.attempt_sync(attempt_id=attempt.pk)
        attempt.refresh_from_db()
    waiting = attempt.state in (AttemptState.PAYING, AttemptState.CREATED)
    payment = None
    if attempt.fulfilment == Fulfilment.DONE:
        payment = selectors_app.payment_by_key(key=services_gateway.gateway_payment_key(attempt.out_trade_no))
    return {
        "attempt": attempt,
        "key": key,
        "waiting": waiting,
        "payment": payment,
        "refunded": attempt.fulfilment == Fulfilment.REFUNDED,
        "session_id": attempt.order.get("session_id"),
        "provider_label": PROVIDER_LABELS.get(attempt.provider, attempt.provider),
        "pay_url": redirect_url(pay_kind=attempt.pay_kind, payload=attempt.start_payload) if waiting else None,
        "jsapi": dict(attempt.start_payload) if waiting and attempt.pay_kind == "jsapi" else None,
    }


@never_cache
@require_GET
@member_view
def parking_payment(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    """Where the gateway's cashier sends the member back: waiting → the paid stay (leave by …), or the refund."""
    ctx = _gateway_context(member, key)
    if ctx is None:
        messages.error(request, _("No such payment."))
        return redirect("app:parking")
    if ctx["payment"] is not None:
        return redirect("app:parking_paid", payment_id=ctx["payment"].pk)
    go = request.GET.get("go") == "1" and bool(ctx["pay_url"])
    return render(request, "app/parking/payment.html", {**_base_context(mall, member), **ctx, "go": go})


@never_cache
@require_GET
@member_view
def parking_payment_state(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    """The result page's polled part (htmx): the page reloads itself once the gateway has answered."""
    ctx = _gateway_context(member, key)
    if ctx is None:
        return HttpResponse(status=404)
    response = render(request, "app/parking/_payment_state.html", ctx)
    if not ctx["waiting"]:
        response["HX-Refresh"] = "true"
    return response


@never_cache
@require_GET
@member_view
def parking_paid(request: HttpRequest, member: Any, mall: Any, payment_id: int) -> HttpResponse:
    """The result of a payment: paid, leave by HH:MM, the receipt and the bill."""
    payment = selectors_app.member_payment(member_id=member.pk, payment_id=payment_id)
    if payment is None:
        messages.error(request, _("No such payment."))
        return redirect("app:parking")
    session = payment.session
    ctx = {
        **_base_context(mall, member),
        "payment": payment,
        "session": session,
        "plate": present.plate_text(session.plate),
        "is_nev": present.is_new_energy(session.plate),
        "points_fen": payment.amount_fen - payment.wallet_fen - payment.other_fen,
        "gateway_label": _gateway_label(member, payment.reference) if payment.other_fen else "",
        "still_parked": session.state == SessionState.PARKED,
        "leave_by_passed": session.leave_by is not None and session.leave_by < timeutil.now(),
    }
    return render(request, "app/parking/paid.html", ctx)


def _gateway_label(member: Any, out_trade_no: str) -> str:
    attempt = payment_selectors.member_attempt_by_trade_no(member_id=member.pk, out_trade_no=out_trade_no)
    return str(PROVIDER_LABELS.get(attempt.provider, attempt.provider)) if attempt is not None else ""


# ---------------------------------------------------------------- history


@never_cache
@require_GET
@member_view
def parking_history(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    stays = selectors_app.member_past_sessions(member_id=member.pk, mall_group_id=mall.group_id)
    page = Paginator(stays, HISTORY_PAGE).get_page(request.GET.get("page"))
    ctx = {
        **_base_context(mall, member),
        "rows": [present.stay_row(s) for s in page.object_list],
        "paging": paging_of(page),
    }
    return render(request, "app/parking/history.html", ctx)


@never_cache
@require_GET
@member_view
def parking_stay(request: HttpRequest, member: Any, mall: Any, session_id: int) -> HttpResponse:
    session = selectors_app.member_session(member_id=member.pk, mall_group_id=mall.group_id, session_id=session_id)
    if session is None:
        messages.error(request, _("This stay is not in your account."))
        return redirect("app:parking_history")
    if session.state == SessionState.PARKED:
        return redirect("app:parking")
    detail = present.stay_detail(session, member=member)
    return render(request, "app/parking/stay.html", {**_base_context(mall, member), "stay": detail})


# ---------------------------------------------------------------- frictionless exit


@require_POST
@member_view
def parking_auto_pay(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """Turn the frictionless exit on (a verified plate is needed: it charges only a car proved to be the member's)
    or off."""
    enabled = request.POST.get("enabled") == "1"
    target = reverse("app:parking") + "#auto-pay"
    if enabled and not member_plates(member_id=member.pk):
        messages.error(request, _("Bind your plate first: the exit camera recognises your car by its plate."))
        return redirect(target)
    try:
        services.auto_pay_set(member_id=member.pk, enabled=enabled, actor=_actor(request, member))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect(target)
    if enabled:
        messages.success(request, _("Frictionless exit is on."))
    else:
        messages.success(request, _("Frictionless exit is off: pay in the app or at the exit."))
    return redirect(target)
