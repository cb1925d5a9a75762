"""Console: member services' configuration (docs/amenities.md, "Console") — rental item types with deposits and
fees, service desks with their stock (adjusted with a reason, the moves listed), bookable services with weekly
hours and their slots. `amenities.view` reads; `amenities.manage` changes. The services audit every change."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.amenities import rules, selectors, services, services_config
from galleria.amenities.types import ItemTypeIn, OfferingIn
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str, yuan_to_fen
from galleria.interfaces.common import actor_for, scope_of
from galleria.malls.selectors import mall_list
from galleria.merchants.selectors import stores_for_payments
from galleria.tiers.selectors import tier_level_options

from ..amenity_forms import DeskForm, HoursForm, ItemTypeForm, OfferingForm, StockForm, hours_text
from ..helpers import console_view
from ..loyalty import group_context


def _apply_errors(form: Any, exc: ApplicationError, mapping: dict[str, str] | None = None) -> None:
    mapping = mapping or {}
    placed = False
    for name, message in exc.fields.items():
        target = mapping.get(name, name)
        if target in form.fields:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


# ------------------------------------------------------------------------------------------------- item types


ITEM_FIELDS = {"deposit_fen": "deposit_yuan", "fee_per_unit_fen": "fee_yuan", "daily_cap_fen": "cap_yuan"}
ITEM_FIELDS |= {"lost_fee_fen": "lost_yuan", "free_minutes_by_tier": "tier_minutes"}


def _item_initial(item: Any) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "icon": item.icon,
        "deposit_points": item.deposit_points,
        "deposit_yuan": fen_to_yuan_str(item.deposit_fen),
        "free_minutes": item.free_minutes,
        "tier_minutes": rules.tier_minutes_text(item.free_minutes_by_tier or {}),
        "fee_unit": item.fee_unit,
        "fee_yuan": fen_to_yuan_str(item.fee_per_unit_fen),
        "cap_yuan": fen_to_yuan_str(item.daily_cap_fen),
        "lost_yuan": fen_to_yuan_str(item.lost_fee_fen),
        "is_active": item.is_active,
    }


@console_view(perms.AMENITIES_VIEW)
def items(request: HttpRequest) -> HttpResponse:
    """The item types; `?edit=<id>` or `?new=1` opens the form (POST saves it, `amenities.manage`)."""
    g = group_context(request)
    scope = scope_of(request)
    edit_id = request.GET.get("edit") or request.POST.get("item_id") or ""
    item = selectors.item_type_get(mall_group_id=g.id, item_type_id=int(edit_id)) if edit_id.isdigit() else None
    if edit_id and item is None:
        raise Http404("item")
    form: ItemTypeForm | None = None
    status = 200
    if request.method == "POST":
        if not scope.can(perms.AMENITIES_MANAGE):
            raise PermissionDenied
        form = ItemTypeForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                data = ItemTypeIn(
                    code=d["code"],
                    name=d["name"],
                    icon=d["icon"],
                    deposit_points=d["deposit_points"],
                    deposit_fen=yuan_to_fen(d["deposit_yuan"]),
                    free_minutes=d["free_minutes"],
                    free_minutes_by_tier=d["tier_minutes"],
                    fee_unit=d["fee_unit"],
                    fee_per_unit_fen=yuan_to_fen(d["fee_yuan"]),
                    daily_cap_fen=yuan_to_fen(d["cap_yuan"]),
                    lost_fee_fen=yuan_to_fen(d["lost_yuan"]),
                    is_active=d["is_active"],
                )
                saved = services_config.item_type_save(
                    mall_group_id=g.id, item_type_id=item.pk if item else None, data=data, actor=actor_for(request)
                )
            except ApplicationError as exc:
                _apply_errors(form, exc, ITEM_FIELDS)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect(f"{request.path}{g.query}")
        status = 422
    elif item is not None:
        form = ItemTypeForm(initial=_item_initial(item))
    elif request.GET.get("new"):
        form = ItemTypeForm()
    return render(
        request,
        "console/amenities/items.html",
        {
            "nav": "amenities_items",
            "g": g,
            "items": selectors.item_type_list(mall_group_id=g.id),
            "form": form,
            "item": item,
        },
        status=status,
    )


# ------------------------------------------------------------------------------------------------- desks and stock


def _desk_form(g: Any, data: Any = None, initial: dict[str, Any] | None = None) -> DeskForm:
    malls = [(m.pk, m.name) for m in mall_list(mall_group_id=g.id)]
    stores = [(s.pk, f"{s.merchant.mall.name} · {s.name}") for s in stores_for_payments(mall_group_id=g.id)[:500]]
    return DeskForm(data, initial=initial, malls=malls, stores=stores)


def _stock_form(g: Any, data: Any = None) -> StockForm:
    desks = [(d.pk, f"{d.mall.name} · {d.name}") for d in selectors.desk_list(mall_group_id=g.id)]
    items_ = [(t.pk, t.name) for t in selectors.item_type_list(mall_group_id=g.id)]
    return StockForm(data, desks=desks, items=items_)


@console_view(perms.AMENITIES_VIEW)
def stock(request: HttpRequest) -> HttpResponse:
    """Desks × item types on hand, the recent moves; POST `action=adjust` changes a count with a reason,
    `action=desk` creates or edits a desk (`desk_id`) — both `amenities.manage`."""
    g = group_context(request)
    scope = scope_of(request)
    desk_form, stock_form, status = _desk_form(g), _stock_form(g), 200
    edit = request.GET.get("desk") or request.POST.get("desk_id") or ""
    desk = selectors.desk_get(mall_group_id=g.id, desk_id=int(edit)) if edit.isdigit() else None
    if edit and desk is None:
        raise Http404("desk")
    if desk is not None and request.method != "POST":
        desk_form = _desk_form(
            g,
            initial={
                "mall": desk.mall_id,
                "name": desk.name,
                "place": desk.place,
                "opening_hours": desk.opening_hours,
                "store": desk.store_id,
                "is_active": desk.is_active,
            },
        )
    if request.method == "POST":
        if not scope.can(perms.AMENITIES_MANAGE):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "adjust":
                stock_form = _stock_form(g, request.POST)
                if stock_form.is_valid():
                    d = stock_form.cleaned_data
                    services.stock_adjust(
                        mall_group_id=g.id,
                        desk_id=d["desk"],
                        item_type_id=d["item_type"],
                        delta=d["delta"],
                        reason=d["reason"],
                        actor=actor_for(request),
                    )
                    messages.success(request, _("Stock changed."))
                    return redirect(f"{request.path}{g.query}")
            elif action == "desk":
                desk_form = _desk_form(g, request.POST)
                if desk_form.is_valid():
                    d = desk_form.cleaned_data
                    saved = services_config.desk_save(
                        mall_group_id=g.id,
                        desk_id=desk.pk if desk else None,
                        mall_id=d["mall"],
                        name=d["name"],
                        place=d["place"] or "",
                        opening_hours=d["opening_hours"] or "",
                        store_id=d["store"],
                        is_active=d["is_active"],
                        actor=actor_for(request),
                    )
                    messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                    return redirect(f"{request.path}{g.query}")
        except ApplicationError as exc:
            _apply_errors(stock_form if action == "adjust" else desk_form, exc)
        status = 422
    desks = list(selectors.desk_list(mall_group_id=g.id))
    types = list(selectors.item_type_list(mall_group_id=g.id))
    table = selectors.stock_table(mall_group_id=g.id)
    rows = [{"desk": d, "counts": [table.get((d.pk, t.pk), 0) for t in types]} for d in desks]
    return render(
        request,
        "console/amenities/stock.html",
        {
            "nav": "amenities_stock",
            "g": g,
            "types": types,
            "rows": rows,
            "moves": selectors.stock_moves(mall_group_id=g.id),
            "desk_form": desk_form,
            "stock_form": stock_form,
            "desk": desk,
        },
        status=status,
    )


# ------------------------------------------------------------------------------------------------- offerings


def _offering_form(g: Any, data: Any = None, initial: dict[str, Any] | None = None) -> OfferingForm:
    malls = [(m.pk, m.name) for m in mall_list(mall_group_id=g.id)]
    tiers = [(t.pk, t.name) for t in tier_level_options(mall_group_id=g.id)]
    stores = [(s.pk, f"{s.merchant.mall.name} · {s.name}") for s in stores_for_payments(mall_group_id=g.id)[:500]]
    return OfferingForm(data, initial=initial, malls=malls, tiers=tiers, stores=stores)


@console_view(perms.AMENITIES_VIEW)
def offerings(request: HttpRequest) -> HttpResponse:
    """The bookable services; POST creates one (`amenities.manage`) and opens it for its hours."""
    g = group_context(request)
    form, status = _offering_form(g), 200
    if request.method == "POST":
        if not scope_of(request).can(perms.AMENITIES_MANAGE):
            raise PermissionDenied
        form = _offering_form(g, request.POST)
        if form.is_valid():
            try:
                offering = services_config.offering_save(
                    mall_group_id=g.id, offering_id=None, data=_offering_in(form), actor=actor_for(request)
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(reverse("console:amenities_offering", args=[offering.pk]) + g.query)
        status = 422
    return render(
        request,
        "console/amenities/offerings.html",
        {"nav": "amenities_offerings", "g": g, "offerings": selectors.offering_list(mall_group_id=g.id), "form": form},
        status=status,
    )


def _offering_in(form: OfferingForm) -> OfferingIn:
    d = form.cleaned_data
    return OfferingIn(
        mall_id=d["mall"],
        kind=d["kind"],
        name=d["name"],
        place=d["place"] or "",
        description=d["description"] or "",
        access=d["access"],
        min_tier_id=d["min_tier"],
        slot_minutes=d["slot_minutes"],
        price_points=d["price_points"] or 0,
        store_id=d["store"],
        is_active=d["is_active"],
    )


@console_view(perms.AMENITIES_VIEW)
def offering(request: HttpRequest, offering_id: int) -> HttpResponse:
    """One service: its settings, its weekly hours (saving them makes the next two weeks' slots) and its slots."""
    g = group_context(request)
    found = selectors.offering_get(mall_group_id=g.id, offering_id=offering_id)
    if found is None:
        raise Http404("offering")
    initial = {
        "mall": found.mall_id,
        "kind": found.kind,
        "name": found.name,
        "place": found.place,
        "description": found.description,
        "access": found.access,
        "min_tier": found.min_tier_id,
        "slot_minutes": found.slot_minutes,
        "price_points": found.price_points,
        "store": found.store_id,
        "is_active": found.is_active,
    }
    form = _offering_form(g, initial=initial)
    hours_form = HoursForm(initial={"hours": hours_text(selectors.offering_hours(offering_id=found.pk))})
    status = 200
    if request.method == "POST":
        if not scope_of(request).can(perms.AMENITIES_MANAGE):
            raise PermissionDenied
        actor = actor_for(request)
        if request.POST.get("action") == "hours":
            hours_form = HoursForm(request.POST)
            if hours_form.is_valid():
                try:
                    made = services_config.hours_save(
                        mall_group_id=g.id, offering_id=found.pk, rows=hours_form.cleaned_data["hours"], actor=actor
                    )
                except ApplicationError as exc:
                    _apply_errors(hours_form, exc, {"schedule": "hours"})
                else:
                    messages.success(request, _("Hours saved: %(n)s new slots.") % {"n": made})
                    return redirect(f"{request.path}{g.query}")
        else:
            form = _offering_form(g, request.POST)
            if form.is_valid():
                try:
                    services_config.offering_save(
                        mall_group_id=g.id, offering_id=found.pk, data=_offering_in(form), actor=actor
                    )
                except ApplicationError as exc:
                    _apply_errors(form, exc)
                else:
                    messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
                    return redirect(f"{request.path}{g.query}")
        status = 422
    slots = selectors.slot_list(offering_id=found.pk, since=timeutil.now())[:60]
    return render(
        request,
        "console/amenities/offering.html",
        {
            "nav": "amenities_offerings",
            "g": g,
            "offering": found,
            "form": form,
            "hours_form": hours_form,
            "slots": slots,
        },
        status=status,
    )
