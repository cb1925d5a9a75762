"""Console: a car park's tariff versions (docs/parking.md, "Console (operators)") — the versions (in force,
scheduled, past), a new version's form with a fee preview before saving, a saved version with its own preview, and
withdrawing a version that is not in force yet. Versions are never edited: a change is a new version from a later
moment (galleria/parking/services_admin.py says the rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.parking import rules, selectors, selectors_console, services_admin

from ..helpers import console_view, error_message
from ..parking_forms import WEEKDAYS, PreviewForm, TariffForm, apply_errors
from .parking_common import TARIFF_STATUS, date_ranges, explain_result, park_or_404

PREVIEW_ERRORS = {"exit_at": "exit_at", "tier_hours": "tier_hours", "spend_today_fen": "spend_today_fen"}


def _preview_initial(tz: dt.tzinfo) -> dict[str, Any]:
    """A 6-hour stay today (10:00–16:00, mall time): the issue's example."""
    today = timeutil.now().astimezone(tz).date()
    return {
        "entry_at": dt.datetime.combine(today, dt.time(10), tzinfo=tz),
        "exit_at": dt.datetime.combine(today, dt.time(16), tzinfo=tz),
        "tier_hours": 0,
        "grant_hours": 0,
    }


def _preview(form: PreviewForm, tariff: rules.Tariff, park: Any, tz: dt.tzinfo) -> Any:
    """The preview's result in words, or None (the form then carries the errors)."""
    d = form.cleaned_data
    try:
        result = services_admin.fee_preview(
            tariff,
            entry_at=d["entry_at"],
            exit_at=d["exit_at"],
            tz=tz,
            tier_hours=d.get("tier_hours") or 0,
            spend_today_fen=d.get("spend_today_fen") or 0,
            spend_steps=[(int(a), int(b)) for a, b in park.spend_steps or ()],
            grant_hours=d.get("grant_hours") or 0,
        )
    except ApplicationError as exc:
        apply_errors(form, exc, PREVIEW_ERRORS)
        return None
    return explain_result(result, tz)


@console_view(perms.PARKING_VIEW)
def tariffs(request: HttpRequest, car_park_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    with timezone.override(timeutil.zone(park.mall.timezone)):
        return render(
            request,
            "console/parking/tariffs.html",
            {
                "nav": "parking",
                "g": g,
                "park": park,
                "rows": selectors_console.tariff_rows(car_park_id=park.pk),
                "status_labels": TARIFF_STATUS,
                "can_manage": scope_of(request).can(perms.PARKING_MANAGE),
            },
        )


@console_view(perms.PARKING_MANAGE)
def tariff_new(request: HttpRequest, car_park_id: int) -> HttpResponse:
    """The new version's form. "Preview" prices the stay below with the version as typed (nothing is saved);
    "Save" creates it. Without a version to start from the form is empty; `?from=<id>` copies a saved version."""
    park, g = park_or_404(request, car_park_id)
    tz = timeutil.zone(park.mall.timezone)
    with timezone.override(tz):
        rows = selectors_console.tariff_rows(car_park_id=park.pk)
        source = None
        wanted = request.GET.get("from")
        if wanted and wanted.isdigit():
            source = next((r.version for r in rows if r.version.pk == int(wanted)), None)
        elif rows:
            source = rows[0].version
        initial = TariffForm.initial_for(source) if source is not None else {"free_minutes": 0}
        form = TariffForm(request.POST or None, initial=initial)
        preview_form = PreviewForm(request.POST or None, initial=_preview_initial(tz))
        explained = None
        status = 200
        if request.method == "POST":
            action = request.POST.get("action", "save")
            if form.is_valid():
                data = form.to_input()
                if action == "preview":
                    try:
                        tariff = services_admin.tariff_build(data)
                    except ApplicationError as exc:
                        apply_errors(form, exc, form.error_names())
                    else:
                        if preview_form.is_valid():
                            explained = _preview(preview_form, tariff, park, tz)
                else:
                    try:
                        version = services_admin.tariff_version_create(
                            mall_group_id=g.id, car_park_id=park.pk, data=data, actor=actor_for(request)
                        )
                    except ApplicationError as exc:
                        apply_errors(form, exc, form.error_names())
                    else:
                        messages.success(request, _("Version %(code)s saved.") % {"code": version.code})
                        return redirect("console:parking_tariff", car_park_id=park.pk, version_id=version.pk)
            status = 200 if explained is not None else 422
        return render(
            request,
            "console/parking/tariff_form.html",
            {
                "nav": "parking",
                "g": g,
                "park": park,
                "form": form,
                "preview_form": preview_form,
                "explained": explained,
                "source": source,
                "latest": rows[0] if rows else None,
                "status_labels": TARIFF_STATUS,
            },
            status=status,
        )


@console_view(perms.PARKING_VIEW)
def tariff_detail(request: HttpRequest, car_park_id: int, version_id: int) -> HttpResponse:
    """A saved version (read only) and a fee preview with it: the stay and benefits come in the query string."""
    park, g = park_or_404(request, car_park_id)
    tz = timeutil.zone(park.mall.timezone)
    with timezone.override(tz):
        rows = selectors_console.tariff_rows(car_park_id=park.pk)
        row = next((r for r in rows if r.version.pk == version_id), None)
        if row is None:
            raise Http404("tariff")
        explained = None
        asked = any(key.startswith("p-") for key in request.GET)
        preview_form = PreviewForm(request.GET if asked else None, initial=_preview_initial(tz))
        if asked and preview_form.is_valid():
            explained = _preview(preview_form, selectors.tariff_rules(row.version), park, tz)
        return render(
            request,
            "console/parking/tariff.html",
            {
                "nav": "parking",
                "g": g,
                "park": park,
                "row": row,
                "v": row.version,
                "holidays": _holiday_rows(row.version.holidays or []),
                "preview_form": preview_form,
                "explained": explained,
                "status_labels": TARIFF_STATUS,
                "can_manage": scope_of(request).can(perms.PARKING_MANAGE),
            },
        )


def _holiday_rows(rules_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [str(label) for _v, label in WEEKDAYS]
    out = []
    for rule in rules_:
        out.append(
            {
                "dates": date_ranges(rule.get("dates", [])),
                "weekdays": [names[int(w)] for w in rule.get("weekdays", []) if 0 <= int(w) <= 6],
                **{
                    k: rule.get(k)
                    for k in ("day_price_fen", "day_cap_fen", "night_price_fen", "night_cap_fen", "daily_cap_fen")
                },
            }
        )
    return out


@require_POST
@console_view(perms.PARKING_MANAGE)
def tariff_withdraw(request: HttpRequest, car_park_id: int, version_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    try:
        services_admin.tariff_version_withdraw(
            mall_group_id=g.id, car_park_id=park.pk, version_id=version_id, actor=actor_for(request)
        )
    except ApplicationError as exc:
        if exc.code == "parking.tariff_not_found":
            raise Http404("tariff") from exc
        messages.error(request, error_message(exc))
        return redirect("console:parking_tariff", car_park_id=park.pk, version_id=version_id)
    messages.success(request, _("The scheduled version was withdrawn."))
    return redirect("console:parking_tariffs", car_park_id=park.pk)
