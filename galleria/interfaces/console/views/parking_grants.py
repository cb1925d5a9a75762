"""Console: merchants' parking grants (docs/parking.md, "Merchant grants").

- `parking_grants` (parking.view): every merchant's month — its allowance, the hours granted and used, and the cost
  (the parking fees its grants covered: what the mall bills it) — with the month's total, and the grants across
  merchants with filters (merchant, state, plate) and a CSV export. Months are mall-local calendar months.
- `parking_grant_allowance` (parking.manage): what one merchant may grant — hours a month (0 stops new grants) and
  the most hours in one grant — with its month so far and its latest grants. A merchant of another group is a 404.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import merchant_options
from galleria.parking import selectors_grants as grant_selectors
from galleria.parking import services_grants as grant_services
from galleria.parking.selectors_grants import GrantState

from ...merchant.parking import EXPORT_MAX, grant_rows, grants_csv, hours_text
from ..helpers import add_application_error, console_tz, console_view, page_of
from ..loyalty import group_context

PLATE_SEARCH = re.compile(r"[\s·.\-]")


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@require_GET
@console_view(perms.PARKING_VIEW)
def parking_grants(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    merchants = list(merchant_options(mall_group_id=g.id))
    setup = _int(request.GET.get("setup"))
    if setup is not None and any(m.pk == setup for m in merchants):
        return redirect(reverse("console:parking_grant_allowance", args=[setup]) + g.query)
    tz_name = console_tz(request)
    now = timeutil.now()
    current = grant_selectors.month_of(now, tz_name)
    month = grant_selectors.parse_month(request.GET.get("month")) or current
    month = min(month, current)
    merchant_id = _int(request.GET.get("merchant"))
    if not any(m.pk == merchant_id for m in merchants):
        merchant_id = None
    state = request.GET.get("state") or ""
    state = state if state in GrantState.values else ""
    plate = PLATE_SEARCH.sub("", (request.GET.get("q") or "").strip()).upper()[:12]

    since, until = grant_selectors.month_bounds(month, tz_name)
    grants = grant_selectors.grant_list(
        mall_group_id=g.id, merchant_id=merchant_id, since=since, until=until, state=state, plate=plate, now=now
    )
    if request.GET.get("export") == "csv":
        return grants_csv(
            grants[:EXPORT_MAX], now=now, filename=f"parking-grants-{month:%Y-%m}.csv", with_merchant=True
        )
    page, query_string = page_of(request, grants)
    summary = grant_selectors.merchant_months(mall_group_id=g.id, month=month)
    summary_rows = [{"m": m, "used_text": hours_text(m.minutes_used)} for m in summary]
    totals = {
        "hours_granted": sum(m.hours_granted for m in summary),
        "grants": sum(m.grants for m in summary),
        "grants_used": sum(m.grants_used for m in summary),
        "used_text": hours_text(sum(m.minutes_used for m in summary)),
        "fen_covered": sum(m.fen_covered for m in summary),
    }
    with_allowance = {m.merchant_id for m in summary if m.has_allowance}
    params = request.GET.copy()
    params.pop("page", None)
    params["export"] = "csv"
    return render(
        request,
        "console/parking/grants.html",
        {
            "nav": "parking_grants",
            "g": g,
            "month": month,
            "is_current": month == current,
            "months": grant_selectors.recent_months(current),
            "merchants": merchants,
            "merchant_id": merchant_id,
            "state": state,
            "states": GrantState.choices,
            "q": plate,
            "summary": summary_rows,
            "totals": totals,
            "page_obj": page,
            "query_string": query_string,
            "rows": grant_rows(page.object_list, now=now),
            "export_query": params.urlencode(),
            "can_manage": scope_of(request).can(perms.PARKING_MANAGE),
            "setup_options": [m for m in merchants if m.pk not in with_allowance],
        },
    )


class AllowanceForm(forms.Form):
    monthly_hours = forms.IntegerField(
        label=gettext_lazy("Hours a month"),
        min_value=0,
        max_value=grant_services.MAX_MONTHLY_HOURS,
        help_text=gettext_lazy("The most hours the merchant may grant in a calendar month. 0 stops new grants."),
    )
    max_hours_per_grant = forms.IntegerField(
        label=gettext_lazy("Most hours in one grant"),
        min_value=1,
        max_value=grant_services.MAX_HOURS_PER_GRANT,
        help_text=gettext_lazy("What one customer can get at once (a grant is valid for the day it is made)."),
    )


@console_view(perms.PARKING_MANAGE)
def parking_grant_allowance(request: HttpRequest, merchant_id: int) -> HttpResponse:
    scope = scope_of(request)
    merchant = next((m for m in merchant_options(mall_group_id=scope.mall_group_id) if m.pk == merchant_id), None)
    if merchant is None:
        raise Http404("merchant")
    g = group_context(request, group_id=merchant.mall.group_id)
    allowance = grant_selectors.allowance_get(merchant_id=merchant.pk)
    initial: dict[str, Any] = (
        {"monthly_hours": allowance.monthly_hours, "max_hours_per_grant": allowance.max_hours_per_grant}
        if allowance
        else {"monthly_hours": 40, "max_hours_per_grant": 3}
    )
    form = AllowanceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            grant_services.allowance_save(
                merchant_id=merchant.pk,
                monthly_hours=form.cleaned_data["monthly_hours"],
                max_hours_per_grant=form.cleaned_data["max_hours_per_grant"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("Saved what %(merchant)s may grant.") % {"merchant": merchant.name})
            query = f"?merchant={merchant.pk}" + g.query.replace("?", "&")
            return redirect(reverse("console:parking_grants") + query)
    tz_name = merchant.mall.timezone
    now = timeutil.now()
    month = grant_selectors.month_of(now, tz_name)
    usage = grant_selectors.grant_usage(merchant_id=merchant.pk, month=month, tz_name=tz_name)
    recent = grant_selectors.grant_list(merchant_id=merchant.pk, now=now)[:10]
    return render(
        request,
        "console/parking/grants_allowance.html",
        {
            "nav": "parking_grants",
            "g": g,
            "merchant": merchant,
            "allowance": allowance,
            "form": form,
            "usage": usage,
            "used_text": hours_text(usage.minutes_used),
            "month": month,
            "rows": grant_rows(recent, now=now),
        },
        status=422 if request.method == "POST" else 200,
    )
