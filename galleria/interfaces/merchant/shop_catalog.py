"""Merchant portal: the shop in the online mall (docs/design/online-mall.md §9; docs/online-mall.md, "For merchants"),
made for a phone at the counter or in the stockroom — one column, big targets, no table wider than the screen.

- shop settings: open or closed, the store parcels ship from, pickup stores, the service phone and return address
  (`portal.shop_settings`, owners and managers);
- products: the list (status filter, title or barcode search, pages), the editor (title, category, pickup or
  delivery), options → the SKU matrix with prices, pictures, on / off sale, the mall's takedown and its reason
  (`portal.products`, owners and managers);
- stock: every SKU at one store — on hand, promised to orders, available, low stock flagged — set a count or add /
  take away with a reason (`portal.stock`, clerks too).

Everything is galleria.commerce's (services_catalog, selectors_catalog): these views show it and place its errors
next to the fields. A product of another merchant reads as absent (404)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.commerce import exceptions as commerce_errors
from galleria.commerce import rules_catalog, selectors_catalog
from galleria.commerce import services_catalog as catalog
from galleria.commerce.types import OnlineProductIn, ProductStatus, ShopIn
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import store_list

from .portal import portal_merchant, portal_render, portal_view
from .shop_catalog_forms import (
    ImageForm,
    ProductForm,
    ShopSettingsForm,
    StockForm,
    editor_from_post,
    editor_from_product,
    editor_skus,
    place_options_errors,
    put_errors,
)

PAGE_SIZE = 20
LOW_STOCK = 5  # available units at or below which a SKU is flagged
STATUS_BADGES = {"on_sale": "badge-ok", "draft": "", "off_sale": "badge-warn"}


def _group(merchant: Any) -> int:
    return int(merchant.mall.group_id)


def _stores(merchant: Any) -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in store_list(merchant_id=merchant.pk).filter(is_active=True)]


def _categories(group_id: int) -> list[tuple[int, str]]:
    """The category picker: children indented under their parent."""
    return [
        (c.pk, f"— {c.name}" if c.parent_id else c.name)
        for c in selectors_catalog.online_categories(mall_group_id=group_id)
    ]


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, nav: str, status: int = 200) -> Any:
    scope = scope_of(request)
    context = {
        "can_products": scope.can(perms.PORTAL_PRODUCTS),
        "can_stock": scope.can(perms.PORTAL_STOCK),
        "can_shop_settings": scope.can(perms.PORTAL_SHOP_SETTINGS),
        **context,
    }
    return portal_render(request, template, context, nav=nav, merchant=context.get("merchant"), status=status)


# ------------------------------------------------------------------------------------------------- shop settings


@portal_view(perms.PORTAL_SHOP_SETTINGS)
def shop_settings(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    group_id = _group(merchant)
    shop = selectors_catalog.merchant_shop_get(mall_group_id=group_id, merchant_id=merchant.pk)
    pickup, ship_from = selectors_catalog.shop_store_ids(shop=shop)
    initial = {
        "is_open": bool(shop and shop.is_open),
        "ship_from_store": ship_from,
        "pickup_stores": pickup,
        "service_phone": shop.service_phone if shop else "",
        "return_address": shop.return_address if shop else "",
    }
    form = ShopSettingsForm(request.POST or None, initial=initial, stores=_stores(merchant))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                catalog.merchant_shop_save(
                    mall_group_id=group_id,
                    merchant_id=merchant.pk,
                    data=ShopIn(
                        is_open=d["is_open"],
                        ship_from_store_id=d["ship_from_store"],
                        pickup_store_ids=tuple(d["pickup_stores"]),
                        return_address=d["return_address"],
                        service_phone=d["service_phone"],
                    ),
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Shop settings saved."))
                return redirect("merchant:shop_settings")
    mall_open = selectors_catalog.online_settings_get(mall_group_id=group_id).is_open
    return _render(
        request,
        "merchant/shop/settings.html",
        {"merchant": merchant, "form": form, "mall_open": mall_open},
        nav="shop_settings",
        status=status,
    )


# ------------------------------------------------------------------------------------------------- products


def _own_product(request: HttpRequest, product_id: int) -> tuple[Any, Any]:
    merchant = portal_merchant(request)
    product = selectors_catalog.online_product_get(
        mall_group_id=_group(merchant), product_id=product_id, merchant_id=merchant.pk
    )
    if product is None:
        raise Http404("product")
    return product, merchant


def image_url(product_id: int, sha: str) -> str:
    return reverse("app:mall_image", args=[product_id, sha]) if sha else ""


@portal_view(perms.PORTAL_PRODUCTS)
def products(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    group_id = _group(merchant)
    status = str(request.GET.get("status") or "")
    status = status if status in ProductStatus.values or status == "blocked" else ""
    query = str(request.GET.get("q") or "").strip()[:60]
    qs = selectors_catalog.merchant_products(
        mall_group_id=group_id, merchant_id=merchant.pk, status="" if status == "blocked" else status, query=query
    )
    if status == "blocked":
        qs = qs.filter(is_blocked=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    rows = [
        {
            "p": p,
            "image": image_url(p.pk, p.image_sha),
            "badge": STATUS_BADGES.get(p.status, ""),
            "status": p.get_status_display(),
        }
        for p in page
    ]
    statuses = [("", _("All")), *ProductStatus.choices, ("blocked", _("Taken down"))]
    return _render(
        request,
        "merchant/shop/products.html",
        {
            "merchant": merchant,
            "rows": rows,
            "page_obj": page,
            "query_string": params.urlencode(),
            "q": query,
            "status": status,
            "statuses": statuses,
        },
        nav="shop_products",
    )


def _product_in(d: dict[str, Any], product: Any | None) -> OnlineProductIn:
    return OnlineProductIn(
        title=d["title"],
        subtitle=d["subtitle"],
        description=d["description"],
        category_id=d["category"],
        allow_pickup=d["allow_pickup"],
        allow_delivery=d["allow_delivery"],
        on_sale_from=product.on_sale_from if product else None,
        on_sale_until=product.on_sale_until if product else None,
        sort_order=d["sort_order"],
    )


@portal_view(perms.PORTAL_PRODUCTS)
def product_new(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    group_id = _group(merchant)
    form = ProductForm(request.POST or None, categories=_categories(group_id))
    if request.method == "POST" and form.is_valid():
        try:
            product = catalog.online_product_save(
                mall_group_id=group_id,
                merchant_id=merchant.pk,
                product_id=None,
                data=_product_in(form.cleaned_data, None),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Now set its options and prices."))
            return redirect("merchant:shop_product_options", product.pk)
    return _render(
        request,
        "merchant/shop/product_new.html",
        {"merchant": merchant, "form": form},
        nav="shop_products",
        status=400 if form.is_bound else 200,
    )


def _product_page(
    request: HttpRequest,
    product: Any,
    merchant: Any,
    form: ProductForm,
    *,
    image_form: ImageForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    group_id = _group(merchant)
    skus = selectors_catalog.product_sku_views(mall_group_id=group_id, product=product)
    images = selectors_catalog.product_images(product_id=product.pk)
    return _render(
        request,
        "merchant/shop/product.html",
        {
            "merchant": merchant,
            "product": product,
            "form": form,
            "image_form": image_form or ImageForm(),
            "skus": skus,
            "options": selectors_catalog.product_options(product_id=product.pk),
            "images": [{"position": i.position, "url": image_url(product.pk, i.image_sha)} for i in images],
            "can_add_image": len(images) < rules_catalog.MAX_IMAGES,
            "max_images": rules_catalog.MAX_IMAGES,
            "badge": STATUS_BADGES.get(product.status, ""),
            "problems": problems or [],
            "low_stock": LOW_STOCK,
        },
        nav="shop_products",
        status=status,
    )


def _initial(product: Any) -> dict[str, Any]:
    return {
        "title": product.title,
        "subtitle": product.subtitle,
        "category": product.category_id,
        "allow_pickup": product.allow_pickup,
        "allow_delivery": product.allow_delivery,
        "description": product.description,
        "sort_order": product.sort_order,
    }


@portal_view(perms.PORTAL_PRODUCTS)
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product, merchant = _own_product(request, product_id)
    group_id = _group(merchant)
    form = ProductForm(request.POST or None, initial=_initial(product), categories=_categories(group_id))
    if request.method == "POST":
        if form.is_valid():
            try:
                catalog.online_product_save(
                    mall_group_id=group_id,
                    merchant_id=merchant.pk,
                    product_id=product.pk,
                    data=_product_in(form.cleaned_data, product),
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Product saved."))
                return redirect("merchant:shop_product", product.pk)
        return _product_page(request, product, merchant, form, status=400)
    return _product_page(request, product, merchant, form)


@portal_view(perms.PORTAL_PRODUCTS)
def product_options(request: HttpRequest, product_id: int) -> HttpResponse:
    product, merchant = _own_product(request, product_id)
    group_id = _group(merchant)
    status = 200
    if request.method == "POST":
        editor = editor_from_post(request.POST)
        options = editor.options()
        problems = rules_catalog.options_problems(options)
        if problems:
            place_options_errors(editor, commerce_errors.OptionsInvalidError(fields=problems), [])
            status = 400
        elif request.POST.get("action") == "save":
            skus = editor_skus(editor)
            sold = [row for row in editor.rows if row.sell]
            if skus is None:
                editor.error = _("Check the prices marked.")
                status = 400
            else:
                try:
                    catalog.online_product_options_save(
                        mall_group_id=group_id,
                        merchant_id=merchant.pk,
                        product_id=product.pk,
                        options=options,
                        skus=skus,
                        actor=actor_for(request),
                    )
                except ApplicationError as exc:
                    place_options_errors(editor, exc, sold)
                    status = 400
                else:
                    messages.success(request, _("%(n)s kinds saved. Set their stock next.") % {"n": len(skus)})
                    return redirect("merchant:shop_product", product.pk)
    else:
        rows = [(o.name, list(o.values)) for o in selectors_catalog.product_options(product_id=product.pk)]
        editor = editor_from_product(rows, selectors_catalog.product_skus(product_id=product.pk))
    blanks = [("", "")] * (rules_catalog.MAX_OPTIONS - len(editor.option_rows))
    option_rows = [
        {"i": i, "name": name, "values": values, "error": editor.option_errors.get(i, "")}
        for i, (name, values) in enumerate([*editor.option_rows, *blanks])
    ]
    return _render(
        request,
        "merchant/shop/options.html",
        {"merchant": merchant, "product": product, "editor": editor, "option_rows": option_rows},
        nav="shop_products",
        status=status,
    )


@require_POST
@portal_view(perms.PORTAL_PRODUCTS)
def product_image_add(request: HttpRequest, product_id: int) -> HttpResponse:
    product, merchant = _own_product(request, product_id)
    group_id = _group(merchant)
    image_form = ImageForm(request.POST, request.FILES)
    if image_form.is_valid():
        upload = image_form.cleaned_data["image"]
        try:
            catalog.online_product_image_add(
                mall_group_id=group_id,
                merchant_id=merchant.pk,
                product_id=product.pk,
                data=upload.read(),
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            put_errors(image_form, exc)
        else:
            messages.success(request, _("Picture added."))
            return redirect("merchant:shop_product", product.pk)
    form = ProductForm(initial=_initial(product), categories=_categories(group_id))
    return _product_page(request, product, merchant, form, image_form=image_form, status=400)


@require_POST
@portal_view(perms.PORTAL_PRODUCTS)
def product_image_remove(request: HttpRequest, product_id: int, position: int) -> HttpResponse:
    product, merchant = _own_product(request, product_id)
    try:
        catalog.online_product_image_remove(
            mall_group_id=_group(merchant),
            merchant_id=merchant.pk,
            product_id=product.pk,
            position=position,
            actor=actor_for(request),
        )
    except commerce_errors.ProductNotFoundError:
        messages.error(request, _("That picture is no longer there."))
    else:
        messages.success(request, _("Picture removed."))
    return redirect("merchant:shop_product", product.pk)


@require_POST
@portal_view(perms.PORTAL_PRODUCTS)
def product_status(request: HttpRequest, product_id: int) -> HttpResponse:
    product, merchant = _own_product(request, product_id)
    group_id = _group(merchant)
    action = str(request.POST.get("action") or "")
    if action not in ("publish", "unpublish"):
        messages.error(request, _("Choose what to do."))
        return redirect("merchant:shop_product", product.pk)
    service = catalog.online_product_publish if action == "publish" else catalog.online_product_unpublish
    try:
        service(mall_group_id=group_id, merchant_id=merchant.pk, product_id=product.pk, actor=actor_for(request))
    except commerce_errors.PublishRefusedError as exc:
        problems = [str(p) for p in exc.extra.get("problems", [])]
        form = ProductForm(initial=_initial(product), categories=_categories(group_id))
        return _product_page(request, product, merchant, form, problems=problems, status=409)
    if action == "publish":
        messages.success(request, _("“%(title)s” is on sale.") % {"title": product.title})
    else:
        messages.success(request, _("“%(title)s” is off sale.") % {"title": product.title})
    return redirect("merchant:shop_product", product.pk)


# ------------------------------------------------------------------------------------------------- stock


def _stock_page(
    request: HttpRequest, merchant: Any, *, failed: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    group_id = _group(merchant)
    stores = _stores(merchant)
    source = request.POST if request.method == "POST" else request.GET
    raw_store = str(source.get("store") or "")
    store_ids = [s for s, _name in stores]
    store_id = int(raw_store) if raw_store.isdigit() and int(raw_store) in store_ids else None
    if store_id is None and stores:
        pickup, ship_from = selectors_catalog.shop_store_ids(
            shop=selectors_catalog.merchant_shop_get(mall_group_id=group_id, merchant_id=merchant.pk)
        )
        preferred = [s for s in [ship_from, *pickup] if s in store_ids]
        store_id = preferred[0] if preferred else store_ids[0]
    query = str(source.get("q") or "").strip()[:60]
    low_only = source.get("low") == "1"
    qs = selectors_catalog.merchant_skus(mall_group_id=group_id, merchant_id=merchant.pk, query=query)
    if low_only and store_id is not None:
        # available = on hand − allocated at this store; an SKU never counted there has 0
        low = Q(stocks__store_id=store_id) & Q(stocks__on_hand__lte=F("stocks__allocated") + LOW_STOCK)
        counted = qs.filter(stocks__store_id=store_id).values("pk")
        qs = qs.filter(low | ~Q(pk__in=counted)).distinct()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    stock = selectors_catalog.stock_by_sku(sku_ids=[s.pk for s in page], store_id=store_id) if store_id else {}
    rows = []
    for sku in page:
        row = stock.get(sku.pk)
        on_hand, allocated = (row.on_hand, row.allocated) if row else (0, 0)
        available = on_hand - allocated
        rows.append(
            {
                "sku": sku,
                "product": sku.product,
                "label": sku.name,
                "on_hand": on_hand,
                "allocated": allocated,
                "available": available,
                "low": available <= LOW_STOCK,
                "failed": failed if failed and failed.get("sku_id") == sku.pk else None,
            }
        )
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        "merchant/shop/stock.html",
        {
            "merchant": merchant,
            "stores": stores,
            "store_id": store_id,
            "rows": rows,
            "page_obj": page,
            "query_string": params.urlencode(),
            "q": query,
            "low_only": low_only,
            "low_stock": LOW_STOCK,
        },
        nav="shop_stock",
        status=status,
    )


@portal_view(perms.PORTAL_STOCK)
def stock(request: HttpRequest) -> HttpResponse:
    return _stock_page(request, portal_merchant(request))


@require_POST
@portal_view(perms.PORTAL_STOCK)
def stock_change(request: HttpRequest, sku_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    group_id = _group(merchant)
    sku = selectors_catalog.merchant_sku_get(mall_group_id=group_id, merchant_id=merchant.pk, sku_id=sku_id)
    if sku is None:
        raise Http404("sku")
    form = StockForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Enter a whole number.")
    else:
        d = form.cleaned_data
        reason = d["reason"] or (_("Stock count") if d["mode"] == "set" else "")
        try:
            if d["mode"] == "set":
                row = catalog.sku_stock_set(
                    mall_group_id=group_id,
                    merchant_id=merchant.pk,
                    sku_id=sku.pk,
                    store_id=d["store"],
                    on_hand=d["value"],
                    reason=reason,
                    actor=actor_for(request),
                )
            else:
                row = catalog.sku_stock_adjust(
                    mall_group_id=group_id,
                    merchant_id=merchant.pk,
                    sku_id=sku.pk,
                    store_id=d["store"],
                    delta=d["value"],
                    reason=reason,
                    actor=actor_for(request),
                )
        except ApplicationError as exc:
            error = str(next(iter(exc.fields.values()), exc.message))
        else:
            messages.success(
                request,
                _("%(title)s %(label)s: %(n)s on hand.")
                % {"title": sku.product.title, "label": sku.name, "n": row.on_hand},
            )
            back = {"store": d["store"], "q": str(request.POST.get("q") or "")[:60]}
            if request.POST.get("low") == "1":
                back["low"] = "1"
            return redirect(reverse("merchant:shop_stock") + "?" + urlencode(back) + f"#sku-{sku.pk}")
    failed = {
        "sku_id": sku.pk,
        "error": error,
        "mode": str(request.POST.get("mode") or "set")[:10],
        "value": str(request.POST.get("value") or "")[:12],
        "reason": str(request.POST.get("reason") or "")[:100],
    }
    return _stock_page(request, merchant, failed=failed, status=400)
