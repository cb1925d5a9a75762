"""Console: car parks (docs/parking.md, "Console (operators)") — the list with today's figures per car park, a car
park's page (settings, zones, gates, the tariff in force, its history), its create and edit forms, and its zones and
gates. `parking.view` reads; `parking.manage` changes (services in galleria/parking/services_admin.py, audited).
The tariffs, the live occupancy, the stays and the reports are in the other parking_*.py modules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import mall_list, stores_for_payments
from galleria.parking import selectors_console, services_admin

from ..helpers import console_view, error_message, trail
from ..loyalty import group_context
from ..parking_forms import CAR_PARK_ERRORS, CarParkForm, GateForm, ZoneForm, apply_errors
from .parking_common import TARIFF_STATUS, park_or_404

HISTORY_LIMIT = 20


def _store_choices(group_id: int, mall_id: int | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """The group's open stores, grouped by mall (only the car park's mall once it exists)."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for store in stores_for_payments(mall_group_id=group_id):
        if mall_id is not None and store.merchant.mall_id != mall_id:
            continue
        label = store.name if store.name.startswith(store.merchant.name) else f"{store.merchant.name} · {store.name}"
        grouped.setdefault(store.merchant.mall.name, []).append((store.pk, label))
    return list(grouped.items())


@console_view(perms.PARKING_VIEW)
def car_parks(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    rows = selectors_console.car_park_rows(mall_group_id=g.id)
    totals = {
        "capacity": sum(r.car_park.capacity for r in rows if r.car_park.is_active),
        "parked": sum(r.parked for r in rows),
        "entries": sum(r.entries_today for r in rows),
        "income": sum(r.income_today_fen for r in rows),
    }
    return render(
        request,
        "console/parking/car_parks.html",
        {"nav": "parking", "g": g, "rows": rows, "totals": totals, "today": timeutil.now()},
    )


def _car_park_form(request: HttpRequest, *, group_id: int, park: Any | None) -> CarParkForm:
    malls = [(m.pk, m.name) for m in mall_list(mall_group_id=group_id)]
    initial = (
        CarParkForm.initial_for(park)
        if park is not None
        else {
            "leave_grace_minutes": 15,
            "auto_pay_cap_fen": 10000,
            "lost_ticket_fen": 5000,
            "is_active": True,
        }
    )
    return CarParkForm(
        request.POST or None,
        initial=initial,
        malls=malls,
        stores=_store_choices(group_id, park.mall_id if park is not None else None),
        with_mall=park is None,
    )


@console_view(perms.PARKING_MANAGE)
def car_park_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = _car_park_form(request, group_id=g.id, park=None)
    if request.method == "POST" and form.is_valid():
        try:
            park = services_admin.car_park_save(
                mall_group_id=g.id, mall_id=form.cleaned_data["mall"], data=form.to_input(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            apply_errors(form, exc, CAR_PARK_ERRORS)
        else:
            messages.success(
                request, _("Car park %(name)s created. Add its zones and gates, then its tariff.") % {"name": park.name}
            )
            return redirect("console:parking_car_park", car_park_id=park.pk)
    return render(
        request,
        "console/parking/car_park_form.html",
        {"nav": "parking", "g": g, "form": form, "park": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.PARKING_MANAGE)
def car_park_edit(request: HttpRequest, car_park_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    form = _car_park_form(request, group_id=g.id, park=park)
    if request.method == "POST" and form.is_valid():
        try:
            services_admin.car_park_save(
                mall_group_id=g.id, car_park_id=park.pk, data=form.to_input(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            apply_errors(form, exc, CAR_PARK_ERRORS)
        else:
            messages.success(request, _("Saved."))
            return redirect("console:parking_car_park", car_park_id=park.pk)
    return render(
        request,
        "console/parking/car_park_form.html",
        {"nav": "parking", "g": g, "form": form, "park": park},
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.PARKING_VIEW)
def car_park_detail(request: HttpRequest, car_park_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    now = timeutil.now()
    with timezone.override(timeutil.zone(park.mall.timezone)):
        found = selectors_console.live_occupancy(mall_group_id=g.id, at=now, car_park_id=park.pk)
        live = found[0] if found else None
        tariffs = selectors_console.tariff_rows(car_park_id=park.pk, at=now)
        current = next((t for t in tariffs if t.status == "in_force"), None)
        scheduled = [t for t in tariffs if t.status == "scheduled"]
        scope = scope_of(request)
        history = trail(audit_list(mall_group_id=g.id, target_type="carpark", target_id=park.pk)[:HISTORY_LIMIT], scope)
        return render(
            request,
            "console/parking/car_park.html",
            {
                "nav": "parking",
                "g": g,
                "park": park,
                "live": live,
                "zones": selectors_console.zones_of(car_park_id=park.pk),
                "gates": selectors_console.gates_of(car_park_id=park.pk),
                "current": current,
                "scheduled": scheduled,
                "status_labels": TARIFF_STATUS,
                "history": history,
                "can_manage": scope.can(perms.PARKING_MANAGE),
            },
        )


# ---------------------------------------------------------------------------------------------------- zones


def _zone_page(request: HttpRequest, car_park_id: int, zone_id: int | None) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    zone = None
    if zone_id is not None:
        zone = selectors_console.zone_one(car_park_id=park.pk, zone_id=zone_id)
        if zone is None:
            raise Http404("zone")
    initial = {"code": zone.code, "name": zone.name, "floor": zone.floor, "capacity": zone.capacity} if zone else {}
    form = ZoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_admin.zone_save(
                mall_group_id=g.id,
                car_park_id=park.pk,
                zone_id=zone.pk if zone else None,
                data=form.to_input(),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Zone %(code)s saved.") % {"code": form.cleaned_data["code"]})
            return redirect(reverse("console:parking_car_park", args=[park.pk]) + "#zones")
    return render(
        request,
        "console/parking/zone_form.html",
        {"nav": "parking", "g": g, "park": park, "zone": zone, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.PARKING_MANAGE)
def zone_new(request: HttpRequest, car_park_id: int) -> HttpResponse:
    return _zone_page(request, car_park_id, None)


@console_view(perms.PARKING_MANAGE)
def zone_edit(request: HttpRequest, car_park_id: int, zone_id: int) -> HttpResponse:
    return _zone_page(request, car_park_id, zone_id)


@require_POST
@console_view(perms.PARKING_MANAGE)
def zone_remove(request: HttpRequest, car_park_id: int, zone_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    try:
        services_admin.zone_remove(mall_group_id=g.id, car_park_id=park.pk, zone_id=zone_id, actor=actor_for(request))
    except ApplicationError as exc:
        if exc.code == "parking.zone_not_found":
            raise Http404("zone") from exc
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Zone removed."))
    return redirect(reverse("console:parking_car_park", args=[park.pk]) + "#zones")


# ---------------------------------------------------------------------------------------------------- gates


def _gate_page(request: HttpRequest, car_park_id: int, gate_id: int | None) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    gate = None
    if gate_id is not None:
        gate = selectors_console.gate_one(car_park_id=park.pk, gate_id=gate_id)
        if gate is None:
            raise Http404("gate")
    initial = {"code": gate.code, "name": gate.name, "direction": gate.direction, "zone": gate.zone_id} if gate else {}
    zones = [(z.pk, f"{z.code} · {z.name}") for z in selectors_console.zones_of(car_park_id=park.pk)]
    form = GateForm(request.POST or None, initial=initial, zones=zones)
    if request.method == "POST" and form.is_valid():
        try:
            services_admin.gate_save(
                mall_group_id=g.id,
                car_park_id=park.pk,
                gate_id=gate.pk if gate else None,
                data=form.to_input(),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Gate %(code)s saved.") % {"code": form.cleaned_data["code"]})
            return redirect(reverse("console:parking_car_park", args=[park.pk]) + "#gates")
    return render(
        request,
        "console/parking/gate_form.html",
        {"nav": "parking", "g": g, "park": park, "gate": gate, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.PARKING_MANAGE)
def gate_new(request: HttpRequest, car_park_id: int) -> HttpResponse:
    return _gate_page(request, car_park_id, None)


@console_view(perms.PARKING_MANAGE)
def gate_edit(request: HttpRequest, car_park_id: int, gate_id: int) -> HttpResponse:
    return _gate_page(request, car_park_id, gate_id)


@require_POST
@console_view(perms.PARKING_MANAGE)
def gate_remove(request: HttpRequest, car_park_id: int, gate_id: int) -> HttpResponse:
    park, g = park_or_404(request, car_park_id)
    try:
        services_admin.gate_remove(mall_group_id=g.id, car_park_id=park.pk, gate_id=gate_id, actor=actor_for(request))
    except ApplicationError as exc:
        raise Http404("gate") from exc
    messages.success(request, _("Gate removed."))
    return redirect(reverse("console:parking_car_park", args=[park.pk]) + "#gates")
