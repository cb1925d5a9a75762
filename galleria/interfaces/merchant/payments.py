"""Merchant portal: pay-at-store (聚合支付) from the shop's side.

- **Received** (`payments_live`): the counter's big screen. The latest payment in large type ("¥ 270.00 received")
  and today's list; it polls every two seconds, so the clerk sees a member's payment the moment the gateway
  confirms it. Clerks see it; nothing on it reveals who the member is beyond a masked name.
- **Payments** (`payments_list`, `payment_detail`): the shop's app payments with their state; one payment's bill
  (money, coupons, points), its refunds so far, and — for those allowed to refund — a refund of all that is left
  or of part of the bill (goods returned): "Preview" shows exactly what goes back (the checkout pipeline's refund run
  and rolled back, `payments.store_payment_refund_preview`), "Refund" books it (`payments.store_payment_refund`:
  the sale through the checkout pipeline, the money back at the gateway). Each form carries its own idempotency
  key, so a double tap refunds once.
- **QR** (`payments_qr`): each store's static payment QR to print and put at the till: it is the store's pay
  page in the member app, so any phone camera opens it.
"""

from __future__ import annotations

import datetime as dt
import secrets

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny, yuan_to_fen
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.rules import mask_name
from galleria.merchants.selectors import store_list
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payment_services
from galleria.sales.selectors import sale_refundable

from .portal import portal_merchant, portal_render, portal_view

PAGE_SIZE = 25


def _today_bounds(merchant: object) -> tuple[dt.datetime, dt.datetime]:
    tz_name = merchant.mall.timezone  # type: ignore[attr-defined]
    return timeutil.local_day_bounds(timeutil.local_date(timeutil.now(), tz_name), tz_name)


def _live_rows(merchant_id: int, since: dt.datetime) -> list[dict[str, object]]:
    return [
        {
            "id": a.pk,
            "amount": format_cny(a.paid_fen or a.amount_fen),
            "provider": a.provider,
            "store": a.store.name if a.store else "",
            "at": timezone.localtime(a.paid_at) if a.paid_at else None,
            "member": mask_name(a.member.name) if a.member and a.member.name else "",
            "refunded": a.refunded_fen > 0,
        }
        for a in payment_selectors.merchant_live(merchant_id=merchant_id, since=since, limit=30)
    ]


def _live_context(request: HttpRequest) -> dict[str, object]:
    merchant = portal_merchant(request)
    since, until = _today_bounds(merchant)
    rows = _live_rows(merchant.pk, since)
    totals = payment_selectors.merchant_received_total(merchant_id=merchant.pk, since=since, until=until)
    return {
        "merchant": merchant,
        "rows": rows,
        "latest": rows[0] if rows else None,
        "today_text": format_cny(totals["paid_fen"] - totals["refunded_fen"]),
        "count": len(rows),
    }


@never_cache
@portal_view(perms.PORTAL_PAYMENTS)
def payments_live(request: HttpRequest) -> HttpResponse:
    return portal_render(request, "merchant/payments/live.html", _live_context(request), nav="payments_live")


@never_cache
@portal_view(perms.PORTAL_PAYMENTS)
def payments_live_feed(request: HttpRequest) -> HttpResponse:
    """The polled part of the live screen (htmx)."""
    return portal_render(request, "merchant/payments/_live_feed.html", _live_context(request), nav="payments_live")


@never_cache
@portal_view(perms.PORTAL_PAYMENTS)
def payments_list(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    page = Paginator(payment_selectors.merchant_payments(merchant_id=merchant.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "attempt": a,
            "amount": format_cny(a.paid_fen or a.amount_fen),
            "refunded": format_cny(a.refunded_fen) if a.refunded_fen else "",
            "member": mask_name(a.member.name) if a.member and a.member.name else "",
            "refundable": a.state == "paid" and a.fulfilment == "done" and a.refunded_fen < (a.paid_fen or 0),
        }
        for a in page.object_list
    ]
    return portal_render(
        request,
        "merchant/payments/list.html",
        {"page": page, "rows": rows, "can_refund": scope_of(request).can(perms.PORTAL_PAYMENTS_REFUND)},
        nav="payments",
        merchant=merchant,
    )


def _amount_arg(raw: str) -> int | None:
    """The refund amount typed in yuan; empty means all that is left."""
    raw = (raw or "").strip()
    return yuan_to_fen(raw) if raw else None


@never_cache
@portal_view(perms.PORTAL_PAYMENTS)
def payment_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    attempt = payment_selectors.merchant_payment_get(merchant_id=merchant.pk, attempt_id=attempt_id)
    if attempt is None:
        raise Http404("payment")
    sale = sale_refundable(sale_id=attempt.sale_id) if attempt.sale_id else None
    can_refund = (
        scope_of(request).can(perms.PORTAL_PAYMENTS_REFUND)
        and attempt.state == "paid"
        and attempt.fulfilment == "done"
        and sale is not None
        and sale.left_fen > 0
    )
    amount_text = (request.GET.get("amount") or "").strip()[:20]
    preview, error = None, ""
    if can_refund and "preview" in request.GET:
        try:
            preview = payment_services.store_payment_refund_preview(
                attempt_id=attempt.pk, merchant_id=merchant.pk, amount_fen=_amount_arg(amount_text)
            )
        except ApplicationError as exc:
            error = str(exc.message)
    context = {
        "attempt": attempt,
        "sale": sale,
        "amount": format_cny(attempt.paid_fen or attempt.amount_fen),
        "member": mask_name(attempt.member.name) if attempt.member and attempt.member.name else "",
        "refunds": payment_selectors.attempt_refunds(attempt_id=attempt.pk),
        "can_refund": can_refund,
        "amount_text": amount_text,
        "preview": preview,
        "error": error,
        "key": secrets.token_hex(8),
    }
    return portal_render(
        request,
        "merchant/payments/detail.html",
        context,
        nav="payments",
        merchant=merchant,
        status=422 if error else 200,
    )


@require_POST
@portal_view(perms.PORTAL_PAYMENTS_REFUND)
def payment_refund(request: HttpRequest, attempt_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    attempt = payment_selectors.merchant_payment_get(merchant_id=merchant.pk, attempt_id=attempt_id)
    if attempt is None:
        raise Http404("payment")
    reason = (request.POST.get("reason") or "").strip()[:80]
    try:
        result = payment_services.store_payment_refund(
            attempt_id=attempt.pk,
            merchant_id=merchant.pk,
            actor=actor_for(request),
            idempotency_key=(request.POST.get("key") or "")[:32],
            reason=reason,
            amount_fen=_amount_arg(request.POST.get("amount") or ""),
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _(
                "Refunded %(amount)s of the bill: %(money)s back to the member's payment; %(returned)s points "
                "returned, %(taken)s points taken back."
            )
            % {
                "amount": format_cny(result.amount_fen),
                "money": format_cny(result.money_fen),
                "returned": result.points_returned,
                "taken": result.points_clawed_back + result.points_shortfall,
            },
        )
    return redirect("merchant:payment_detail", attempt_id=attempt.pk)


def qr_cards(request: HttpRequest, *, merchant_id: int) -> list[dict[str, object]]:
    """The printable payment QR of each active store of the merchant (galleria/_qr_cards.html): the absolute URL
    of the store's pay page in the member app, drawn with segno."""
    cards: list[dict[str, object]] = []
    for store in store_list(merchant_id=merchant_id).filter(is_active=True):
        url = request.build_absolute_uri(reverse("app:pay_store", args=[store.pk]))
        svg = segno.make(url, error="m", micro=False).svg_inline(scale=6, border=2, dark="#1f2430")
        cards.append({"store": store, "url": url, "svg": mark_safe(svg)})  # noqa: S308 - segno's SVG of our own URL
    return cards


@portal_view(perms.PORTAL_PAYMENTS)
def payments_qr(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    cards = qr_cards(request, merchant_id=merchant.pk)
    return portal_render(request, "merchant/payments/qr.html", {"cards": cards}, nav="payments_qr", merchant=merchant)
