"""Member app: my privacy (隐私与授权) — consents with their history, my data export, delete my account.

Every view reads the member from the session (`member_view`); an export id of another member is a 404."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.malls.models import Mall
from galleria.members import rules as member_rules
from galleria.members.models import ConsentPurpose, JoinChannel, Member
from galleria.members.selectors import member_consent_history, member_current_consents
from galleria.members.services import consent_record
from galleria.members.types import OPT_OUT_PURPOSES
from galleria.privacy import conf
from galleria.privacy import selectors as privacy_selectors
from galleria.privacy import services as privacy_services
from galleria.privacy.exceptions import ConfirmationError
from galleria.privacy.models import RequestVia

from .views import _actor, _base_context, member_view

TOGGLE_PURPOSES = [p for p in ConsentPurpose if p != ConsentPurpose.PRIVACY_POLICY]


class DeleteForm(forms.Form):
    last4 = forms.CharField(
        label=gettext_lazy("Last 4 digits of your phone number"),
        min_length=4,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )
    understand = forms.BooleanField(
        label=gettext_lazy(
            "I understand that my points will be forfeited and my profile, card and history can no longer be used."
        )
    )


def _page(
    request: HttpRequest, member: Member, mall: Mall, *, delete_form: DeleteForm | None = None, status: int = 200
) -> HttpResponse:
    current = member_current_consents(member=member)
    pending = privacy_selectors.erasure_pending(member_id=member.pk)
    ctx = {
        **_base_context(mall, member, tab="profile"),
        "policy_agreed": current.get(ConsentPurpose.PRIVACY_POLICY),
        "toggles": [
            {"purpose": p.value, "label": p.label, "granted": bool(current.get(p.value, p.value in OPT_OUT_PURPOSES))}
            for p in TOGGLE_PURPOSES
        ],
        "history": list(member_consent_history(member_id=member.pk)[:30]),
        "exports": list(privacy_selectors.member_exports_available(member_id=member.pk)[:5]),
        "pending": pending,
        "delete_form": delete_form or DeleteForm(),
        "cooling_off_days": conf.cooling_off_days(),
        "export_ttl_days": conf.export_ttl_days(),
    }
    return render(request, "app/privacy/index.html", ctx, status=status)


@never_cache
@member_view
def privacy(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    return _page(request, member, mall)


@require_POST
@member_view
def consent(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    purpose = (request.POST.get("purpose") or "")[:30]
    granted = request.POST.get("granted") == "1"
    if purpose not in {p.value for p in TOGGLE_PURPOSES}:
        messages.error(request, _("Unknown consent purpose."))
        return redirect("app:privacy")
    try:
        consent_record(
            member_id=member.pk,
            purpose=purpose,
            is_granted=granted,
            channel=JoinChannel.APP,
            actor=_actor(request, member),
            mall_group_id=member.mall_group_id,
        )
    except (ApplicationError, Member.DoesNotExist):
        messages.error(request, _("Your choice could not be saved. Please try again."))
    else:
        label = ConsentPurpose(purpose).label
        if granted:
            messages.success(request, _("Turned on: %(purpose)s.") % {"purpose": label})
        else:
            messages.success(request, _("Withdrawn: %(purpose)s.") % {"purpose": label})
    return redirect("app:privacy")


@require_POST
@member_view
def export_create(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    try:
        req = privacy_services.export_create(
            member_id=member.pk, mall_group_id=member.mall_group_id, actor=_actor(request, member), via=RequestVia.APP
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("app:privacy")
    return redirect("app:privacy_export", export_id=req.pk)


def _export_or_404(member: Member, export_id: int) -> Any:
    req = privacy_selectors.member_export_get(member_id=member.pk, export_id=export_id)
    if req is None or req.data is None:
        raise Http404("export")
    return req


def _local(iso: str | None, mall: Mall) -> str:
    """An ISO timestamp of the export document as mall-local 'YYYY-MM-DD HH:MM' for the readable summary."""
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso)
    return timezone.localtime(moment, timeutil.zone(mall.timezone)).strftime("%Y-%m-%d %H:%M")


@never_cache
@member_view
def export_view(request: HttpRequest, member: Member, mall: Mall, export_id: int) -> HttpResponse:
    """The readable summary of an export (the same document as the JSON download)."""
    req = _export_or_404(member, export_id)
    doc = req.data
    privacy_services.export_downloaded(request=req, actor=_actor(request, member), fmt="html")
    profile = doc["profile"]
    purposes = dict(ConsentPurpose.choices)
    ctx = {
        **_base_context(mall, member, tab="profile"),
        "export": req,
        "doc": doc,
        "profile_phone": member_rules.national_phone(profile["phone"]) if profile["phone"] else "",
        "consents": [
            {**c, "label": purposes.get(c["purpose"], c["purpose"]), "at_local": _local(c["recorded_at"], mall)}
            for c in doc["consents"]
        ],
        "wallet_principal": format_cny(doc["wallet"]["principal_fen"]),
        "wallet_bonus": format_cny(doc["wallet"]["bonus_fen"]),
        "sales": [
            {**s, "total": format_cny(s["total_fen"]), "at_local": _local(s["at"], mall)} for s in doc["sales"][-20:]
        ][::-1],
        "counts": {
            "points_history": len(doc["points"]["history"]),
            "sales": len(doc["sales"]),
            "refunds": len(doc["refunds"]),
            "coupons": len(doc["coupons"]),
            "identifiers": len(doc["identifiers"]),
        },
    }
    return render(request, "app/privacy/export.html", ctx)


@never_cache
@member_view
def export_download(request: HttpRequest, member: Member, mall: Mall, export_id: int) -> HttpResponse:
    """The machine-readable export (JSON), as a file; only for the member it belongs to."""
    req = _export_or_404(member, export_id)
    privacy_services.export_downloaded(request=req, actor=_actor(request, member), fmt="json")
    body = json.dumps(req.data, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localtime(req.requested_at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    return response


@never_cache
@member_view
def delete(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    """Request deletion of the account: re-confirmed by the last 4 digits of the phone and an acknowledgement."""
    if request.method != "POST":
        return redirect("app:privacy")
    form = DeleteForm(request.POST)
    if form.is_valid():
        last4 = member_rules.national_phone(member.phone)[-4:]
        if form.cleaned_data["last4"] != last4:
            form.add_error("last4", str(ConfirmationError().message))
        else:
            try:
                req = privacy_services.erasure_request(
                    member_id=member.pk,
                    mall_group_id=member.mall_group_id,
                    actor=_actor(request, member),
                    via=RequestVia.APP,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                due = timezone.localtime(req.due_at).strftime("%Y-%m-%d %H:%M")
                messages.success(
                    request,
                    _("Deletion requested. Your account will be deleted after %(due)s; you can cancel until then.")
                    % {"due": due},
                )
                return redirect("app:privacy")
    return _page(request, member, mall, delete_form=form, status=422)


@require_POST
@member_view
def delete_cancel(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    try:
        privacy_services.erasure_cancel(
            member_id=member.pk, mall_group_id=member.mall_group_id, actor=_actor(request, member)
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Deletion cancelled. Your account stays as it is."))
    return redirect("app:privacy")
