"""Console: the points mall's items (docs/points-mall.md, "Console") — the list with search, filters and pages; the
editor with a live preview of the member's card (htmx posts the form to `item_preview`, which renders the app's own
card partial); the picture; stock adjustments; the shop's settings and categories. `points_mall.view` reads,
`points_mall.manage` changes (galleria/commerce/services.py, audited). Orders, the desk and the statistics are in
points_mall_orders.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.commerce import selectors, services
from galleria.commerce.types import ProductStatus
from galleria.core.errors import ApplicationError
from galleria.coupons.selectors import template_list
from galleria.interfaces.common import actor_for, scope_of
from galleria.interfaces.points_mall_ui import Card, card_of, image_url
from galleria.merchants.selectors import stores_for_payments
from galleria.tiers.selectors import tier_level_options

from ..helpers import console_view, page_of, trail
from ..loyalty import GroupContext, group_context
from ..parking_forms import apply_errors
from ..points_mall_forms import CategoryForm, ItemFilterForm, ItemForm, SettingsForm, StockForm

HISTORY_LIMIT = 20
STATUS_BADGES = {"on_sale": "badge-ok", "draft": "", "off_sale": "badge-warn"}


def _item_or_404(request: HttpRequest, product_id: int) -> tuple[Any, GroupContext]:
    product = selectors.product_get(mall_group_id=scope_of(request).mall_group_id, product_id=product_id)
    if product is None:
        raise Http404("item")
    return product, group_context(request, group_id=product.mall_group_id)


def _choices(group_id: int) -> dict[str, list[tuple[int, str]]]:
    return {
        "categories": [(c.pk, c.name) for c in selectors.categories(mall_group_id=group_id, active_only=False)],
        "templates": [
            (t.pk, t.name) for t in template_list(mall_group_id=group_id) if t.status in ("active", "paused", "draft")
        ],
        "tiers": [(t.pk, t.name) for t in tier_level_options(mall_group_id=group_id) if t.rank > 0],
    }


@console_view(perms.POINTS_MALL_VIEW)
def items(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    choices = _choices(g.id)
    form = ItemFilterForm(request.GET or None, categories=choices["categories"])
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.product_list(
        mall_group_id=g.id,
        query=data.get("q") or "",
        category_id=data.get("category"),
        status=data.get("status") or "",
        kind=data.get("kind") or "",
    )
    page, query = page_of(request, qs)
    now = timezone.now()
    rows = []
    for product in page:
        sku = selectors.sku_of(product)
        rows.append(
            {
                "product": product,
                "sku": sku,
                "card": card_of(product, sku),
                "badge": STATUS_BADGES.get(product.status, ""),
            }
        )
    settings = selectors.settings_get(mall_group_id=g.id)
    return render(
        request,
        "console/points_mall/items.html",
        {
            "nav": "points_mall",
            "g": g,
            "form": form,
            "rows": rows,
            "page_obj": page,
            "query": query,
            "now": now,
            "shop_open": selectors.is_open(settings),
            "waiting": selectors.waiting_counts(mall_group_id=g.id),
            "can_manage": scope_of(request).can(perms.POINTS_MALL_MANAGE),
        },
    )


def _preview_card(
    form: ItemForm, product: Any | None, sku: Any | None, tiers: dict[int, str], cats: dict[int, str]
) -> Card:
    """The card the form's current values would show (what is not valid yet shows as it was, or empty)."""
    form.is_valid()
    d = getattr(form, "cleaned_data", {})
    raw_fen = d.get("price_yuan")
    return Card(
        product_id=product.pk if product else None,
        title=d.get("title") or str(form.data.get("title") or "")[:60],
        subtitle=d.get("subtitle") or "",
        kind=d.get("kind") or (product.kind if product else "gift"),
        points=d.get("price_points") or 0,
        cash_fen=int(raw_fen * 100) if raw_fen else 0,
        stock=sku.stock if sku is not None else (d.get("initial_stock") or 0),
        tier_name=tiers.get(d.get("min_tier") or 0, ""),
        category=cats.get(d.get("category") or 0, ""),
        image=image_url(product) if product else "",
        on_sale=d.get("status") == ProductStatus.ON_SALE,
    )


def _editor(request: HttpRequest, *, g: GroupContext, product: Any | None) -> HttpResponse:
    choices = _choices(g.id)
    sku = selectors.sku_of(product) if product is not None else None
    initial = (
        ItemForm.initial_for(product, sku)
        if product is not None
        else {"status": "draft", "allow_pickup": True, "member_cancellable": True, "sort_order": 0, "price_yuan": 0}
    )
    form = ItemForm(request.POST or None, request.FILES or None, initial=initial, creating=product is None, **choices)
    if request.method == "POST" and form.is_valid():
        actor = actor_for(request)
        try:
            saved = services.product_save(
                mall_group_id=g.id, product_id=product.pk if product else None, data=form.to_input(), actor=actor
            )
            upload = form.cleaned_data.get("image")
            if upload is not None:
                services.product_image_set(mall_group_id=g.id, product_id=saved.pk, data=upload.read(), actor=actor)
        except ApplicationError as exc:
            apply_errors(form, exc, {"price_fen": "price_yuan", "category_id": "category", "min_tier_id": "min_tier"})
        else:
            messages.success(request, _("Item %(title)s saved.") % {"title": saved.title})
            return redirect("console:points_mall_item", product_id=saved.pk)
    tiers, cats = dict(choices["tiers"]), dict(choices["categories"])
    return render(
        request,
        "console/points_mall/item_form.html",
        {
            "nav": "points_mall",
            "g": g,
            "form": form,
            "product": product,
            "sku": sku,
            "card": card_of(product, sku)
            if product is not None and request.method != "POST"
            else _preview_card(form, product, sku, tiers, cats),
        },
        status=422 if request.method == "POST" else 200,
    )


@console_view(perms.POINTS_MALL_MANAGE)
def item_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, g=group_context(request), product=None)


@console_view(perms.POINTS_MALL_MANAGE)
def item_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product, g = _item_or_404(request, product_id)
    return _editor(request, g=g, product=product)


@console_view(perms.POINTS_MALL_VIEW)
def item_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """The item as members see it, its numbers, stock adjustments and history."""
    product, g = _item_or_404(request, product_id)
    sku = selectors.sku_of(product)
    scope = scope_of(request)
    history = trail(
        audit_list(mall_group_id=g.id, target_type="points_mall_item", target_id=product.pk)[:HISTORY_LIMIT], scope
    )
    return render(
        request,
        "console/points_mall/item.html",
        {
            "nav": "points_mall",
            "g": g,
            "product": product,
            "sku": sku,
            "card": card_of(product, sku),
            "badge": STATUS_BADGES.get(product.status, ""),
            "history": history,
            "stock_form": StockForm(),
            "can_manage": scope.can(perms.POINTS_MALL_MANAGE),
        },
    )


@require_POST
@console_view(perms.POINTS_MALL_MANAGE)
def item_preview(request: HttpRequest) -> HttpResponse:
    """The member card for the editor's current values (htmx)."""
    g = group_context(request)
    choices = _choices(g.id)
    product = None
    raw = str(request.POST.get("preview_item") or "")
    if raw.isdigit() and len(raw) < 12:
        product = selectors.product_get(mall_group_id=g.id, product_id=int(raw))
    sku = selectors.sku_of(product) if product is not None else None
    form = ItemForm(request.POST, creating=product is None, **choices)
    card = _preview_card(form, product, sku, dict(choices["tiers"]), dict(choices["categories"]))
    return render(request, "console/points_mall/_preview.html", {"card": card})


@require_POST
@console_view(perms.POINTS_MALL_MANAGE)
def item_stock(request: HttpRequest, product_id: int) -> HttpResponse:
    product, g = _item_or_404(request, product_id)
    form = StockForm(request.POST)
    if form.is_valid():
        try:
            sku = services.stock_adjust(
                mall_group_id=g.id,
                product_id=product.pk,
                delta=form.cleaned_data["delta"],
                reason=form.cleaned_data["reason"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Stock is now %(n)s.") % {"n": sku.stock})
    else:
        messages.error(request, _("Enter a change other than 0 and a reason."))
    return redirect("console:points_mall_item", product_id=product.pk)


# ---------------------------------------------------------------------------------------------------- settings


@console_view(perms.POINTS_MALL_MANAGE)
def shop_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    current = selectors.settings_get(mall_group_id=g.id)
    stores = [
        (s.pk, s.name if s.name.startswith(s.merchant.name) else f"{s.merchant.name} · {s.name}")
        for s in stores_for_payments(mall_group_id=g.id)
    ]
    form = SettingsForm(
        request.POST if request.POST.get("form") == "settings" else None,
        stores=stores,
        initial={
            "store": current.store_id,
            "pickup_place": current.pickup_place,
            "pickup_hours": current.pickup_hours,
            "is_open": current.is_open if current.pk else True,
        },
    )
    category_form = CategoryForm(request.POST if request.POST.get("form") == "category" else None)
    status = 200
    if request.method == "POST" and form.is_bound:
        if form.is_valid():
            try:
                services.settings_save(
                    mall_group_id=g.id,
                    store_id=form.cleaned_data.get("store"),
                    pickup_place=form.cleaned_data.get("pickup_place") or "",
                    pickup_hours=form.cleaned_data.get("pickup_hours") or "",
                    is_open=bool(form.cleaned_data.get("is_open")),
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("console:points_mall_settings")
        status = 422
    elif request.method == "POST" and category_form.is_bound:
        if category_form.is_valid():
            raw = str(request.POST.get("category_id") or "")
            try:
                services.category_save(
                    mall_group_id=g.id,
                    category_id=int(raw) if raw.isdigit() and len(raw) < 12 else None,
                    name=category_form.cleaned_data["name"],
                    sort_order=category_form.cleaned_data.get("sort_order") or 0,
                    is_active=bool(category_form.cleaned_data.get("is_active")),
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                apply_errors(category_form, exc)
            else:
                messages.success(request, _("Category saved."))
                return redirect("console:points_mall_settings")
        status = 422
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "console/points_mall/settings.html",
        {
            "nav": "points_mall_settings",
            "g": g,
            "form": form,
            "category_form": category_form,
            "categories": selectors.categories(mall_group_id=g.id, active_only=False),
        },
        status=status,
    )
