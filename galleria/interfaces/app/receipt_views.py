"""Member app: receipt-photo points (拍小票积分).

Take or pick a photo → upload (checked, re-encoded without EXIF, stored) → the page waits while the background
read runs (htmx polls; without JavaScript a meta refresh does) → the member confirms or corrects shop, amount,
time and receipt number → submit. The list shows every submission's state. Ids in URLs are the member's own;
another member's receipt looks exactly like an unknown one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from galleria.core.errors import ApplicationError
from galleria.receipts import selectors as receipt_selectors
from galleria.receipts import services as receipt_services
from galleria.receipts.types import ReceiptStatus

from ..receipt_forms import ReceiptFieldsForm, apply_errors, image_response, initial_of
from .views import _actor, _base_context, member_view

LIST_LIMIT = 50
UPLOAD_FIELD = "photo"


# ---------------------------------------------------------------- views


def _list_page(request: HttpRequest, member: Any, mall: Any, *, error: str = "", status: int = 200) -> HttpResponse:
    rules = receipt_selectors.settings_for(mall_group_id=mall.group_id)
    ctx = {
        **_base_context(mall, member),
        "receipts": list(receipt_selectors.member_receipts(member_id=member.pk)[:LIST_LIMIT]),
        "upload_error": error,
        "enabled": rules.is_enabled,
        "max_age_days": rules.max_age_days,
        "daily_limit": rules.daily_limit,
    }
    return render(request, "app/receipts/list.html", ctx, status=status)


@never_cache
@member_view
def receipts(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """GET: the member's submissions and the camera button. POST: upload a photo."""
    if request.method != "POST":
        return _list_page(request, member, mall)
    upload = request.FILES.get(UPLOAD_FIELD)
    if upload is None:
        return _list_page(request, member, mall, error=_("Choose a photo of the receipt."), status=400)
    try:
        receipt = receipt_services.receipt_upload(
            member_id=member.pk, mall_group_id=mall.group_id, data=upload.read(), actor=_actor(request, member)
        )
    except ApplicationError as exc:
        return _list_page(request, member, mall, error=str(exc.message), status=400)
    return redirect("app:receipt", receipt_id=receipt.pk)


def _own(member: Any, receipt_id: int) -> Any:
    receipt = receipt_selectors.receipt_get(receipt_id=receipt_id, member_id=member.pk)
    if receipt is None:
        raise Http404
    return receipt


def _detail(
    request: HttpRequest,
    member: Any,
    mall: Any,
    receipt: Any,
    form: ReceiptFieldsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    editable = receipt.status in (ReceiptStatus.DRAFT, ReceiptStatus.READING, ReceiptStatus.REJECTED)
    if form is None and editable:
        form = ReceiptFieldsForm(
            initial=initial_of(receipt, mall.timezone),
            merchants=receipt_selectors.merchant_options(mall_group_id=mall.group_id, accepting_only=True),
        )
    ctx = {
        **_base_context(mall, member),
        "receipt": receipt,
        "form": form,
        "editable": editable,
        "reading": receipt.status == ReceiptStatus.READING,
    }
    return render(request, "app/receipts/detail.html", ctx, status=status)


@never_cache
@member_view
def receipt(request: HttpRequest, member: Any, mall: Any, receipt_id: int) -> HttpResponse:
    """GET: wait for the read, then the pre-filled form (or the state). POST: submit the confirmed fields."""
    row = _own(member, receipt_id)
    if request.method != "POST":
        return _detail(request, member, mall, row)
    form = ReceiptFieldsForm(
        request.POST, merchants=receipt_selectors.merchant_options(mall_group_id=mall.group_id, accepting_only=True)
    )
    if not form.is_valid():
        return _detail(request, member, mall, row, form, status=400)
    try:
        done = receipt_services.receipt_submit(
            receipt_id=row.pk,
            member_id=member.pk,
            fields=form.fields_value(mall.timezone),
            actor=_actor(request, member),
        )
    except ApplicationError as exc:
        apply_errors(form, exc)
        return _detail(request, member, mall, row, form, status=400)
    if done.status == ReceiptStatus.APPROVED:
        messages.success(request, _("Approved: %(points)s points added.") % {"points": done.points_earned})
    else:
        messages.success(request, _("Submitted. We will tell you in your inbox when it is reviewed."))
    return redirect("app:receipts")


@never_cache
@require_GET
@member_view
def receipt_state(request: HttpRequest, member: Any, mall: Any, receipt_id: int) -> HttpResponse:
    """Polled while the photo is read: the waiting block again, or a refresh once the read is done."""
    row = _own(member, receipt_id)
    if row.status == ReceiptStatus.READING:
        return render(request, "app/receipts/_reading.html", {"receipt": row})
    response = HttpResponse(status=204)
    response["HX-Refresh"] = "true"
    return response


@never_cache
@require_GET
@member_view
def receipt_image(request: HttpRequest, member: Any, mall: Any, receipt_id: int) -> HttpResponse:
    row = _own(member, receipt_id)
    return image_response(receipt_selectors.image_bytes(receipt=row))
