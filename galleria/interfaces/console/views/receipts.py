"""Console: the receipt review queue (自助积分审核), one receipt's review, reversal, and the receipt rules.

The queue shows counters (waiting, flagged, waiting for merchants, the oldest), filters and bulk approve; a
receipt's page shows the photo beside the fields (correctable before approving), reject reason templates and the
keyboard: A approve, R reject (focus the reason), J / K next / previous in the queue. Every decision goes through
`receipts.services`; approval is a sale of channel `receipt` through the checkout pipeline.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.selectors import member_resolve
from galleria.receipts import selectors as receipt_selectors
from galleria.receipts import services as receipt_services
from galleria.receipts.types import AliasKind, Flag, ReceiptStatus

from ...receipt_forms import ReceiptFieldsForm, apply_errors, image_response, initial_of, parse_yuan
from ..helpers import console_tz, console_view, error_message, page_of
from ..loyalty import GroupContext, group_context

FLAG_LABELS = dict(Flag.choices)
STATUS_FILTERS = [
    ("pending", ReceiptStatus.PENDING.label),
    *[(s.value, s.label) for s in ReceiptStatus if s != "pending"],
]


def _receipt_or_404(request: HttpRequest, receipt_id: int) -> Any:
    receipt = receipt_selectors.receipt_get(receipt_id=receipt_id, mall_group_id=scope_of(request).mall_group_id)
    if receipt is None:
        raise Http404("receipt")
    return receipt


def _flags(receipt: Any) -> list[str]:
    return [str(FLAG_LABELS.get(f, f)) for f in receipt.flags or []]


# ---------------------------------------------------------------------------------------------- the queue


@console_view(perms.RECEIPTS_REVIEW)
def receipts_queue(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    status = request.GET.get("status") or ReceiptStatus.PENDING
    if status not in ReceiptStatus.values and status != "all":
        status = ReceiptStatus.PENDING
    flagged_param = request.GET.get("flagged") or ""
    flagged = {"yes": True, "no": False}.get(flagged_param)
    try:
        merchant_id = int(request.GET.get("merchant") or 0) or None
    except ValueError:
        merchant_id = None
    query = (request.GET.get("q") or "")[:40]
    rows = receipt_selectors.review_list(
        mall_group_id=g.id,
        status="" if status == "all" else status,
        merchant_id=merchant_id,
        flagged=flagged,
        query=query,
    )
    page, query_string = page_of(request, rows)
    counters = receipt_selectors.review_counters(mall_group_id=g.id)
    oldest_minutes = int((timezone.now() - counters.oldest_at).total_seconds() // 60) if counters.oldest_at else None
    context = {
        "nav": "receipts",
        "g": g,
        "page_obj": page,
        "rows": [(r, _flags(r)) for r in page],
        "query_string": query_string,
        "counters": counters,
        "oldest_hours": oldest_minutes // 60 if oldest_minutes is not None else None,
        "oldest_minutes": oldest_minutes % 60 if oldest_minutes is not None else None,
        "status": status,
        "statuses": STATUS_FILTERS,
        "flagged": flagged_param,
        "merchant_id": merchant_id,
        "merchants": receipt_selectors.merchant_options(mall_group_id=g.id),
        "q": query,
        "can_bulk": status == ReceiptStatus.PENDING,
    }
    return render(request, "console/receipts/queue.html", context)


@require_POST
@console_view(perms.RECEIPTS_REVIEW)
def receipts_bulk_approve(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    ids = []
    for raw in request.POST.getlist("ids")[:200]:
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    if not ids:
        messages.error(request, _("Select the receipts to approve."))
        return redirect(reverse("console:receipts") + g.query)
    approved, errors = receipt_services.receipts_bulk_approve(
        receipt_ids=ids, mall_group_id=g.id, actor=actor_for(request)
    )
    if approved:
        messages.success(request, _("Approved %(n)s receipts.") % {"n": approved})
    for receipt_id, why in errors.items():
        messages.error(request, _("Receipt %(id)s: %(why)s") % {"id": receipt_id, "why": why})
    return redirect(reverse("console:receipts") + g.query)


# ---------------------------------------------------------------------------------------------- one receipt


class DecideForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    template = forms.CharField(max_length=200, required=False)


def _neighbours(g: GroupContext, receipt: Any) -> tuple[int | None, int | None]:
    """The previous and next receipts waiting in the queue (for J / K)."""
    ids = list(receipt_selectors.review_list(mall_group_id=g.id).values_list("pk", flat=True)[:1000])
    if receipt.pk not in ids:
        return None, ids[0] if ids else None
    i = ids.index(receipt.pk)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


def _review_page(
    request: HttpRequest,
    receipt: Any,
    *,
    form: ReceiptFieldsForm | None = None,
    decide_error: str = "",
    status: int = 200,
) -> HttpResponse:
    g = group_context(request, group_id=receipt.mall_group_id)
    tz_name = console_tz(request)
    rules = receipt_selectors.settings_for(mall_group_id=receipt.mall_group_id)
    if form is None:
        form = ReceiptFieldsForm(
            initial=initial_of(receipt, tz_name),
            merchants=receipt_selectors.merchant_options(mall_group_id=receipt.mall_group_id),
        )
    prev_id, next_id = _neighbours(g, receipt)
    context = {
        "nav": "receipts",
        "g": g,
        "receipt": receipt,
        "form": form,
        "flags": _flags(receipt),
        "reasons": rules.reason_list(),
        "decide_error": decide_error,
        "prev_id": prev_id,
        "next_id": next_id,
        "ocr_fields": receipt.ocr_fields or {},
        "can_block": scope_of(request).can(perms.RECEIPTS_SETTINGS),
    }
    return render(request, "console/receipts/review.html", context, status=status)


@console_view(perms.RECEIPTS_REVIEW)
def receipt_review(request: HttpRequest, receipt_id: int) -> HttpResponse:
    receipt = _receipt_or_404(request, receipt_id)
    if request.method != "POST":
        return _review_page(request, receipt)
    action = request.POST.get("action")
    actor = actor_for(request)
    g = group_context(request, group_id=receipt.mall_group_id)
    try:
        if action == "approve":
            form = ReceiptFieldsForm(
                request.POST, merchants=receipt_selectors.merchant_options(mall_group_id=receipt.mall_group_id)
            )
            if not form.is_valid():
                return _review_page(request, receipt, form=form, status=400)
            done = receipt_services.receipt_approve(
                receipt_id=receipt.pk,
                mall_group_id=receipt.mall_group_id,
                actor=actor,
                fields=form.fields_value(console_tz(request)),
            )
            messages.success(
                request,
                _("Receipt %(id)s approved: %(points)s points.") % {"id": done.pk, "points": done.points_earned},
            )
        elif action == "reject":
            decide = DecideForm(request.POST)
            decide.is_valid()
            reason = (decide.cleaned_data.get("reason") or decide.cleaned_data.get("template") or "").strip()
            receipt_services.receipt_reject(
                receipt_id=receipt.pk, mall_group_id=receipt.mall_group_id, reason=reason, actor=actor
            )
            messages.success(request, _("Receipt %(id)s rejected.") % {"id": receipt.pk})
        elif action == "reverse":
            decide = DecideForm(request.POST)
            decide.is_valid()
            done = receipt_services.receipt_reverse(
                receipt_id=receipt.pk,
                mall_group_id=receipt.mall_group_id,
                reason=decide.cleaned_data.get("reason") or "",
                actor=actor,
            )
            text = _("Receipt %(id)s reversed: %(points)s points taken back.") % {
                "id": done.pk,
                "points": done.points_clawed_back,
            }
            if done.points_shortfall:
                text += " " + _("%(n)s points could not be taken back (already spent); recorded as a shortfall.") % {
                    "n": done.points_shortfall
                }
            messages.success(request, text)
            return redirect("console:receipt_review", receipt_id=receipt.pk)
        else:
            return _review_page(request, receipt, decide_error=_("Choose approve or reject."), status=400)
    except ApplicationError as exc:
        if action == "approve":
            form = ReceiptFieldsForm(
                request.POST, merchants=receipt_selectors.merchant_options(mall_group_id=receipt.mall_group_id)
            )
            form.is_valid()
            apply_errors(form, exc)
            return _review_page(request, _receipt_or_404(request, receipt_id), form=form, status=400)
        return _review_page(request, _receipt_or_404(request, receipt_id), decide_error=error_message(exc), status=400)
    _prev, next_id = _neighbours(g, receipt)
    if next_id is not None and action != "reverse":
        return redirect("console:receipt_review", receipt_id=next_id)
    return redirect(reverse("console:receipts") + g.query)


@require_GET
@console_view(perms.RECEIPTS_REVIEW)
def receipt_image(request: HttpRequest, receipt_id: int) -> HttpResponse:
    return image_response(receipt_selectors.image_bytes(receipt=_receipt_or_404(request, receipt_id)))


# ---------------------------------------------------------------------------------------------- settings


class SettingsForm(forms.Form):
    is_enabled = forms.BooleanField(label=gettext_lazy("Members can submit receipts"), required=False)
    all_merchants = forms.BooleanField(label=gettext_lazy("Every merchant accepts receipts"), required=False)
    accepted_merchant_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Merchants that accept receipts"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=gettext_lazy("Used when not every merchant accepts receipts."),
    )
    auto_approve = forms.BooleanField(
        label=gettext_lazy("Approve automatically when the photo is read with certainty"), required=False
    )
    auto_approve_max = forms.CharField(label=gettext_lazy("Auto-approve up to (¥)"), max_length=12)
    auto_approve_min_confidence = forms.IntegerField(
        label=gettext_lazy("Minimum read confidence (%)"), min_value=50, max_value=100
    )
    max_age_days = forms.IntegerField(label=gettext_lazy("Maximum receipt age (days)"), min_value=1, max_value=365)
    daily_limit = forms.IntegerField(label=gettext_lazy("Receipts per member per day"), min_value=1, max_value=100)
    monthly_limit = forms.IntegerField(label=gettext_lazy("Receipts per member per month"), min_value=1, max_value=1000)
    merchant_confirmation = forms.BooleanField(
        label=gettext_lazy("Merchants confirm their own receipts in the merchant portal"), required=False
    )
    retention_days = forms.IntegerField(label=gettext_lazy("Keep photos for (days)"), min_value=1, max_value=3650)
    reject_reasons = forms.CharField(
        label=gettext_lazy("Reject reasons (one per line)"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )

    def __init__(self, *args: Any, merchants: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["accepted_merchant_ids"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = merchants

    def clean_auto_approve_max(self) -> int:
        fen = parse_yuan(self.cleaned_data["auto_approve_max"])
        if fen is None:
            raise forms.ValidationError(_("Enter an amount, e.g. 200."))
        return fen

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["auto_approve_max_fen"] = data.pop("auto_approve_max")
        return data


class AliasForm(forms.Form):
    merchant = forms.TypedChoiceField(label=gettext_lazy("Merchant"), coerce=int, choices=())
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AliasKind.choices)
    value = forms.CharField(label=gettext_lazy("Name or number"), max_length=60)

    def __init__(self, *args: Any, merchants: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["merchant"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = merchants


class BlockForm(forms.Form):
    member = forms.CharField(label=gettext_lazy("Member (card number or phone)"), max_length=40)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


def _settings_page(
    request: HttpRequest,
    g: GroupContext,
    *,
    form: SettingsForm | None = None,
    alias_form: AliasForm | None = None,
    block_form: BlockForm | None = None,
    status: int = 200,
) -> HttpResponse:
    merchants = receipt_selectors.merchant_options(mall_group_id=g.id)
    if form is None:
        rules = receipt_selectors.settings_for(mall_group_id=g.id)
        form = SettingsForm(
            merchants=merchants,
            initial={
                "is_enabled": rules.is_enabled,
                "all_merchants": rules.all_merchants,
                "accepted_merchant_ids": rules.accepted_merchant_ids,
                "auto_approve": rules.auto_approve,
                "auto_approve_max": f"{rules.auto_approve_max_fen / 100:.2f}",
                "auto_approve_min_confidence": rules.auto_approve_min_confidence,
                "max_age_days": rules.max_age_days,
                "daily_limit": rules.daily_limit,
                "monthly_limit": rules.monthly_limit,
                "merchant_confirmation": rules.merchant_confirmation,
                "retention_days": rules.retention_days,
                "reject_reasons": rules.reject_reasons,
            },
        )
    context = {
        "nav": "receipt_settings",
        "g": g,
        "form": form,
        "alias_form": alias_form or AliasForm(merchants=merchants),
        "block_form": block_form or BlockForm(),
        "aliases": list(receipt_selectors.alias_list(mall_group_id=g.id)),
        "blocks": list(receipt_selectors.block_list(mall_group_id=g.id)[:200]),
    }
    return render(request, "console/receipts/settings.html", context, status=status)


@console_view(perms.RECEIPTS_SETTINGS)
def receipt_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    if request.method != "POST":
        return _settings_page(request, g)
    merchants = receipt_selectors.merchant_options(mall_group_id=g.id)
    actor = actor_for(request)
    what = request.POST.get("what")
    try:
        if what == "alias":
            alias_form = AliasForm(request.POST, merchants=merchants)
            if not alias_form.is_valid():
                return _settings_page(request, g, alias_form=alias_form, status=400)
            receipt_services.receipt_alias_add(
                mall_group_id=g.id,
                merchant_id=alias_form.cleaned_data["merchant"],
                kind=alias_form.cleaned_data["kind"],
                value=alias_form.cleaned_data["value"],
                actor=actor,
            )
        elif what == "alias_remove":
            receipt_services.receipt_alias_remove(
                mall_group_id=g.id, alias_id=int(request.POST.get("alias_id") or 0), actor=actor
            )
        elif what in ("block", "unblock"):
            block_form = BlockForm(request.POST) if what == "block" else None
            if block_form is not None and not block_form.is_valid():
                return _settings_page(request, g, block_form=block_form, status=400)
            member_id = int(request.POST.get("member_id") or 0)
            if block_form is not None:
                found = member_resolve(mall_group_id=g.id, raw=block_form.cleaned_data["member"])
                if found is None:
                    block_form.add_error("member", _("No member with this card number or phone."))
                    return _settings_page(request, g, block_form=block_form, status=400)
                member_id = found.member.pk
            receipt_services.receipt_block_set(
                mall_group_id=g.id,
                member_id=member_id,
                blocked=what == "block",
                reason=block_form.cleaned_data["reason"] if block_form is not None else "",
                actor=actor,
            )
        else:
            form = SettingsForm(request.POST, merchants=merchants)
            if not form.is_valid():
                return _settings_page(request, g, form=form, status=400)
            receipt_services.receipt_settings_save(mall_group_id=g.id, values=form.values(), actor=actor)
    except (ApplicationError, ValueError) as exc:
        messages.error(request, error_message(exc) if isinstance(exc, ApplicationError) else str(exc))
        return _settings_page(request, g, status=400)
    messages.success(request, _("Saved."))
    return redirect(reverse("console:receipt_settings") + g.query)
