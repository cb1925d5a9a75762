"""Console: money through the gateways — payments (top-ups and pay-at-store) with their refunds and the gateway's
notifications, the notification log (forged ones included), the group's gateway credentials (secrets write-only:
entered, sealed at rest, never shown again) and each store's printable payment QR."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for
from galleria.merchants.selectors import merchant_options
from galleria.payments import selectors as payment_selectors
from galleria.payments import services as payment_services
from galleria.payments.types import AttemptState, NoticeOutcome, ProviderChoice, Purpose

from ...merchant.payments import qr_cards
from ..helpers import console_view, page_of
from ..loyalty import group_context

EXPORT_MAX = 50_000


def _filters(request: HttpRequest) -> dict[str, str]:
    def pick(name: str, allowed: list[str]) -> str:
        value = request.GET.get(name) or ""
        return value if value in allowed else ""

    return {
        "state": pick("state", AttemptState.values),
        "purpose": pick("purpose", Purpose.values),
        "provider": pick("provider", ProviderChoice.values),
        "query": (request.GET.get("q") or "").strip()[:64],
    }


@console_view(perms.PAYMENTS_VIEW)
def payments(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    f = _filters(request)
    rows = payment_selectors.payment_list(mall_group_id=g.id, **f)
    if request.GET.get("export") == "csv":
        return _export(rows)
    page, query_string = page_of(request, rows)
    return render(
        request,
        "console/payments/list.html",
        {
            "nav": "payments",
            "g": g,
            "page_obj": page,
            "query_string": query_string,
            "f": f,
            "states": AttemptState.choices,
            "purposes": Purpose.choices,
            "providers": ProviderChoice.choices,
        },
    )


def _export(rows: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payments.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    out = csv.writer(response)
    out.writerow(
        [
            _("Created"),
            _("Number"),
            _("Provider"),
            _("Purpose"),
            _("State"),
            _("Merchant"),
            _("Amount (¥)"),
            _("Paid (¥)"),
            _("Refunded (¥)"),
            _("Gateway transaction"),
            _("Paid at"),
        ]
    )
    for a in rows[:EXPORT_MAX]:
        out.writerow(
            [
                timezone.localtime(a.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                a.out_trade_no,
                a.get_provider_display(),
                a.get_purpose_display(),
                a.get_state_display(),
                a.merchant.name if a.merchant else "",
                fen_to_yuan_str(a.amount_fen),
                fen_to_yuan_str(a.paid_fen) if a.paid_fen is not None else "",
                fen_to_yuan_str(a.refunded_fen),
                a.transaction_id,
                timezone.localtime(a.paid_at).strftime("%Y-%m-%d %H:%M:%S") if a.paid_at else "",
            ]
        )
    return response


@console_view(perms.PAYMENTS_VIEW)
def payment_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    g = group_context(request)
    attempt = payment_selectors.payment_get(mall_group_id=g.id, attempt_id=attempt_id)
    if attempt is None:
        raise Http404("payment")
    return render(
        request,
        "console/payments/detail.html",
        {
            "nav": "payments",
            "g": g,
            "a": attempt,
            "refunds": payment_selectors.attempt_refunds(attempt_id=attempt.pk),
            "notices": payment_selectors.attempt_notices(out_trade_no=attempt.out_trade_no),
        },
    )


@console_view(perms.PAYMENTS_VIEW)
def payment_notices(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    outcome = request.GET.get("outcome") or ""
    outcome = outcome if outcome in NoticeOutcome.values else ""
    page, query_string = page_of(request, payment_selectors.notice_list(mall_group_id=g.id, outcome=outcome))
    return render(
        request,
        "console/payments/notices.html",
        {
            "nav": "payment_notices",
            "g": g,
            "page_obj": page,
            "query_string": query_string,
            "outcome": outcome,
            "outcomes": NoticeOutcome.choices,
        },
    )


class CredentialForm(forms.Form):
    base_url = forms.URLField(label=gettext_lazy("Gateway URL"), max_length=200, assume_scheme="https")
    app_id = forms.CharField(label=gettext_lazy("App ID"), max_length=40)
    mch_id = forms.CharField(label=gettext_lazy("Merchant number (WeChat Pay)"), max_length=32, required=False)
    cert_serial_no = forms.CharField(
        label=gettext_lazy("API certificate serial (WeChat Pay)"), max_length=64, required=False
    )
    platform_public_key_id = forms.CharField(
        label=gettext_lazy("Platform public key ID (WeChat Pay)"), max_length=64, required=False
    )
    platform_public_key = forms.CharField(
        label=gettext_lazy("Platform public key (PEM)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    private_key = forms.CharField(
        label=gettext_lazy("Our private key (PEM)"),
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        required=False,
        help_text=gettext_lazy(
            "Leave empty to keep the stored key. Or write env:VARIABLE to read it from the server's environment."
        ),
    )
    apiv3_key = forms.CharField(
        label=gettext_lazy("APIv3 key (WeChat Pay)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Leave empty to keep the stored key."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Take payments with it"), required=False)

    def __init__(self, *args: Any, provider: str, has_secret: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.has_secret = has_secret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.has_secret and not data.get("private_key"):
            self.add_error("private_key", _("Enter the private key."))
        if self.provider == "wechat":
            for name in ("mch_id", "cert_serial_no", "platform_public_key_id", "platform_public_key"):
                if not data.get(name):
                    self.add_error(name, _("WeChat Pay needs this."))
            key = data.get("apiv3_key") or ""
            if not self.has_secret and not key:
                self.add_error("apiv3_key", _("WeChat Pay needs this."))
            elif key and not key.startswith("env:") and len(key) != 32:
                self.add_error("apiv3_key", _("The APIv3 key has exactly 32 characters."))
        elif not data.get("platform_public_key"):
            self.add_error("platform_public_key", _("Alipay needs its public key."))
        return data


@console_view(perms.PAYMENTS_MANAGE)
def payment_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    provider = request.GET.get("provider") or request.POST.get("provider") or "wechat"
    if provider not in ProviderChoice.values:
        raise Http404("provider")
    current = payment_selectors.credential_get(mall_group_id=g.id, provider=provider)
    initial: dict[str, Any] = {"is_active": True}
    if current is not None:
        initial = {name: getattr(current, name) for name in payment_services.PUBLIC_FIELDS} | {
            "is_active": current.is_active
        }
    form = CredentialForm(
        request.POST or None, initial=initial, provider=provider, has_secret=bool(current and current.private_key_enc)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment_services.credential_save(
                mall_group_id=g.id,
                provider=provider,
                values={name: data.get(name) or "" for name in payment_services.PUBLIC_FIELDS},
                private_key=data.get("private_key") or "",
                apiv3_key=data.get("apiv3_key") or "",
                is_active=bool(data.get("is_active")),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved. Secrets are stored encrypted and are not shown again."))
            return redirect(reverse("console:payment_settings") + f"?provider={provider}" + g.query.replace("?", "&"))
    return render(
        request,
        "console/payments/settings.html",
        {
            "nav": "payment_settings",
            "g": g,
            "provider": provider,
            "providers": ProviderChoice.choices,
            "form": form,
            "current": current,
            "notify_url": payment_services.notify_url(current) if current else "",
        },
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.MERCHANTS_VIEW)
def payment_qr(request: HttpRequest) -> HttpResponse:
    """Each store's payment QR for a merchant, to print for the till (the same card the merchant portal prints)."""
    g = group_context(request)
    options = list(merchant_options(mall_group_id=g.id))
    try:
        merchant_id = int(request.GET.get("merchant") or (options[0].pk if options else 0))
    except ValueError:
        merchant_id = 0
    merchant = next((m for m in options if m.pk == merchant_id), None)
    cards = qr_cards(request, merchant_id=merchant.pk) if merchant is not None else []
    return render(
        request,
        "console/payments/qr.html",
        {"nav": "payment_qr", "g": g, "merchants": options, "merchant": merchant, "cards": cards},
    )


@require_POST
@console_view(perms.PAYMENTS_MANAGE)
def payment_sync(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Ask the gateway about a payment still waiting (the same query the member's payment page makes)."""
    g = group_context(request)
    attempt = payment_selectors.payment_get(mall_group_id=g.id, attempt_id=attempt_id)
    if attempt is None:
        raise Http404("payment")
    state = payment_services.attempt_sync(attempt_id=attempt.pk)
    label = AttemptState(state).label if state in AttemptState.values else state
    messages.info(request, _("The gateway was asked; the payment is now: %(state)s.") % {"state": label})
    return redirect("console:payment", attempt_id=attempt.pk)


class ProfileForm(forms.Form):
    pay_at_store = forms.BooleanField(label=gettext_lazy("Members may pay this merchant in the app"), required=False)
    wechat_mchid = forms.RegexField(
        label=gettext_lazy("The shop's WeChat Pay merchant number"),
        regex=r"^[0-9]{8,12}$",
        required=False,
        help_text=gettext_lazy("For 智慧商圈 points: the merchant number the shop's own WeChat Pay payments carry."),
        error_messages={"invalid": gettext_lazy("A WeChat Pay merchant number has 8 to 12 digits.")},
    )
    wechat_shop_number = forms.CharField(
        label=gettext_lazy("The shop's number at WeChat"), max_length=64, required=False
    )
    share_receiver_type = forms.ChoiceField(
        label=gettext_lazy("Profit-sharing receiver"),
        choices=[
            ("", gettext_lazy("None: settle by bank transfer")),
            ("MERCHANT_ID", gettext_lazy("WeChat Pay merchant")),
            ("PERSONAL_OPENID", gettext_lazy("Personal WeChat user")),
        ],
        required=False,
    )
    share_receiver_account = forms.CharField(label=gettext_lazy("Receiver account"), max_length=64, required=False)
    share_receiver_name = forms.CharField(label=gettext_lazy("Receiver name"), max_length=80, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("share_receiver_type") and not data.get("share_receiver_account"):
            self.add_error("share_receiver_account", _("Enter the receiver's account."))
        if data.get("share_receiver_type") == "MERCHANT_ID" and not data.get("share_receiver_name"):
            self.add_error("share_receiver_name", _("WeChat Pay needs the merchant's full name."))
        return data


@console_view(perms.PAYMENTS_MANAGE)
def payment_profile(request: HttpRequest, merchant_id: int) -> HttpResponse:
    g = group_context(request)
    merchant = next((m for m in merchant_options(mall_group_id=g.id) if m.pk == merchant_id), None)
    if merchant is None:
        raise Http404("merchant")
    current = payment_selectors.merchant_profile(merchant_id=merchant.pk)
    initial = (
        {name: getattr(current, name) for name in payment_services.PROFILE_FIELDS}
        if current
        else {"pay_at_store": True}
    )
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payment_services.merchant_profile_save(
                mall_group_id=g.id, merchant_id=merchant.pk, values=dict(form.cleaned_data), actor=actor_for(request)
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("console:payment_profile", args=[merchant.pk]) + g.query)
    return render(
        request,
        "console/payments/profile.html",
        {"nav": "payment_qr", "g": g, "merchant": merchant, "form": form},
        status=422 if request.method == "POST" else 200,
    )
