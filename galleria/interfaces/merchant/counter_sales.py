"""The merchant counter's sales: the list of counter sales, a sale's page (any sale of this merchant) and refunds of
counter sales, whole or by units, through the checkout pipeline's refund (`sales.services.sale_refund_in_tx`).

Clerks see; managers and owners refund (`portal.counter_refund`). A refund carries a one-time token from the page
as its refund number (`counter:<token>`), so a double tap refunds once; every refund is audited.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.interfaces.common import actor_for, scope_of
from galleria.members import rules as member_rules
from galleria.sales import selectors as sale_selectors
from galleria.sales import services as sale_services
from galleria.sales.types import Channel, RefundLineIn

from . import counter_flow as flow
from .counter_forms import RefundForm
from .portal import portal_merchant, portal_render, portal_view

PAGE_SIZE = 20


# ---------------------------------------------------------------- sales and refunds


def _own_sale(request: HttpRequest, sale_id: int) -> tuple[Any, Any]:
    merchant = portal_merchant(request)
    sales = sale_selectors.sale_list(merchant_id=merchant.pk).select_related("member", "store")
    sale = sales.filter(pk=sale_id).first()
    if sale is None:
        raise Http404("sale")
    return sale, merchant


def _member_label(sale: Any) -> str:
    member = sale.member
    if member is None:
        return ""
    phone = member_rules.mask_phone(member.phone) if member.phone else member.card_no
    return f"{member_rules.mask_name(member.name)} · {phone}".strip(" ·")


@portal_view(perms.PORTAL_COUNTER_SELL)
def counter_sales(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    qs = sale_selectors.sale_list(merchant_id=merchant.pk).filter(channel=Channel.COUNTER).select_related("member")
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"sale": s, "member": _member_label(s)} for s in page_obj.object_list]
    return portal_render(
        request, "merchant/counter_sales.html", {"rows": rows, "page_obj": page_obj}, nav="counter", merchant=merchant
    )


def _sale_page(
    request: HttpRequest, sale: Any, merchant: Any, *, form: RefundForm | None = None, status: int = 200
) -> HttpResponse:
    lines = list(sale.lines.order_by("line_no"))
    scope = scope_of(request)
    refundable = sale.channel == Channel.COUNTER and any(ln.refunded_qty < ln.quantity for ln in lines)
    context = {
        "sale": sale,
        "member": _member_label(sale),
        "lines": [{"line": ln, "left": ln.quantity - ln.refunded_qty} for ln in lines],
        "payments": list(sale.payments.all()),
        "refunds": list(sale.refunds.order_by("occurred_at", "id")),
        "can_refund": refundable and scope.can(perms.PORTAL_COUNTER_REFUND),
        "refund_form": form,
        "refund_token": flow.new_token(),
        "is_counter": sale.channel == Channel.COUNTER,
    }
    return portal_render(
        request, "merchant/counter_sale.html", context, nav="counter", merchant=merchant, status=status
    )


@portal_view(perms.PORTAL_COUNTER_SELL)
def counter_sale(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale, merchant = _own_sale(request, sale_id)
    return _sale_page(request, sale, merchant)


@require_POST
@portal_view(perms.PORTAL_COUNTER_REFUND)
def counter_refund(request: HttpRequest, sale_id: int) -> HttpResponse:
    sale, merchant = _own_sale(request, sale_id)
    token = str(request.POST.get("token") or "")[:32]
    if token and sale.refunds.filter(pos_refund_id=flow.receipt_no(token)).exists():  # a double tap
        messages.info(request, _("This refund was already recorded."))
        return redirect("merchant:counter_sale", sale_id=sale.pk)
    lines = list(sale.lines.order_by("line_no"))
    form = RefundForm(request.POST, lines=[(ln.line_no, ln.quantity - ln.refunded_qty) for ln in lines])
    if sale.channel != Channel.COUNTER:
        messages.error(request, _("Only counter sales are refunded here; refund other sales where they were made."))
        return _sale_page(request, sale, merchant, status=422)
    if not form.is_valid():
        return _sale_page(request, sale, merchant, form=form, status=422)
    wanted = form.cleaned_data.get("wanted")
    refund_lines = None if wanted is None else [RefundLineIn(line_no=n, quantity=q) for n, q in sorted(wanted.items())]
    actor = actor_for(request)
    try:
        with transaction.atomic(durable=True):
            result = sale_services.sale_refund_in_tx(
                merchant_id=merchant.pk,
                pos_sale_id=sale.pos_sale_id,
                pos_refund_id=flow.receipt_no(form.cleaned_data["token"]),
                lines=refund_lines,
            )
            audit_record(
                actor=actor,
                action="sale.counter_refund",
                target_type="sale",
                target_id=sale.pk,
                target_label=sale.pos_sale_id,
                mall_group_id=merchant.mall.group_id,
                changes={
                    "refund": [None, str(result.refund_id)],
                    "amount_fen": [None, result.amount_fen],
                    "money_fen": [None, result.money_fen],
                    "points_clawed_back": [None, result.points_clawed_back],
                    "lines": [None, "all" if wanted is None else json.dumps(wanted, sort_keys=True)],
                },
            )
    except ApplicationError as exc:
        if exc.code == "refund.duplicate":
            messages.info(request, _("This refund was already recorded."))
            return redirect("merchant:counter_sale", sale_id=sale.pk)
        form.add_error(None, flow.error_sentence(exc))
        return _sale_page(request, sale, merchant, form=form, status=422)
    messages.success(
        request,
        _("Refunded %(money)s to the member; %(points)s points taken back.")
        % {"money": format_cny(result.money_fen), "points": result.points_clawed_back},
    )
    return redirect(reverse("merchant:counter_sale", kwargs={"sale_id": sale.pk}))
