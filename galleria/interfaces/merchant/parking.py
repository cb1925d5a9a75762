"""Merchant portal: parking granted to customers (docs/parking.md, "Merchant grants").

A cinema or a restaurant grants free parking hours to a visitor's licence plate; the shop pays for the parking fee
the hours actually cover (nothing for hours a car did not need). One page (`parking`): the grant form (hours offered
up to the allowance's most per grant and what is left of the month's hours), today's grants — or a whole month's —
with their state (waiting for the car / used in a stay, covering ¥x / expired / revoked) and a revoke button for
unused ones, the month's budget and cost so far, a month picker for past months, and a CSV export of a month.
Owners, managers and clerks (`portal.parking`); another merchant's grant is a 404. Every time shown is mall time.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for, spreadsheet_cell
from galleria.parking import rules as parking_rules
from galleria.parking import selectors_grants as grant_selectors
from galleria.parking import services_grants as grant_services
from galleria.parking.selectors_grants import GrantState

from .portal import apply_form_error, portal_merchant, portal_render, portal_view

PAGE_SIZE = 25
EXPORT_MAX = 50_000
STATE_BADGES: dict[str, str] = {
    GrantState.WAITING.value: "badge-warn",
    GrantState.USED.value: "badge-ok",
    GrantState.EXPIRED.value: "",
    GrantState.REVOKED.value: "badge-danger",
}


# ---------------------------------------------------------------------------------------------------- presenters
# (shared with the console's grants pages)


def hours_text(minutes: int) -> str:
    """150 → "2 h 30 min" (translated)."""
    hours, rest = divmod(max(minutes, 0), 60)
    if not rest:
        return _("%(h)s h") % {"h": hours}
    if not hours:
        return _("%(m)s min") % {"m": rest}
    return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}


def used_at(grant: Any) -> dt.datetime | None:
    """When the stay that used the grant was settled: it left, or paid (in the app or at the booth), or entered."""
    session = grant.session
    if session is None:
        return None
    return session.exit_at or session.paid_until or session.entry_at


def _kind(plate: str) -> str:
    try:
        return parking_rules.plate_kind(plate)
    except parking_rules.PlateError:
        return ""


def grant_rows(grants: Iterable[Any], *, now: dt.datetime) -> list[dict[str, Any]]:
    """Grants (from selectors_grants.grant_list) as the pages show them."""
    rows = []
    for g in grants:
        state = grant_selectors.grant_state(g, now=now)
        rows.append(
            {
                "grant": g,
                "plate": parking_rules.format_plate(g.plate),
                "new_energy": _kind(g.plate) == parking_rules.PlateKind.NEW_ENERGY,
                "state": state,
                "state_label": GrantState(state).label,
                "badge": STATE_BADGES.get(state, ""),
                "used_at": used_at(g),
                "minutes_used": hours_text(g.minutes_used) if g.session_id else "",
                "can_revoke": state in (GrantState.WAITING, GrantState.EXPIRED),
            }
        )
    return rows


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def grants_csv(grants: Iterable[Any], *, now: dt.datetime, filename: str, with_merchant: bool) -> HttpResponse:
    """A month's grants as CSV (UTF-8 with a BOM for Excel); typed text is neutralised against formulas."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    out = csv.writer(response)
    head = [
        _("Granted at"),
        _("Licence plate"),
        _("Hours granted"),
        _("State"),
        _("Used at"),
        _("Minutes used"),
        _("Fee covered (¥)"),
        _("Valid until"),
        _("Granted by"),
        _("Note"),
    ]
    out.writerow([_("Merchant"), *head] if with_merchant else head)
    for row in grant_rows(grants, now=now):
        g = row["grant"]
        cells = [
            _local(g.granted_at),
            row["plate"],
            g.hours,
            row["state_label"],
            _local(row["used_at"]),
            g.minutes_used if g.session_id else "",
            fen_to_yuan_str(g.fen_used) if g.session_id else "",
            _local(g.valid_until),
            spreadsheet_cell(g.granted_by),
            spreadsheet_cell(g.note),
        ]
        out.writerow([spreadsheet_cell(g.merchant.name), *cells] if with_merchant else cells)
    return response


# ---------------------------------------------------------------------------------------------------- the page


class GrantForm(forms.Form):
    plate = forms.CharField(
        label=gettext_lazy("Licence plate"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": "粤B12345", "autocomplete": "off", "autocapitalize": "characters"}
        ),
        error_messages={"required": gettext_lazy("Enter the customer's licence plate.")},
    )
    hours = forms.TypedChoiceField(
        label=pgettext_lazy("parking grant", "Hours"),
        coerce=int,
        error_messages={"required": gettext_lazy("Choose how many hours to grant.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        max_length=grant_services.MAX_NOTE,
        required=False,
        help_text=gettext_lazy("For your records, e.g. the film or the table. Only your staff see it."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, most: int, offered: int, **kwargs: Any) -> None:
        """Hours 1–`most` are accepted (the service checks the month's budget and says what is left); the select
        offers 1–`offered` (what the month's budget still allows)."""
        super().__init__(*args, **kwargs)
        hours = self.fields["hours"]
        assert isinstance(hours, forms.TypedChoiceField)
        hours.choices = [(n, _("%(n)s h") % {"n": n}) for n in range(1, max(most, 1) + 1)]
        hours.widget.choices = [(n, _("%(n)s h") % {"n": n}) for n in range(1, offered + 1)]


def _month_arg(request: HttpRequest, current: dt.date) -> dt.date:
    month = grant_selectors.parse_month(request.GET.get("month"))
    return current if month is None or month > current else month


def _page_url(month: dt.date, current: dt.date, *, whole_month: bool) -> str:
    params: dict[str, str] = {}
    if month != current:
        params["month"] = f"{month:%Y-%m}"
    elif whole_month:
        params["list"] = "month"
    url = reverse("merchant:parking")
    return f"{url}?{urlencode(params)}" if params else url


@never_cache
@portal_view(perms.PORTAL_PARKING)
def parking(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    tz_name = merchant.mall.timezone
    now = timeutil.now()
    current = grant_selectors.month_of(now, tz_name)
    month = current if request.method == "POST" else _month_arg(request, current)
    whole_month = month != current or request.GET.get("list") == "month"

    usage = grant_selectors.grant_usage(merchant_id=merchant.pk, month=current, tz_name=tz_name)
    offered = min(usage.max_hours_per_grant, usage.hours_left) if usage.has_allowance else 0
    form = GrantForm(
        request.POST if request.method == "POST" else None,
        most=usage.max_hours_per_grant,
        offered=offered,
        initial={"key": secrets.token_hex(16), "hours": min(offered, 2) or None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            granted = grant_services.grant_create(
                merchant_id=merchant.pk,
                plate=data["plate"],
                hours=data["hours"],
                note=data["note"],
                key=data["key"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            apply_form_error(form, exc)
        else:
            messages.success(
                request,
                _("Granted %(hours)s to %(plate)s, valid for a car that enters by %(until)s today.")
                % {
                    "hours": hours_text(granted.hours * 60),
                    "plate": parking_rules.format_plate(granted.plate),
                    "until": timezone.localtime(granted.valid_until).strftime("%H:%M"),
                },
            )
            return redirect("merchant:parking")
        usage = grant_selectors.grant_usage(merchant_id=merchant.pk, month=current, tz_name=tz_name)
        offered = min(usage.max_hours_per_grant, usage.hours_left) if usage.has_allowance else 0
        hours_field = form.fields["hours"]
        assert isinstance(hours_field, forms.TypedChoiceField)
        hours_field.widget.choices = [(n, _("%(n)s h") % {"n": n}) for n in range(1, offered + 1)]

    shown = (
        usage
        if month == current
        else grant_selectors.grant_usage(merchant_id=merchant.pk, month=month, tz_name=tz_name)
    )
    if whole_month:
        since, until = grant_selectors.month_bounds(month, tz_name)
    else:
        since, until = timeutil.local_day_bounds(timeutil.local_date(now, tz_name), tz_name)
    grants = grant_selectors.grant_list(merchant_id=merchant.pk, since=since, until=until, now=now)
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {"month": f"{month:%Y-%m}"} if month != current else ({"list": "month"} if whole_month else {})
    context = {
        "usage": shown,
        "is_current": month == current,
        "month": month,
        "months": grant_selectors.recent_months(current),
        "whole_month": whole_month,
        "form": form,
        "offered": offered,
        "page_obj": page,
        "rows": grant_rows(page.object_list, now=now),
        "query_string": urlencode(query),
        "next_url": _page_url(month, current, whole_month=whole_month),
        "export_url": reverse("merchant:parking_export") + "?" + urlencode({"month": f"{month:%Y-%m}"}),
        "today": timeutil.local_date(now, tz_name),
        "covered_text": hours_text(shown.minutes_used),
    }
    return portal_render(
        request,
        "merchant/parking/grants.html",
        context,
        nav="parking",
        merchant=merchant,
        status=422 if request.method == "POST" else 200,
    )


def _safe_next(request: HttpRequest) -> str:
    """Back to the page (and month) the revoke button was on; only our own page."""
    target = request.POST.get("next") or ""
    base = reverse("merchant:parking")
    return target if target == base or target.startswith(base + "?") else base


@require_POST
@portal_view(perms.PORTAL_PARKING)
def parking_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    if grant_selectors.grant_get(grant_id=grant_id, merchant_id=merchant.pk) is None:
        raise Http404("grant")
    try:
        revoked = grant_services.grant_revoke(grant_id=grant_id, merchant_id=merchant.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Revoked the %(hours)s granted to %(plate)s: the hours are back in the month's budget.")
            % {"hours": hours_text(revoked.hours * 60), "plate": parking_rules.format_plate(revoked.plate)},
        )
    return redirect(_safe_next(request))


@require_GET
@portal_view(perms.PORTAL_PARKING)
def parking_export(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    tz_name = merchant.mall.timezone
    now = timeutil.now()
    month = _month_arg(request, grant_selectors.month_of(now, tz_name))
    since, until = grant_selectors.month_bounds(month, tz_name)
    grants = grant_selectors.grant_list(merchant_id=merchant.pk, since=since, until=until, now=now)[:EXPORT_MAX]
    return grants_csv(grants, now=now, filename=f"parking-grants-{month:%Y-%m}.csv", with_merchant=False)
