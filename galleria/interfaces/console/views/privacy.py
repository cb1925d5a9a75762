"""Privacy in the console: consents, data export and erasure on a member's behalf (member 360 page), the list of
privacy requests, and the log of who was shown unmasked personal data."""

from __future__ import annotations

import datetime as dt
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
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.models import Member
from galleria.members.selectors import member_get
from galleria.members.services import consent_record
from galleria.members.types import ConsentPurpose, JoinChannel
from galleria.privacy import conf
from galleria.privacy import selectors as privacy_selectors
from galleria.privacy import services as privacy_services
from galleria.privacy.types import RequestKind, RequestStatus, RequestVia

from ..helpers import console_tz, console_view, error_message, page_of

EDITABLE_PURPOSES = [p for p in ConsentPurpose if p != ConsentPurpose.PRIVACY_POLICY]
LOG_PAGE_SIZE = 50


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=[(p.value, p.label) for p in EDITABLE_PURPOSES])
    granted = forms.TypedChoiceField(
        label=gettext_lazy("Choice"),
        choices=[("1", gettext_lazy("Granted")), ("0", gettext_lazy("Withdrawn"))],
        coerce=lambda v: v == "1",
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


def privacy_context(member: Member, **bound: Any) -> dict[str, Any]:
    """The member 360 page's privacy section (roles with privacy.manage)."""
    return {
        "privacy": {
            "consent_form": bound.get("consent_form") or ConsentForm(),
            "erasure_form": bound.get("erasure_form") or ReasonForm(prefix="erasure"),
            "pending": privacy_selectors.erasure_pending(member_id=member.pk),
            "requests": list(privacy_selectors.member_requests(member_id=member.pk)[:10]),
            "cooling_off_days": conf.cooling_off_days(),
        }
    }


def _member(request: HttpRequest, member_id: int) -> Member:
    try:
        return member_get(mall_group_id=scope_of(request).mall_group_id, member_id=member_id)
    except Member.DoesNotExist as exc:
        raise Http404("member") from exc


def _back(member: Member) -> HttpResponse:
    return redirect(reverse("console:member_detail", args=[member.pk]) + "#privacy")


@require_POST
@console_view(perms.PRIVACY_MANAGE)
def member_consent(request: HttpRequest, member_id: int) -> HttpResponse:
    """Record a consent change on the member's behalf (e.g. a withdrawal by phone), with the reason."""
    member = _member(request, member_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            consent_record(
                member_id=member.pk,
                purpose=form.cleaned_data["purpose"],
                is_granted=form.cleaned_data["granted"],
                channel=JoinChannel.DESK,
                actor=actor_for(request),
                reason=form.cleaned_data["reason"],
                mall_group_id=member.mall_group_id,
            )
        except Member.DoesNotExist:
            messages.error(request, _("This member is no longer active."))
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, _("Consent recorded."))
        return _back(member)
    messages.error(request, _("Choose a purpose and a choice, and give the reason."))
    return _back(member)


@require_POST
@console_view(perms.PRIVACY_MANAGE)
def member_export(request: HttpRequest, member_id: int) -> HttpResponse:
    """Prepare the member's data export on their behalf: the member downloads it in the app (staff cannot)."""
    member = _member(request, member_id)
    try:
        privacy_services.export_create(
            member_id=member.pk, mall_group_id=member.mall_group_id, actor=actor_for(request), via=RequestVia.CONSOLE
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("The export is ready. The member can download it in the app."))
    return _back(member)


@require_POST
@console_view(perms.PRIVACY_MANAGE)
def member_erasure(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    form = ReasonForm(request.POST, prefix="erasure")
    if not form.is_valid():
        messages.error(request, _("Give the reason for the deletion request."))
        return _back(member)
    try:
        req = privacy_services.erasure_request(
            member_id=member.pk,
            mall_group_id=member.mall_group_id,
            actor=actor_for(request),
            via=RequestVia.CONSOLE,
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        due = timezone.localtime(req.due_at).strftime("%Y-%m-%d %H:%M")
        messages.success(request, _("Deletion requested. The account will be erased after %(due)s.") % {"due": due})
    return _back(member)


@require_POST
@console_view(perms.PRIVACY_MANAGE)
def member_erasure_cancel(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    try:
        privacy_services.erasure_cancel(
            member_id=member.pk,
            mall_group_id=member.mall_group_id,
            actor=actor_for(request),
            reason=(request.POST.get("reason") or "")[:200],
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("The deletion request was cancelled."))
    return _back(member)


class RequestFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), required=False, choices=[("", gettext_lazy("All")), *list(RequestKind.choices)]
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *list(RequestStatus.choices)],
    )


@console_view(perms.PRIVACY_MANAGE)
def request_list(request: HttpRequest) -> HttpResponse:
    """Privacy requests of the scope: pending erasures with their due dates first by default, exports."""
    scope = scope_of(request)
    form = RequestFilterForm(request.GET or None)
    kind = status = ""
    if form.is_valid():
        kind, status = form.cleaned_data["kind"], form.cleaned_data["status"]
    qs = privacy_selectors.request_list(mall_group_id=scope.mall_group_id, kind=kind, status=status)
    page, query_string = page_of(request, qs)
    return render(
        request,
        "console/privacy/requests.html",
        {"nav": "privacy_requests", "form": form, "page_obj": page, "query_string": query_string},
    )


class AccessLogFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Staff user"), required=False, max_length=100)
    member = forms.IntegerField(label=gettext_lazy("Member ID"), required=False, min_value=1, max_value=2**62)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


@console_view(perms.PRIVACY_ACCESS_LOG)
def access_log(request: HttpRequest) -> HttpResponse:
    """Who was shown whose unmasked personal data, when, where and from which IP (dates are mall-local days)."""
    scope = scope_of(request)
    form = AccessLogFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound:
        tz = console_tz(request)
        data = form.cleaned_data
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        filters = {
            "actor": data.get("actor") or "",
            "member_id": data.get("member"),
            "date_from": timeutil.local_day_bounds(start, tz)[0] if start else None,
            "date_to": timeutil.local_day_bounds(end, tz)[1] if end else None,
        }
    qs = privacy_selectors.access_log_search(mall_group_id=scope.mall_group_id, **filters)
    page, query_string = page_of(request, qs, LOG_PAGE_SIZE)
    return render(
        request,
        "console/privacy/access_log.html",
        {"nav": "privacy_access_log", "form": form, "page_obj": page, "query_string": query_string},
        status=status,
    )
