"""Console: the online mall's catalogue (docs/design/online-mall.md §9; docs/online-mall.md, "For mall staff") — the
settings (open to members, the order clocks), categories of two levels with icons, shelves (curated product lists on
the app's mall home or a category page, in the order chosen), and the products of every merchant with the takedown:
the mall hides a product and tells the merchant why, or lifts the takedown. `online_mall.view` reads,
`online_mall.manage` changes (galleria/commerce/services_catalog.py, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_catalog
from galleria.commerce import services_catalog as catalog
from galleria.commerce.types import OnlineSettingsIn, ShelfIn, ShelfPlacement
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, forbidden, scope_of
from galleria.merchants.selectors import merchant_options

from ..helpers import console_view, page_of
from ..loyalty import GroupContext, group_context
from ..online_catalog_forms import BlockForm, CategoryForm, OnlineSettingsForm, ProductFilterForm, ShelfForm
from ..parking_forms import apply_errors

STATUS_BADGES = {"on_sale": "badge-ok", "draft": "", "off_sale": "badge-warn"}
SHELF_SEARCH_LIMIT = 20


def _can_manage(request: HttpRequest) -> bool:
    return scope_of(request).can(perms.ONLINE_MALL_MANAGE)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, template, {"can_manage": _can_manage(request), **context}, status=status)


def _object_group(request: HttpRequest, **ids: int) -> GroupContext:
    """The group of the object a URL names; another group's object (or none) is a 404."""
    group_id = selectors_catalog.catalog_group_id(**ids)
    if group_id is None:
        raise Http404("online mall")
    return group_context(request, group_id=group_id)


def image_url(product_id: int, sha: str) -> str:
    return reverse("app:mall_image", args=[product_id, sha]) if sha else ""


def _icon(category: Any) -> str:
    return reverse("app:mall_icon", args=[category.pk, category.icon_sha]) if category.icon_sha else ""


# ------------------------------------------------------------------------------------------------- settings


@console_view(perms.ONLINE_MALL_VIEW)
def online_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    row = selectors_catalog.online_settings_get(mall_group_id=g.id)
    initial = {"is_open": row.is_open} | {
        name: getattr(row, name) for name in OnlineSettingsForm().fields if name != "is_open"
    }
    form = OnlineSettingsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        status = 400
        if form.is_valid():
            try:
                catalog.online_settings_save(
                    mall_group_id=g.id, data=OnlineSettingsIn(**form.cleaned_data), actor=actor_for(request)
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Online mall settings saved."))
                return redirect(reverse("console:online_settings") + g.query)
    shops = selectors_catalog.shops_open(mall_group_id=g.id).order_by("merchant__name")
    return _render(
        request,
        "console/online_mall/settings.html",
        {"nav": "online_settings", "g": g, "form": form, "shops": shops},
        status=status,
    )


# ------------------------------------------------------------------------------------------------- categories


def _parents(group_id: int, *, exclude: int | None = None) -> list[tuple[int, str]]:
    return [
        (c.pk, c.name)
        for c in selectors_catalog.online_categories(mall_group_id=group_id, active_only=False)
        if c.parent_id is None and c.pk != exclude
    ]


def _category_save(request: HttpRequest, g: GroupContext, form: CategoryForm, category_id: int | None) -> Any:
    """Save the form (and its icon, when one is chosen); None after putting the service's errors on the form."""
    d = form.cleaned_data
    try:
        category = catalog.online_category_save(
            mall_group_id=g.id,
            category_id=category_id,
            name=d["name"],
            parent_id=d["parent"],
            sort_order=d["sort_order"],
            is_active=d["is_active"],
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        apply_errors(form, exc)
        return None
    if d.get("icon"):
        try:
            catalog.online_category_icon_set(
                mall_group_id=g.id, category_id=category.pk, data=d["icon"].read(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            form.add_error("icon", str(exc.message))
            return None
    return category


@console_view(perms.ONLINE_MALL_VIEW)
def online_categories(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = CategoryForm(request.POST or None, request.FILES or None, parents=_parents(g.id))
    status = 200
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        status = 400
        if form.is_valid() and (category := _category_save(request, g, form, None)) is not None:
            messages.success(request, _("Category “%(name)s” added.") % {"name": category.name})
            return redirect(reverse("console:online_categories") + g.query)
    tree = selectors_catalog.online_categories(mall_group_id=g.id, active_only=False)
    rows = [{"c": c, "icon": _icon(c)} for c in tree]
    return _render(
        request,
        "console/online_mall/categories.html",
        {"nav": "online_categories", "g": g, "form": form, "rows": rows},
        status=status,
    )


@console_view(perms.ONLINE_MALL_VIEW)
def online_category(request: HttpRequest, category_id: int) -> HttpResponse:
    g = _object_group(request, category_id=category_id)
    category = selectors_catalog.online_category_get(mall_group_id=g.id, category_id=category_id)
    if category is None:
        raise Http404("category")
    initial = {
        "name": category.name,
        "parent": category.parent_id,
        "sort_order": category.sort_order,
        "is_active": category.is_active,
    }
    form = CategoryForm(
        request.POST or None, request.FILES or None, initial=initial, parents=_parents(g.id, exclude=category.pk)
    )
    status = 200
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        status = 400
        if form.is_valid() and _category_save(request, g, form, category.pk) is not None:
            messages.success(request, _("Category saved."))
            return redirect(reverse("console:online_categories") + g.query)
    return _render(
        request,
        "console/online_mall/category.html",
        {"nav": "online_categories", "g": g, "form": form, "category": category, "icon": _icon(category)},
        status=status,
    )


# ------------------------------------------------------------------------------------------------- shelves


def _category_choices(group_id: int) -> list[tuple[int, str]]:
    return [
        (c.pk, f"— {c.name}" if c.parent_id else c.name)
        for c in selectors_catalog.online_categories(mall_group_id=group_id, active_only=False)
    ]


def _shelf_in(d: dict[str, Any]) -> ShelfIn:
    return ShelfIn(
        title=d["title"],
        placement=d["placement"],
        category_id=d["category"],
        sort_order=d["sort_order"],
        starts_at=d["starts_at"],
        ends_at=d["ends_at"],
        is_active=d["is_active"],
    )


@console_view(perms.ONLINE_MALL_VIEW)
def online_shelves(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = ShelfForm(request.POST or None, categories=_category_choices(g.id), initial={"placement": "home"})
    status = 200
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        status = 400
        if form.is_valid():
            try:
                shelf = catalog.shelf_save(
                    mall_group_id=g.id, shelf_id=None, data=_shelf_in(form.cleaned_data), actor=actor_for(request)
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("Shelf “%(title)s” added. Now choose its products.") % {"title": shelf.title}
                )
                return redirect(reverse("console:online_shelf", args=[shelf.pk]) + g.query)
    shelves = list(selectors_catalog.shelves(mall_group_id=g.id))
    counts = {s.pk: len(selectors_catalog.shelf_product_ids(shelf_id=s.pk)) for s in shelves}
    rows = [{"s": s, "count": counts[s.pk]} for s in shelves]
    return _render(
        request,
        "console/online_mall/shelves.html",
        {"nav": "online_shelves", "g": g, "form": form, "rows": rows},
        status=status,
    )


def _shelf_items_change(request: HttpRequest, g: GroupContext, shelf: Any) -> str:
    """Add, remove or move one product of the shelf (one POST, one service call); an error message or ""."""
    ids = selectors_catalog.shelf_product_ids(shelf_id=shelf.pk)
    action = str(request.POST.get("items") or "")
    raw = str(request.POST.get("product") or "")
    if not raw.isdigit() or len(raw) > 12:
        return _("Choose a product.")
    product_id = int(raw)
    if action == "add" and product_id not in ids:
        ids.append(product_id)
    elif action == "remove" and product_id in ids:
        ids.remove(product_id)
    elif action in ("up", "down") and product_id in ids:
        i = ids.index(product_id)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
    else:
        return ""
    try:
        catalog.shelf_items_set(mall_group_id=g.id, shelf_id=shelf.pk, product_ids=ids, actor=actor_for(request))
    except ApplicationError as exc:
        return str(next(iter(exc.fields.values()), exc.message))
    return ""


@console_view(perms.ONLINE_MALL_VIEW)
def online_shelf(request: HttpRequest, shelf_id: int) -> HttpResponse:
    g = _object_group(request, shelf_id=shelf_id)
    shelf = selectors_catalog.shelf_get(mall_group_id=g.id, shelf_id=shelf_id)
    if shelf is None:
        raise Http404("shelf")
    initial = {
        "title": shelf.title,
        "placement": shelf.placement,
        "category": shelf.category_id,
        "sort_order": shelf.sort_order,
        "starts_at": shelf.starts_at,
        "ends_at": shelf.ends_at,
        "is_active": shelf.is_active,
    }
    is_items = request.method == "POST" and "items" in request.POST
    form = ShelfForm(
        request.POST if request.method == "POST" and not is_items else None,
        initial=initial,
        categories=_category_choices(g.id),
    )
    status, items_error = 200, ""
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        here = reverse("console:online_shelf", args=[shelf.pk]) + g.query
        if is_items:
            items_error = _shelf_items_change(request, g, shelf)
            if not items_error:
                return redirect(here)
            status = 400
        else:
            status = 400
            if form.is_valid():
                try:
                    catalog.shelf_save(
                        mall_group_id=g.id,
                        shelf_id=shelf.pk,
                        data=_shelf_in(form.cleaned_data),
                        actor=actor_for(request),
                    )
                except ApplicationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Shelf saved."))
                    return redirect(here)
    ids = selectors_catalog.shelf_product_ids(shelf_id=shelf.pk)
    by_id = {p.pk: p for p in selectors_catalog.console_products(mall_group_id=g.id).filter(pk__in=ids)}
    listed = set(selectors_catalog.listed(mall_group_id=g.id).filter(pk__in=ids).values_list("pk", flat=True))
    items = [
        {"p": by_id[i], "image": image_url(i, by_id[i].image_sha), "listed": i in listed} for i in ids if i in by_id
    ]
    query = str(request.GET.get("q") or "").strip()[:60]
    found = []
    if query:
        candidates = selectors_catalog.console_products(mall_group_id=g.id, blocked=False, query=query)
        found = [
            {"p": p, "image": image_url(p.pk, p.image_sha)} for p in candidates.exclude(pk__in=ids)[:SHELF_SEARCH_LIMIT]
        ]
    return _render(
        request,
        "console/online_mall/shelf.html",
        {
            "nav": "online_shelves",
            "g": g,
            "form": form,
            "shelf": shelf,
            "items": items,
            "items_error": items_error,
            "q": query,
            "found": found,
            "is_home": shelf.placement == ShelfPlacement.HOME,
        },
        status=status,
    )


# ------------------------------------------------------------------------------------------------- products


@console_view(perms.ONLINE_MALL_VIEW)
def online_products(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    merchants = list(merchant_options(mall_group_id=g.id).values_list("pk", "name"))
    form = ProductFilterForm(request.GET or None, merchants=merchants)
    d = form.cleaned_data if form.is_valid() else {}
    blocked = {"yes": True, "no": False}.get(d.get("blocked") or "")
    qs = selectors_catalog.console_products(
        mall_group_id=g.id, merchant_id=d.get("merchant"), blocked=blocked, query=d.get("q") or ""
    )
    page, query = page_of(request, qs)
    rows = [{"p": p, "image": image_url(p.pk, p.image_sha), "badge": STATUS_BADGES.get(p.status, "")} for p in page]
    return _render(
        request,
        "console/online_mall/products.html",
        {"nav": "online_products", "g": g, "form": form, "rows": rows, "page_obj": page, "query": query},
    )


@console_view(perms.ONLINE_MALL_VIEW)
def online_product(request: HttpRequest, product_id: int) -> HttpResponse:
    g = _object_group(request, product_id=product_id)
    product = selectors_catalog.online_product_get(mall_group_id=g.id, product_id=product_id)
    if product is None:
        raise Http404("product")
    form = BlockForm(request.POST if request.method == "POST" and request.POST.get("action") == "block" else None)
    status, action_error = 200, ""
    if request.method == "POST":
        if not _can_manage(request):
            return forbidden(request)
        action = str(request.POST.get("action") or "")
        here = reverse("console:online_product", args=[product.pk]) + g.query
        if action == "unblock":
            catalog.online_product_unblock(mall_group_id=g.id, product_id=product.pk, actor=actor_for(request))
            messages.success(request, _("The takedown is lifted: the merchant can put it on sale again."))
            return redirect(here)
        status = 400
        if action == "block" and form.is_valid():
            try:
                catalog.online_product_block(
                    mall_group_id=g.id,
                    product_id=product.pk,
                    reason=form.cleaned_data["reason"],
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Taken down: members no longer see it; the merchant sees the reason."))
                return redirect(here)
        elif action != "block":
            action_error = _("Choose what to do.")
    skus = selectors_catalog.product_sku_views(mall_group_id=g.id, product=product)
    images = selectors_catalog.product_images(product_id=product.pk)
    return _render(
        request,
        "console/online_mall/product.html",
        {
            "nav": "online_products",
            "g": g,
            "product": product,
            "form": form,
            "skus": skus,
            "images": [image_url(product.pk, i.image_sha) for i in images],
            "badge": STATUS_BADGES.get(product.status, ""),
            "action_error": action_error,
            "listed": selectors_catalog.listed(mall_group_id=g.id).filter(pk=product.pk).exists(),
        },
        status=status,
    )
