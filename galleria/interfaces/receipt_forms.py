"""Forms and helpers the receipt screens share (member app, console review, merchant portal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.receipts.types import ReceiptFields


def parse_yuan(text: str) -> int | None:
    try:
        value = Decimal(str(text).strip().replace("¥", "").replace("￥", "").replace(",", ""))
    except InvalidOperation:
        return None
    fen = value * 100
    if fen != fen.to_integral_value() or fen <= 0:
        return None
    return int(fen)


class ReceiptFieldsForm(forms.Form):
    """Shop, amount, time and receipt number (the member's confirmation; the reviewer's correction)."""

    merchant = forms.TypedChoiceField(label=gettext_lazy("Shop"), coerce=int, choices=())
    amount = forms.CharField(
        label=gettext_lazy("Amount paid (¥)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("Date and time on the receipt"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    receipt_no = forms.CharField(label=gettext_lazy("Receipt number"), max_length=40)

    def __init__(self, *args: Any, merchants: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["merchant"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose the shop")), *merchants]

    def clean_amount(self) -> int:
        fen = parse_yuan(self.cleaned_data["amount"])
        if fen is None:
            raise forms.ValidationError(_("Enter the amount paid, e.g. 58.00."))
        return fen

    def fields_value(self, tz_name: str | None) -> ReceiptFields:
        occurred: dt.datetime = self.cleaned_data["occurred_at"]
        if timezone.is_naive(occurred):
            occurred = occurred.replace(tzinfo=timeutil.zone(tz_name))
        return ReceiptFields(
            merchant_id=self.cleaned_data["merchant"],
            amount_fen=self.cleaned_data["amount"],
            occurred_at=occurred,
            receipt_no=self.cleaned_data["receipt_no"],
        )


def initial_of(receipt: Any, tz_name: str | None) -> dict[str, Any]:
    initial: dict[str, Any] = {"receipt_no": receipt.receipt_no}
    if receipt.merchant_id:
        initial["merchant"] = receipt.merchant_id
    if receipt.amount_fen:
        initial["amount"] = f"{receipt.amount_fen // 100}.{receipt.amount_fen % 100:02d}"
    if receipt.occurred_at:
        initial["occurred_at"] = timeutil.local(receipt.occurred_at, tz_name).replace(tzinfo=None)
    return initial


def apply_errors(form: forms.Form, exc: ApplicationError) -> None:
    mapping = {"merchant": "merchant", "amount": "amount", "occurred_at": "occurred_at", "receipt_no": "receipt_no"}
    placed = False
    for key, message in exc.fields.items():
        if key in mapping and message:
            form.add_error(mapping[key], str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def image_response(data: bytes | None) -> HttpResponse:
    """A stored receipt photo: private, never cached by shared caches, sandboxed."""
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
