"""Merchant portal coupons: the merchant's own coupon templates (merchant-funded, usable only at this merchant),
with the same form and live preview as the console, and "verify a coupon" at the counter — check a code, then
redeem exchange / parking / shipping coupons. Members appear masked; another merchant's template is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.coupons import rules as coupon_rules
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.coupons.models import CouponStatus, CouponTemplate, TemplateStatus
from galleria.coupons.services.templates import TEMPLATE_FIELDS
from galleria.interfaces import coupon_text
from galleria.interfaces.common import actor_for
from galleria.members import rules as member_rules
from galleria.members.models import Member
from galleria.merchants.models import Merchant
from galleria.merchants.selectors import merchant_options
from galleria.tiers.selectors import tier_ladder

from ..console.coupon_forms import new_key
from ..coupon_forms import PROBLEM_MESSAGES, CouponTemplateForm, place_problems
from .portal import portal_merchant, portal_render, portal_view

STATUS_TONES = {"draft": "", "active": "badge-ok", "paused": "badge-warn", "ended": "badge-danger"}


Names = tuple[dict[int, str], dict[int, str]]


def _names(merchant: Merchant) -> Names:
    """The group's merchant names (a coupon's "where" names the shops, never "#id") and tier names."""
    group_id = merchant.mall.group_id
    merchants = dict(merchant_options(mall_group_id=group_id).values_list("pk", "name"))
    tiers = {level.rank: level.name for level in tier_ladder(mall_group_id=group_id)}
    return merchants, tiers


def _card(values: dict[str, Any], merchant: Merchant, names: Names | None = None) -> coupon_text.CouponCard:
    """A template of this merchant as members see it (usable only here)."""
    merchants, tiers = names or _names(merchant)
    return coupon_text.describe(values, merchant_names=merchants, tier_names=tiers, owner_name=merchant.name)


def _values(template: CouponTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in TEMPLATE_FIELDS}


def _problems(values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for _field, code in coupon_rules.template_problems(values):
        message = str(PROBLEM_MESSAGES.get(code, code))
        if message not in out:
            out.append(message)
    return out


def _own_template(request: HttpRequest, template_id: int) -> tuple[CouponTemplate, Merchant]:
    merchant = portal_merchant(request)
    template = CouponTemplate.objects.filter(
        pk=template_id, merchant_id=merchant.pk, mall_group_id=merchant.mall.group_id
    ).first()
    if template is None:
        raise Http404("coupon template")
    return template, merchant


@portal_view(perms.PORTAL_COUPONS)
def coupons(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    templates = (
        CouponTemplate.objects.filter(merchant_id=merchant.pk, mall_group_id=merchant.mall.group_id)
        .annotate(issued=Count("coupons"), used=Count("coupons", filter=Q(coupons__status=CouponStatus.USED)))
        .order_by("-pk")[:200]
    )
    names = _names(merchant)
    rows = [
        {
            "t": t,
            "card": _card(_values(t), merchant, names),
            "status": dict(TemplateStatus.choices).get(t.status, t.status),
            "tone": STATUS_TONES.get(t.status, ""),
        }
        for t in templates
    ]
    return portal_render(request, "merchant/coupons/list.html", {"rows": rows}, nav="coupons", merchant=merchant)


def _form_page(
    request: HttpRequest, merchant: Merchant, form: CouponTemplateForm, template: CouponTemplate | None
) -> HttpResponse:
    values = form.preview_values() if form.is_bound else form._raw_values(form.initial)
    context = {
        "form": form,
        "template": template,
        "card": _card(values, merchant),
        "problems": _problems(values),
        "locked": template is not None and template.status != "draft",
    }
    return portal_render(
        request,
        "merchant/coupons/form.html",
        context,
        nav="coupons",
        merchant=merchant,
        status=400 if form.is_bound else 200,
    )


@portal_view(perms.PORTAL_COUPONS)
def coupon_new(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    group_id = merchant.mall.group_id
    form = CouponTemplateForm(request.POST or None, group_id=group_id, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        try:
            template = coupon_services.coupon_template_create(
                mall_group_id=group_id, values=form.values(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            place_problems(form, exc)
        else:
            messages.success(request, _("Coupon “%(name)s” created as a draft.") % {"name": template.name})
            return redirect("merchant:coupons")
    return _form_page(request, merchant, form, None)


@portal_view(perms.PORTAL_COUPONS)
def coupon_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template, merchant = _own_template(request, template_id)
    if template.status == TemplateStatus.ENDED:
        messages.error(request, _("An ended coupon cannot be changed."))
        return redirect("merchant:coupons")
    form = CouponTemplateForm(
        request.POST or None, group_id=merchant.mall.group_id, template=template, merchant=merchant
    )
    if request.method == "POST" and form.is_valid():
        try:
            template = coupon_services.coupon_template_update(
                template_id=template.pk,
                mall_group_id=merchant.mall.group_id,
                values=form.values(),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            place_problems(form, exc)
        else:
            messages.success(request, _("Coupon “%(name)s” saved.") % {"name": template.name})
            return redirect("merchant:coupons")
    return _form_page(request, merchant, form, template)


@require_POST
@portal_view(perms.PORTAL_COUPONS)
def coupon_preview(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    template = None
    raw = request.POST.get("preview_template") or ""
    if raw.isdigit():
        template, merchant = _own_template(request, int(raw))
    form = CouponTemplateForm(request.POST, group_id=merchant.mall.group_id, template=template, merchant=merchant)
    values = form.preview_values()
    return render(
        request, "console/coupons/_preview.html", {"card": _card(values, merchant), "problems": _problems(values)}
    )


@require_POST
@portal_view(perms.PORTAL_COUPONS)
def coupon_status(request: HttpRequest, template_id: int) -> HttpResponse:
    template, merchant = _own_template(request, template_id)
    service = {
        "activate": coupon_services.coupon_template_activate,
        "pause": coupon_services.coupon_template_pause,
        "end": coupon_services.coupon_template_end,
    }.get(str(request.POST.get("action")))
    if service is None:
        messages.error(request, _("Choose what to do."))
        return redirect("merchant:coupons")
    try:
        template = service(template_id=template.pk, mall_group_id=merchant.mall.group_id, actor=actor_for(request))
    except ApplicationError as exc:
        problems = _problems(_values(template))
        messages.error(request, " ".join([coupon_text.error_text(exc), *problems]))
    else:
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.")
            % {"name": template.name, "status": dict(TemplateStatus.choices)[template.status]},
        )
    return redirect("merchant:coupons")


# ---------------------------------------------------------------------------------------------- verify


def _check_context(merchant: Merchant, code: str) -> dict[str, Any]:
    """What a code gives and whether it can be used here now; the holder masked."""
    check = coupon_selectors.coupon_check(code=code, mall_group_id=merchant.mall.group_id, merchant=merchant)
    if check is None:
        return {"error": coupon_text.reason_message("coupon.not_found"), "code": code}
    coupon = coupon_selectors.coupon_get(coupon_id=check.coupon_id, mall_group_id=merchant.mall.group_id)
    assert coupon is not None
    holder = Member.objects.filter(pk=check.member_id).values_list("name", "phone", "card_no").first()
    name, phone, card_no = holder or ("", "", "")
    standalone = check.kind in coupon_rules.STANDALONE_KINDS
    merchants, tiers = _names(merchant)
    return {
        "check": check,
        "code": check.code,
        "code_spaced": coupon_text.spaced_code(check.code),
        "card": coupon_text.describe(
            _values(coupon.template),
            merchant_names=merchants,
            tier_names=tiers,
            owner_name=merchants.get(coupon.template.merchant_id or 0, ""),
        ),
        "validity": coupon_text.held_validity(coupon.valid_from, coupon.valid_until, merchant.mall.timezone),
        "reason": coupon_text.reason_message(check.reason_code),
        "status_label": dict(CouponStatus.choices).get(check.status, check.status),
        "holder": {
            "name": member_rules.mask_name(name) if name else "",
            "phone": member_rules.mask_phone(phone) if phone else "",
            "card_no": f"{card_no[:4]}****{card_no[-4:]}" if card_no else "",
        },
        "can_redeem": check.is_usable and standalone,
        "at_till": check.is_usable and not standalone,
        "key": new_key(),
    }


@portal_view(perms.PORTAL_COUPON_REDEEM)
def verify(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    context: dict[str, Any] = {"submitted": False}
    if request.method == "POST":
        code = coupon_rules.normalize_code(str(request.POST.get("code") or ""))[:40]
        context["submitted"] = True
        if not code:
            context["error"] = _("Scan or type the coupon code.")
        elif request.POST.get("action") == "redeem":
            key = str(request.POST.get("key") or "")[:64] or new_key()
            try:
                applied = coupon_services.coupon_redeem_standalone(
                    code=code,
                    mall_group_id=merchant.mall.group_id,
                    merchant_id=merchant.pk,
                    actor=actor_for(request),
                    idempotency_key=key,
                )
            except ApplicationError as exc:
                context.update(_check_context(merchant, code))
                context["error"] = coupon_text.error_text(exc)
                context["can_redeem"] = False
            else:
                context.update(_check_context(merchant, code))
                context["redeemed"] = applied
                context["redeemed_what"] = context["card"].headline
        else:
            context.update(_check_context(merchant, code))
    if getattr(request, "htmx", False):
        return render(request, "merchant/coupons/_verify_result.html", context)
    return portal_render(request, "merchant/coupons/verify.html", context, nav="verify", merchant=merchant)
