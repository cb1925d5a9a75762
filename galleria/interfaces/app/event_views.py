"""Events in the member app (docs/events.md, "Member app"): upcoming events, an event's page with the registration
form (seats, errors inline), my tickets, a ticket with its QR code for the check-in desk, the waiting-list position,
confirming an offered seat and cancelling. Everything is galleria.events' — these views show it. Every form carries
a random key, so a double tap makes one registration. A ticket that is not the member's looks like none."""

from __future__ import annotations

import re
import secrets
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.events import rules, selectors, services, services_gateway
from galleria.events.types import EventStatus, RegistrationState
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payments
from galleria.payments.types import AttemptState, Purpose
from galleria.payments.types import Fulfilment as PaymentFulfilment
from galleria.points.selectors import points_balance

from .pay_flow import PROVIDER_LABELS, pay_device, pay_kind_for, redirect_url
from .views import _actor, _base_context, member_view

KEY_PATTERN = r"^[A-Za-z0-9_-]{16,40}$"
POSTER_MAX_AGE = 365 * 24 * 3600


PAY_KEY_PATTERN = r"^ev[0-9]{1,12}-(wechat|alipay)-[a-z0-9_]{1,12}$"
PAY_METHODS = (("wechat", "wechat"), ("alipay", "alipay"))


class RegisterForm(forms.Form):
    key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)
    seats = forms.IntegerField(min_value=1, max_value=rules.MAX_SEATS_PER_MEMBER, initial=1)
    method = forms.ChoiceField(choices=PAY_METHODS, required=False)


class PayForm(forms.Form):
    method = forms.ChoiceField(choices=PAY_METHODS)


def _event_or_none(mall: Any, event_id: int) -> Any:
    event = selectors.event_get(mall_group_id=mall.group_id, event_id=event_id)
    return None if event is None or event.status == EventStatus.DRAFT else event


@never_cache
@require_GET
@member_view
def events(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    rows = list(selectors.events_for_members(mall_group_id=mall.group_id, at=timeutil.now())[:50])
    return render(request, "app/events/list.html", {**_base_context(mall, member), "events": rows})


def _raw_answers(request: HttpRequest, questions: list[Any]) -> dict[str, list[str]]:
    return {f"q{q.question_id}": request.POST.getlist(f"q{q.question_id}")[:20] for q in questions}


def _event_page(
    request: HttpRequest,
    member: Any,
    mall: Any,
    event: Any,
    form: Any = None,
    status: int = 200,
    answer_errors: dict[str, str] | None = None,
) -> HttpResponse:
    now = timeutil.now()
    given = _raw_answers(request, selectors.question_specs(event_id=event.pk)) if request.method == "POST" else {}
    questions = [
        {
            "q": q,
            "name": f"q{q.question_id}",
            "values": given.get(f"q{q.question_id}", []),
            "error": (answer_errors or {}).get(f"q{q.question_id}", ""),
        }
        for q in selectors.question_specs(event_id=event.pk)
    ]
    live = selectors.live_registration(event_id=event.pk, member_id=member.pk)
    data: Any = form.data if form is not None else {}
    return render(
        request,
        "app/events/detail.html",
        {
            **_base_context(mall, member),
            "event": event,
            "live": live,
            "position": selectors.waiting_position(registration=live) if live is not None else 0,
            "is_open": event.status == EventStatus.PUBLISHED
            and rules.registration_open(
                opens_at=event.registration_opens_at,
                closes_at=event.registration_closes_at,
                starts_at=event.starts_at,
                at=now,
            ),
            "seats_left": max(event.capacity - event.seats_taken, 0),
            "seat_choices": range(1, event.per_member_limit + 1),
            "form": form,
            "form_key": (data.get("key") if form is not None else "") or secrets.token_urlsafe(18),
            "balance": points_balance(member_id=member.pk) if event.price_points else 0,
            "providers": _providers(mall) if event.price_fen else [],
            "questions": questions,
        },
        status=status,
    )


@never_cache
@member_view
def event_detail(request: HttpRequest, member: Any, mall: Any, event_id: int) -> HttpResponse:
    """An event (GET) and registering for it (POST)."""
    event = _event_or_none(mall, event_id)
    if event is None:
        messages.error(request, _("No such event."))
        return redirect("app:events")
    if request.method != "POST":
        return _event_page(request, member, mall, event)
    form = RegisterForm(request.POST)
    if not form.is_valid():
        if "key" in form.errors:
            form.add_error(None, _("This form has expired. Please check and confirm again."))
        return _event_page(request, member, mall, event, form=form, status=422)
    key = form.cleaned_data["key"]
    try:
        reg = services.register(
            mall_group_id=mall.group_id,
            event_id=event.pk,
            member_id=member.pk,
            seats=form.cleaned_data["seats"],
            key=key,
            actor=_actor(request, member),
            answers=_raw_answers(request, selectors.question_specs(event_id=event.pk)),
        )
    except ApplicationError as exc:
        done = selectors.registration_by_key(member_id=member.pk, key=key)
        if done is not None:
            return redirect("app:event_ticket", registration_id=done.pk)
        if exc.code == "events.answers_invalid":
            form.add_error(None, str(exc.message))
            return _event_page(
                request,
                member,
                mall,
                event,
                form=form,
                status=422,
                answer_errors={k: str(v) for k, v in exc.fields.items()},
            )
        form.add_error("seats" if "seats" in exc.fields else None, str(exc.message))
        return _event_page(request, member, mall, event, form=form, status=422)
    if reg.state == RegistrationState.PAYING:
        method = form.cleaned_data.get("method") or ""
        return _pay(request, member, mall, reg.pk, method)
    if reg.state == RegistrationState.WAITING:
        messages.info(
            request, _("The event is full: you are on the waiting list. We will message you if a seat frees.")
        )
    else:
        messages.success(request, _("You are registered. Show this ticket at the entrance."))
    return redirect("app:event_ticket", registration_id=reg.pk)


@never_cache
@require_GET
@member_view
def tickets(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    rows = list(selectors.member_tickets(member_id=member.pk)[:100])
    return render(request, "app/events/tickets.html", {**_base_context(mall, member), "rows": rows})


def qr_svg(code: str) -> str:
    qr = segno.make(f"EV{code}", error="m", micro=False)
    return str(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430", title=_("Ticket code")))


@never_cache
@require_GET
@member_view
def ticket(request: HttpRequest, member: Any, mall: Any, registration_id: int) -> HttpResponse:
    reg = selectors.member_registration(member_id=member.pk, registration_id=registration_id)
    if reg is None:
        messages.error(request, _("This ticket is not in your account."))
        return redirect("app:event_tickets")
    event = reg.event
    show_code = reg.state in (RegistrationState.CONFIRMED, RegistrationState.CHECKED_IN)
    now = timeutil.now()
    hours = event.cancel_hours_before if reg.state == RegistrationState.CONFIRMED else 0
    cancellable = reg.state in (
        RegistrationState.PAYING,
        RegistrationState.CONFIRMED,
        RegistrationState.WAITING,
        RegistrationState.OFFERED,
    ) and rules.can_member_cancel(starts_at=event.starts_at, cancel_hours_before=hours, at=now)
    return render(
        request,
        "app/events/ticket.html",
        {
            **_base_context(mall, member),
            "reg": reg,
            "event": event,
            "show_code": show_code,
            "code_spaced": rules.spaced_code(reg.code),
            "qr_svg": mark_safe(qr_svg(reg.code)) if show_code else "",  # noqa: S308 - segno, digits only
            "position": selectors.waiting_position(registration=reg),
            "cancellable": cancellable,
            "can_confirm": reg.state == RegistrationState.OFFERED
            and not event.price_fen
            and (reg.offer_expires_at is None or now <= reg.offer_expires_at),
            "can_pay": bool(event.price_fen) and _payable(reg, now),
            "providers": _providers(mall) if event.price_fen else [],
            "amount_fen": event.price_fen * reg.seats,
        },
    )


def _payable(reg: Any, now: Any) -> bool:
    if reg.state == RegistrationState.PAYING:
        return reg.pay_expires_at is not None and now < reg.pay_expires_at
    return reg.state == RegistrationState.OFFERED and (reg.offer_expires_at is None or now <= reg.offer_expires_at)


def _providers(mall: Any) -> list[tuple[str, str]]:
    return [(p, str(PROVIDER_LABELS[p])) for p in payment_selectors.providers_available(mall_group_id=mall.group_id)]


def _pay(request: HttpRequest, member: Any, mall: Any, registration_id: int, method: str) -> HttpResponse:
    """Start paying a held or offered seat at `method`, then off to the gateway's cashier (through the payment
    page, which comes back here and waits for the money)."""
    if selectors.member_registration(member_id=member.pk, registration_id=registration_id) is None:
        messages.error(request, _("This ticket is not in your account."))
        return redirect("app:event_tickets")
    if method not in payment_selectors.providers_available(mall_group_id=mall.group_id):
        messages.error(request, _("Choose WeChat Pay or Alipay to pay for your seat."))
        return redirect("app:event_ticket", registration_id=registration_id)
    device = pay_device(request, member_id=member.pk, key=f"ev{registration_id}")
    kind = pay_kind_for(method, device)
    key = services_gateway.pay_key(registration_id=registration_id, provider=method, kind=kind)
    return_url = request.build_absolute_uri(reverse("app:event_payment", args=[key]))
    try:
        services_gateway.registration_pay_start(
            registration_id=registration_id,
            member_id=member.pk,
            provider=method,
            kind=kind,
            actor=_actor(request, member),
            payer=device.openid,
            client_ip=device.client_ip,
            return_url=return_url,
        )
    except ApplicationError as exc:
        if exc.code == "events.registration_not_found":
            messages.error(request, _("This ticket is not in your account."))
            return redirect("app:event_tickets")
        messages.error(request, str(exc.message))
        return redirect("app:event_ticket", registration_id=registration_id)
    return redirect(reverse("app:event_payment", args=[key]) + "?go=1")


@require_POST
@member_view
def ticket_pay(request: HttpRequest, member: Any, mall: Any, registration_id: int) -> HttpResponse:
    form = PayForm(request.POST)
    return _pay(request, member, mall, registration_id, form.cleaned_data["method"] if form.is_valid() else "")


def _payment_context(member: Any, key: str) -> dict[str, Any] | None:
    if not re.fullmatch(PAY_KEY_PATTERN, key):
        return None
    attempt = payment_selectors.member_attempt(member_id=member.pk, key=key)
    if attempt is None or attempt.purpose != Purpose.EVENT:
        return None
    if attempt.state in (AttemptState.PAYING, AttemptState.CREATED):
        payments.attempt_sync(attempt_id=attempt.pk)
        attempt.refresh_from_db()
    waiting = attempt.state in (AttemptState.PAYING, AttemptState.CREATED)
    return {
        "attempt": attempt,
        "key": key,
        "waiting": waiting,
        "done": attempt.fulfilment == PaymentFulfilment.DONE,
        "refunded": attempt.fulfilment == PaymentFulfilment.REFUNDED,
        "registration_id": int(str(attempt.order.get("registration_id") or 0)),
        "provider_label": PROVIDER_LABELS.get(attempt.provider, attempt.provider),
        "pay_url": redirect_url(pay_kind=attempt.pay_kind, payload=attempt.start_payload) if waiting else None,
        "jsapi": dict(attempt.start_payload) if waiting and attempt.pay_kind == "jsapi" else None,
    }


@never_cache
@require_GET
@member_view
def event_payment(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    """The gateway's return page: asks the gateway while the notification is late, then shows the ticket."""
    ctx = _payment_context(member, key)
    if ctx is None:
        messages.error(request, _("No such payment."))
        return redirect("app:event_tickets")
    if ctx["done"]:
        messages.success(request, _("Paid. Your seat is confirmed: show this ticket at the entrance."))
        return redirect("app:event_ticket", registration_id=ctx["registration_id"])
    go = request.GET.get("go") == "1" and bool(ctx["pay_url"])
    return render(request, "app/events/payment.html", {**_base_context(mall, member), **ctx, "go": go})


@never_cache
@require_GET
@member_view
def event_payment_state(request: HttpRequest, member: Any, mall: Any, key: str) -> HttpResponse:
    ctx = _payment_context(member, key)
    if ctx is None:
        return HttpResponse(status=404)
    response = render(request, "app/events/_payment_state.html", ctx)
    if not ctx["waiting"]:
        response["HX-Refresh"] = "true"
    return response


def _ticket_action(request: HttpRequest, member: Any, registration_id: int, action: str) -> HttpResponse:
    try:
        if action == "cancel":
            reg = services.registration_cancel(
                registration_id=registration_id, member_id=member.pk, actor=_actor(request, member)
            )
        else:
            reg = services.offer_confirm(
                registration_id=registration_id, member_id=member.pk, actor=_actor(request, member)
            )
    except ApplicationError as exc:
        if exc.code == "events.registration_not_found":
            messages.error(request, _("This ticket is not in your account."))
            return redirect("app:event_tickets")
        messages.error(request, str(exc.message))
        return redirect("app:event_ticket", registration_id=registration_id)
    if action == "cancel":
        messages.success(
            request,
            _("Cancelled.")
            + (
                " " + _("%(n)s points are back in your account.") % {"n": reg.points_returned}
                if reg.points_returned
                else ""
            )
            + (
                " " + _("%(amount)s goes back to where you paid it from.") % {"amount": format_cny(reg.paid_fen)}
                if reg.gateway_refund_id
                else ""
            ),
        )
    else:
        messages.success(request, _("Your seat is confirmed. Show this ticket at the entrance."))
    return redirect("app:event_ticket", registration_id=reg.pk)


@require_POST
@member_view
def ticket_cancel(request: HttpRequest, member: Any, mall: Any, registration_id: int) -> HttpResponse:
    return _ticket_action(request, member, registration_id, "cancel")


@require_POST
@member_view
def ticket_confirm(request: HttpRequest, member: Any, mall: Any, registration_id: int) -> HttpResponse:
    return _ticket_action(request, member, registration_id, "confirm")


@require_GET
def event_poster(request: HttpRequest, event_id: int, sha: str) -> HttpResponse:
    """An event's poster: public (published events are public), addressed by id and digest, cached a year; the
    JPEG we re-encoded, `nosniff`, sandboxed."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise Http404
    event = selectors.event_by_poster(event_id=event_id, sha=sha)
    if event is None:
        raise Http404
    if request.headers.get("If-None-Match") == f'"{sha}"':
        response: HttpResponse = HttpResponseNotModified()
    else:
        data = selectors.poster_bytes(event=event)
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="image/jpeg")
    response["ETag"] = f'"{sha}"'
    response["Cache-Control"] = f"public, max-age={POSTER_MAX_AGE}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
