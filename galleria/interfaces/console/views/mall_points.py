"""Console: 智慧商圈 (payment-linked points) — every 商圈 payment WeChat told the mall about, with the member
(masked), the shop and merchant it mapped to, the amount, the points credited or why none, refunds, and whether
the points were reported back to WeChat; filters, CSV export, a detail page (refunds, the notifications, "report
again" for a report WeChat refused) and the web-authorisation settings (the Official Account's AppSecret).

The merchants' 商圈 mapping (their WeChat Pay merchant number and shop number) is edited on the payment profile
page (`console:payment_profile`)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any, cast

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
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for
from galleria.members import rules as member_rules
from galleria.merchants.selectors import merchant_options
from galleria.payments import selectors as payment_selectors
from galleria.payments import selectors_mall
from galleria.payments.services.mall_points_sync import mall_points_resync
from galleria.payments.services.wechat_link import oauth_app_save

from ..helpers import console_tz, console_view, page_of
from ..loyalty import group_context

EXPORT_MAX = 50_000


ALL = [("", gettext_lazy("All"))]


class FilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=ALL + list(selectors_mall.MallTxnState.choices))
    reason = forms.ChoiceField(required=False, choices=ALL + list(selectors_mall.MallNoPoints.choices))
    sync = forms.ChoiceField(required=False, choices=ALL + list(selectors_mall.MallSyncState.choices))
    merchant = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    q = forms.CharField(required=False, max_length=64)
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def __init__(self, *args: Any, merchants: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["merchant"]).choices = [*ALL, *merchants]

    def filters(self, tz: str | None) -> selectors_mall.MallFilters:
        data = self.cleaned_data if self.is_valid() else {}
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        return selectors_mall.MallFilters(
            state=data.get("state") or "",
            reason=data.get("reason") or "",
            sync_state=data.get("sync") or "",
            merchant_id=data.get("merchant"),
            query=(data.get("q") or "").strip(),
            since=timeutil.local_day_bounds(start, tz)[0] if start else None,
            until=timeutil.local_day_bounds(end, tz)[1] if end else None,
        )


def masked_member(member: Any) -> str:
    """What the list shows of a member: the masked phone (138****5678), else the card number's last digits."""
    if member is None:
        return ""
    if member.phone:
        return member_rules.mask_phone(member.phone)
    return f"…{member.card_no[-4:]}" if member.card_no else "—"


def masked_openid(openid: str) -> str:
    return f"{openid[:6]}…{openid[-4:]}" if len(openid) > 12 else openid


@console_view(perms.PAYMENTS_VIEW)
def mall_points(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    merchants = [(m.pk, m.name) for m in merchant_options(mall_group_id=g.id)]
    form = FilterForm(request.GET or None, merchants=merchants)
    filters = form.filters(console_tz(request))
    rows = selectors_mall.mall_txn_list(mall_group_id=g.id, filters=filters)
    if request.GET.get("export") == "csv":
        return _export(rows)
    page, query_string = page_of(request, rows)
    return render(
        request,
        "console/mall_points/list.html",
        {
            "nav": "mall_points",
            "g": g,
            "form": form,
            "page_obj": page,
            "rows": [{"t": t, "member": masked_member(t.member), "openid": masked_openid(t.openid)} for t in page],
            "query_string": query_string,
            "summary": selectors_mall.mall_txn_summary(mall_group_id=g.id, filters=filters),
        },
    )


def _export(rows: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="wechat-mall-points.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    out = csv.writer(response)
    out.writerow(
        [
            _("Paid at"),
            _("WeChat transaction"),
            _("Member"),
            _("Shop"),
            _("Merchant"),
            _("Amount (¥)"),
            _("Points"),
            _("State"),
            _("Reason"),
            _("Refunded (¥)"),
            _("Points reversed"),
            _("Report to WeChat"),
        ]
    )
    for t in rows[:EXPORT_MAX]:
        out.writerow(
            [
                timezone.localtime(t.paid_at).strftime("%Y-%m-%d %H:%M:%S") if t.paid_at else "",
                t.transaction_id,
                masked_member(t.member),
                t.shop_name or t.shop_number,
                t.merchant.name if t.merchant else "",
                fen_to_yuan_str(t.amount_fen),
                t.points,
                t.get_state_display(),
                t.get_reason_display() if t.reason else "",
                fen_to_yuan_str(t.refunded_fen),
                t.points_reversed,
                t.get_sync_state_display(),
            ]
        )
    return response


@console_view(perms.PAYMENTS_VIEW)
def mall_point(request: HttpRequest, txn_id: int) -> HttpResponse:
    g = group_context(request)
    txn = selectors_mall.mall_txn_get(mall_group_id=g.id, txn_id=txn_id)
    if txn is None:
        raise Http404("mall transaction")
    return render(
        request,
        "console/mall_points/detail.html",
        {
            "nav": "mall_points",
            "g": g,
            "t": txn,
            "member_masked": masked_member(txn.member),
            "openid_masked": masked_openid(txn.openid),
            "refunds": selectors_mall.mall_txn_refunds(txn_id=txn.pk),
            "notices": payment_selectors.attempt_notices(out_trade_no=txn.transaction_id),
        },
    )


@require_POST
@console_view(perms.PAYMENTS_MANAGE)
def mall_point_resync(request: HttpRequest, txn_id: int) -> HttpResponse:
    """Send a points report WeChat refused (or has not taken yet) again, now."""
    g = group_context(request)
    txn = selectors_mall.mall_txn_get(mall_group_id=g.id, txn_id=txn_id)
    if txn is None:
        raise Http404("mall transaction")
    state = mall_points_resync(mall_group_id=g.id, txn_id=txn.pk, actor=actor_for(request))
    label = selectors_mall.MallSyncState(state).label
    messages.info(request, _("Reported again; the report is now: %(state)s.") % {"state": label})
    return redirect(reverse("console:mall_point", args=[txn.pk]) + g.query)


class OAuthForm(forms.Form):
    app_secret = forms.CharField(
        label=gettext_lazy("AppSecret of the Official Account"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Leave empty to keep the stored one. Or write env:VARIABLE to read it from the server's environment."
        ),
    )
    authorize_base_url = forms.URLField(
        label=gettext_lazy("Authorisation page host"), max_length=200, assume_scheme="https"
    )
    api_base_url = forms.URLField(label=gettext_lazy("API host"), max_length=200, assume_scheme="https")

    def __init__(self, *args: Any, has_secret: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        secret = data.get("app_secret") or ""
        if not self.has_secret and not secret:
            self.add_error("app_secret", _("Enter the AppSecret."))
        elif (
            secret
            and not secret.startswith("env:")
            and not (len(secret) == 32 and all(c in "0123456789abcdefABCDEF" for c in secret))
        ):
            self.add_error("app_secret", _("An AppSecret is 32 hexadecimal characters."))
        return data


@console_view(perms.PAYMENTS_MANAGE)
def mall_points_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    app = selectors_mall.oauth_app_get(mall_group_id=g.id)
    credential = payment_selectors.credential_get(mall_group_id=g.id, provider="wechat")
    initial = {
        "authorize_base_url": app.authorize_base_url if app else "https://open.weixin.qq.com",
        "api_base_url": app.api_base_url if app else "https://api.weixin.qq.com",
    }
    form = OAuthForm(request.POST or None, initial=initial, has_secret=bool(app and app.app_secret_enc))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            oauth_app_save(
                mall_group_id=g.id,
                app_secret=data.get("app_secret") or "",
                authorize_base_url=data["authorize_base_url"],
                api_base_url=data["api_base_url"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved. The AppSecret is stored encrypted and is not shown again."))
            return redirect(reverse("console:mall_points_settings") + g.query)
    return render(
        request,
        "console/mall_points/settings.html",
        {
            "nav": "mall_points",
            "g": g,
            "form": form,
            "app": app,
            "credential": credential,
            "oauth_domain": request.get_host(),
        },
        status=422 if request.method == "POST" else 200,
    )
