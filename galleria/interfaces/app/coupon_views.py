"""Member app coupons: my coupons by status, one coupon with its QR code and rules in plain words, and the claim
centre (free, for points, or for a price paid from the wallet).

Like every member-app view these read the member from the session only; a coupon id that is not the member's
own is treated exactly like an unknown one.
"""

from __future__ import annotations

import secrets
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.core.errors import ApplicationError
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponStatus, CouponTemplate
from galleria.coupons.services.templates import TEMPLATE_FIELDS
from galleria.interfaces import coupon_text
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.merchants.selectors import merchant_options
from galleria.tiers.selectors import tier_ladder

from .views import _base_context, member_view

TABS = ("available", "used", "expired")
LIST_LIMIT = 100


def names(mall: Mall) -> tuple[dict[int, str], dict[int, str]]:
    merchants = dict(merchant_options(mall_group_id=mall.group_id).values_list("pk", "name"))
    tiers = {level.rank: level.name for level in tier_ladder(mall_group_id=mall.group_id)}
    return merchants, tiers


def card_of(template: CouponTemplate, merchants: dict[int, str], tiers: dict[int, str]) -> coupon_text.CouponCard:
    values = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
    owner = merchants.get(template.merchant_id or 0, "")
    return coupon_text.describe(values, merchant_names=merchants, tier_names=tiers, owner_name=owner)


def status_of(coupon: Coupon) -> str:
    """available / used / expired / void, reading an unswept past-validity coupon as expired."""
    if coupon.status == CouponStatus.AVAILABLE and coupon.valid_until <= timezone.now():
        return CouponStatus.EXPIRED
    return coupon.status


def member_coupons(*, member: Member, tab: str) -> list[Coupon]:
    if tab == "expired":
        expired = list(coupon_selectors.coupon_list(member_id=member.pk, status=CouponStatus.EXPIRED)[:LIST_LIMIT])
        void = list(coupon_selectors.coupon_list(member_id=member.pk, status=CouponStatus.VOID)[:LIST_LIMIT])
        return sorted(expired + void, key=lambda c: (c.valid_until, c.pk), reverse=True)[:LIST_LIMIT]
    rows = list(coupon_selectors.coupon_list(member_id=member.pk, status=tab)[:LIST_LIMIT])
    if tab == "available":
        rows.sort(key=lambda c: (c.valid_until, c.pk))  # soonest to expire first
    return rows


@never_cache
@member_view
def coupons(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    tab = request.GET.get("status") or "available"
    if tab not in TABS:
        tab = "available"
    merchants, tiers = names(mall)
    statuses = dict(CouponStatus.choices)
    rows = []
    for c in member_coupons(member=member, tab=tab):
        rows.append(
            {
                "c": c,
                "card": card_of(c.template, merchants, tiers),
                "validity": coupon_text.held_validity(c.valid_from, c.valid_until, mall.timezone),
                "status_label": statuses.get(status_of(c), "") if tab != "available" else "",
            }
        )
    ctx = {**_base_context(mall, member), "coupon_tab": tab, "rows": rows}
    return render(request, "app/coupons/list.html", ctx)


def qr_svg(code: str) -> str:
    qr = segno.make(code, error="m", micro=False)
    return str(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430", title=_("Coupon code")))


@never_cache
@member_view
def coupon_detail(request: HttpRequest, member: Member, mall: Mall, coupon_id: int) -> HttpResponse:
    coupon = coupon_selectors.coupon_get(coupon_id=coupon_id, mall_group_id=mall.group_id)
    if coupon is None or coupon.member_id != member.pk:
        messages.error(request, _("This coupon is not in your account."))
        return redirect("app:coupons")
    merchants, tiers = names(mall)
    status = status_of(coupon)
    ctx = {
        **_base_context(mall, member),
        "coupon": coupon,
        "card": card_of(coupon.template, merchants, tiers),
        "validity": coupon_text.held_validity(coupon.valid_from, coupon.valid_until, mall.timezone),
        "status": status,
        "status_label": dict(CouponStatus.choices).get(status, status),
        "usable": status == CouponStatus.AVAILABLE,
        "code_spaced": coupon_text.spaced_code(coupon.code),
        "qr_svg": mark_safe(qr_svg(coupon.code)),  # noqa: S308 - segno output for our own code alphabet
        "used_at": coupon_text.date_text(coupon.used_at, mall.timezone),
    }
    return render(request, "app/coupons/detail.html", ctx)


def offers_for(member: Member, mall: Mall) -> list[dict[str, Any]]:
    offers = coupon_selectors.claim_centre(member_id=member.pk)
    templates = {t.pk: t for t in CouponTemplate.objects.filter(pk__in=[o.template_id for o in offers])}
    merchants, tiers = names(mall)
    return [
        {
            "o": o,
            "card": card_of(templates[o.template_id], merchants, tiers),
            "reason": coupon_text.reason_message(o.reason_code),
        }
        for o in offers
        if o.template_id in templates
    ]


@never_cache
@member_view
def claim_centre(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    ctx = {
        **_base_context(mall, member),
        "offers": offers_for(member, mall),
        "form_key": secrets.token_urlsafe(18),
    }
    return render(request, "app/coupons/centre.html", ctx)


@require_POST
@member_view
def claim(request: HttpRequest, member: Member, mall: Mall, template_id: int) -> HttpResponse:
    key = str(request.POST.get("key") or "").strip()[:64] or secrets.token_urlsafe(18)
    try:
        issued = coupon_services.coupon_claim(member_id=member.pk, template_id=template_id, idempotency_key=key)
    except ApplicationError as exc:
        messages.error(request, coupon_text.error_text(exc))
        return redirect(reverse("app:claim_centre"))
    if issued.created:
        messages.success(request, _("Claimed! The coupon is in “My coupons”."))
    return redirect("app:coupon_detail", issued.coupon_id)
