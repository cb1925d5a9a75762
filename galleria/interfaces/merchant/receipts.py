"""Merchant portal: the merchant confirms (or rejects) its own receipt photos when the mall enables it.

Only receipts of the signed-in user's merchant that the mall routed to the merchant (`needs_merchant`) appear;
anything else is a 404. Confirming approves through `receipts.services.receipt_approve(merchant_id=…)`: a sale
of channel `receipt` through the checkout pipeline, exactly as a mall reviewer's approval.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.receipts import selectors as receipt_selectors
from galleria.receipts import services as receipt_services

from ..receipt_forms import image_response
from .portal import portal_merchant, portal_render, portal_view

DONE_SHOWN = 30


@portal_view(perms.PORTAL_RECEIPTS)
def receipts(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    rules = receipt_selectors.settings_for(mall_group_id=merchant.mall.group_id)
    return portal_render(
        request,
        "merchant/receipts/list.html",
        {
            "enabled": rules.merchant_confirmation,
            "waiting": list(receipt_selectors.merchant_receipts(merchant_id=merchant.pk, waiting=True)[:100]),
            "done": list(receipt_selectors.merchant_receipts(merchant_id=merchant.pk, waiting=False)[:DONE_SHOWN]),
            "reasons": rules.reason_list(),
        },
        nav="receipts",
        merchant=merchant,
    )


def _own(request: HttpRequest, receipt_id: int) -> tuple[int, int]:
    scope = scope_of(request)
    assert scope.merchant_id is not None
    receipt = receipt_selectors.receipt_get(
        receipt_id=receipt_id, mall_group_id=scope.mall_group_id, merchant_id=scope.merchant_id
    )
    if receipt is None or not receipt.needs_merchant:
        raise Http404("receipt")
    return receipt.pk, receipt.mall_group_id


@require_POST
@portal_view(perms.PORTAL_RECEIPTS)
def receipt_decide(request: HttpRequest, receipt_id: int) -> HttpResponse:
    pk, group_id = _own(request, receipt_id)
    merchant_id = scope_of(request).merchant_id
    try:
        if request.POST.get("action") == "confirm":
            done = receipt_services.receipt_approve(
                receipt_id=pk, mall_group_id=group_id, actor=actor_for(request), merchant_id=merchant_id
            )
            messages.success(
                request, _("Confirmed: the member got %(points)s points.") % {"points": done.points_earned}
            )
        else:
            reason = (request.POST.get("reason") or request.POST.get("template") or "").strip()
            receipt_services.receipt_reject(
                receipt_id=pk, mall_group_id=group_id, reason=reason, actor=actor_for(request), merchant_id=merchant_id
            )
            messages.success(request, _("Rejected."))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("merchant:receipts")


@require_GET
@portal_view(perms.PORTAL_RECEIPTS)
def receipt_image(request: HttpRequest, receipt_id: int) -> HttpResponse:
    scope = scope_of(request)
    receipt = receipt_selectors.receipt_get(
        receipt_id=receipt_id, mall_group_id=scope.mall_group_id, merchant_id=scope.merchant_id
    )
    if receipt is None or not receipt.needs_merchant:
        raise Http404("receipt")
    return image_response(receipt_selectors.image_bytes(receipt=receipt))
