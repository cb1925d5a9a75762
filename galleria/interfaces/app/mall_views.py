"""The online mall (小程序商城) in the member app (docs/design/online-mall.md §8–9): the mall's home (search box,
category chips, the mall's shelves, best sellers), search, a category page and a product page with an option picker
that chooses a SKU (its price and stock state; combinations not sold are disabled), its pictures and how it is handed
over, and "add to cart" (mall_cart_views.py) with its outcome said next to the button (`?cart=`).

Everything is galleria.commerce's (selectors_catalog, search.product_search): these views show it. Products that are
not listed (a draft, off sale, taken down by the mall, a closed shop, another group's) read as absent. Pictures and
category icons are public and addressed by digest, like the points mall's."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from galleria.commerce import search, selectors_catalog
from galleria.commerce.types import ProductCard, ShelfPlacement, SkuView
from galleria.core.money import format_cny
from galleria.merchants.selectors import merchant_options, store_list

from .views import _base_context, member_view

IMAGE_MAX_AGE = 365 * 24 * 3600
FEW_LEFT = 10  # "only N left" at or below this
MAX_PAGE = search.MAX_OFFSET // search.PAGE_SIZE + 1
CART_NOTES = {  # what "add to cart" came back with (mall_cart_views.mall_cart_add)
    "added": gettext_lazy("Added to your cart."),
    "not_on_sale": gettext_lazy("This kind is not on sale now."),
    "out_of_stock": gettext_lazy("This kind is sold out."),
    "cart_full": gettext_lazy("Your cart is full. Remove something first."),
    "quantity": gettext_lazy("Choose a quantity between 1 and 99 (in all, with what is already in your cart)."),
}


def _page_number(request: HttpRequest) -> int:
    raw = str(request.GET.get("page") or "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def image_url(product_id: int, sha: str) -> str:
    return reverse("app:mall_image", args=[product_id, sha]) if sha else ""


def icon_url(category: Any) -> str:
    return reverse("app:mall_icon", args=[category.pk, category.icon_sha]) if category.icon_sha else ""


def price_range(low: int, high: int) -> str:
    return format_cny(low) if low == high else f"{format_cny(low)} – {format_cny(high)}"


def _cards(mall_group_id: int, cards: Any) -> list[dict[str, Any]]:
    """What a product card shows: picture, title, subtitle, the shop's name, the lowest price ("from" when the
    kinds differ in price)."""
    cards = list(cards)
    names: dict[int, str] = {}
    if cards:
        wanted = {c.merchant_id for c in cards}
        names = dict(merchant_options(mall_group_id=mall_group_id).filter(pk__in=wanted).values_list("pk", "name"))
    return [_card(c, names) for c in cards]


def _card(card: ProductCard, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": card.product_id,
        "title": card.title,
        "subtitle": card.subtitle,
        "shop": names.get(card.merchant_id, ""),
        "image": image_url(card.product_id, card.image_sha),
        "price": format_cny(card.min_price_fen),
        "from": card.max_price_fen > card.min_price_fen,
    }


def _top_categories(mall_group_id: int) -> list[dict[str, Any]]:
    return [
        {"id": c.pk, "name": c.name, "icon": icon_url(c)}
        for c in selectors_catalog.online_categories(mall_group_id=mall_group_id)
        if c.parent_id is None
    ]


def _shelves(mall_group_id: int, placement: str, category_id: int | None = None) -> list[dict[str, Any]]:
    shown = selectors_catalog.shelves_shown(mall_group_id=mall_group_id, placement=placement, category_id=category_id)
    return [{"id": shelf.pk, "title": shelf.title, "cards": _cards(mall_group_id, cards)} for shelf, cards in shown]


def _closed(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    return render(request, "app/mall/closed.html", _base_context(mall, member))


def _is_open(mall: Any) -> bool:
    return bool(selectors_catalog.online_settings_get(mall_group_id=mall.group_id).is_open)


# ------------------------------------------------------------------------------------------------- home, search


@never_cache
@require_GET
@member_view
def mall_home(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    if not _is_open(mall):
        return _closed(request, member, mall)
    found = search.product_search(mall_group_id=mall.group_id, query="")
    return render(
        request,
        "app/mall/home.html",
        {
            **_base_context(mall, member),
            "categories": _top_categories(mall.group_id),
            "shelves": _shelves(mall.group_id, ShelfPlacement.HOME),
            "cards": _cards(mall.group_id, found.cards),
            "more_url": reverse("app:mall_search") + "?all=1&page=2" if found.has_more else "",
        },
    )


@never_cache
@require_GET
@member_view
def mall_search(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    if not _is_open(mall):
        return _closed(request, member, mall)
    raw = str(request.GET.get("q") or "")[:100]
    listing_all = request.GET.get("all") == "1"
    page = _page_number(request)
    found = None
    if raw.strip() or listing_all:
        found = search.product_search(
            mall_group_id=mall.group_id,
            query=raw,
            offset=(page - 1) * search.PAGE_SIZE,
        )
    params = {"q": raw} if raw.strip() else {"all": "1"}
    return render(
        request,
        "app/mall/search.html",
        {
            **_base_context(mall, member),
            "q": raw.strip(),
            "listing_all": listing_all and not raw.strip(),
            "searched": found is not None,
            "cards": _cards(mall.group_id, found.cards) if found else [],
            "page": page,
            "prev_url": "?" + urlencode({**params, "page": page - 1}) if found and page > 1 else "",
            "next_url": "?" + urlencode({**params, "page": page + 1}) if found and found.has_more else "",
            "categories": _top_categories(mall.group_id),
        },
    )


@never_cache
@require_GET
@member_view
def mall_category(request: HttpRequest, member: Any, mall: Any, category_id: int) -> HttpResponse:
    if not _is_open(mall):
        return _closed(request, member, mall)
    category = selectors_catalog.online_category_get(mall_group_id=mall.group_id, category_id=category_id)
    if category is None or not category.is_active:
        messages.error(request, _("This category is not in the online mall."))
        return redirect("app:mall")
    page = _page_number(request)
    found = search.product_search(
        mall_group_id=mall.group_id, query="", category_id=category.pk, offset=(page - 1) * search.PAGE_SIZE
    )
    tree = selectors_catalog.online_categories(mall_group_id=mall.group_id)
    top_id = category.parent_id or category.pk
    children = [{"id": c.pk, "name": c.name} for c in tree if c.parent_id == top_id]
    parent = next((c for c in tree if c.pk == category.parent_id), None)
    return render(
        request,
        "app/mall/category.html",
        {
            **_base_context(mall, member),
            "category": category,
            "parent": parent,
            "top_id": top_id,
            "children": children,
            "shelves": _shelves(mall.group_id, ShelfPlacement.CATEGORY, category.pk) if page == 1 else [],
            "cards": _cards(mall.group_id, found.cards),
            "page": page,
            "prev_url": f"?page={page - 1}" if page > 1 else "",
            "next_url": f"?page={page + 1}" if found.has_more else "",
        },
    )


# ------------------------------------------------------------------------------------------------- product


def _listed_product(mall: Any, product_id: int) -> Any:
    return (
        selectors_catalog.listed(mall_group_id=mall.group_id)
        .select_related("merchant", "category")
        .filter(pk=product_id)
        .first()
    )


def stock_state(available: int) -> tuple[str, str]:
    """(state, words): in stock, only N left, sold out."""
    if available <= 0:
        return "sold_out", _("Sold out")
    if available <= FEW_LEFT:
        return "few", _("Only %(n)s left") % {"n": available}
    return "in_stock", _("In stock")


def option_picker(
    names: list[str], values: dict[str, list[str]], skus: list[SkuView], chosen: SkuView | None
) -> list[dict[str, Any]]:
    """Each option with its values: the SKU a tap on a value chooses (the chosen combination with that value),
    whether it is the current one, sold out, or not sold at all (disabled)."""
    by_key = {tuple(s.options.get(n, "") for n in names): s for s in skus}
    current = dict(chosen.options) if chosen else {}
    picker = []
    for name in names:
        items = []
        for value in values.get(name, []):
            wanted = {**current, name: value}
            target = by_key.get(tuple(wanted.get(n, "") for n in names))
            if target is None:  # this value with the others chosen is not sold: any kind with this value
                target = next((s for s in skus if s.options.get(name) == value and s.available > 0), None)
                target = target or next((s for s in skus if s.options.get(name) == value), None)
            items.append(
                {
                    "value": value,
                    "sku_id": target.sku_id if target else None,
                    "selected": current.get(name) == value,
                    "sold_out": target is not None and target.available <= 0,
                }
            )
        picker.append({"name": name, "values": items})
    return picker


@never_cache
@require_GET
@member_view
def mall_product(request: HttpRequest, member: Any, mall: Any, product_id: int) -> HttpResponse:
    if not _is_open(mall):
        return _closed(request, member, mall)
    product = _listed_product(mall, product_id)
    if product is None:
        messages.error(request, _("This product is not on sale in the online mall."))
        return redirect("app:mall")
    skus = selectors_catalog.product_sku_views(mall_group_id=mall.group_id, product=product)
    options = selectors_catalog.product_options(product_id=product.pk)
    names = [o.name for o in options]
    raw = str(request.GET.get("sku") or "")
    chosen = next((s for s in skus if raw.isdigit() and s.sku_id == int(raw)), None)
    if chosen is None and skus:
        chosen = next((s for s in skus if s.available > 0), skus[0])
    images = selectors_catalog.product_images(product_id=product.pk)
    shop = selectors_catalog.merchant_shop_get(mall_group_id=mall.group_id, merchant_id=int(product.merchant_id or 0))
    pickup_ids, ship_from = selectors_catalog.shop_store_ids(shop=shop)
    pickup_names = []
    if product.allow_pickup and pickup_ids:
        pickup_names = [s.name for s in store_list(merchant_id=int(product.merchant_id or 0)) if s.pk in pickup_ids]
    state, state_text = stock_state(chosen.available if chosen else 0)
    cart_note = str(request.GET.get("cart") or "")
    low = product.min_price_fen
    high = product.max_price_fen
    return render(
        request,
        "app/mall/product.html",
        {
            **_base_context(mall, member),
            "product": product,
            "shop_name": product.merchant.name if product.merchant else "",
            "images": [image_url(product.pk, i.image_sha) for i in images],
            "picker": option_picker(names, {o.name: list(o.values) for o in options}, skus, chosen),
            "chosen": chosen,
            "price": format_cny(chosen.price_fen) if chosen else price_range(low, high),
            "list_price": format_cny(chosen.list_price_fen) if chosen and chosen.list_price_fen else "",
            "stock_state": state,
            "stock_text": state_text,
            "pickup_names": pickup_names,
            "delivers": product.allow_delivery and ship_from is not None,
            "service_phone": shop.service_phone if shop else "",
            "cart_note": cart_note if cart_note in CART_NOTES else "",
            "cart_note_text": CART_NOTES.get(cart_note, ""),
        },
    )


# ------------------------------------------------------------------------------------------------- pictures


def _picture_response(request: HttpRequest, sha: str, data_of: Any) -> HttpResponse:
    if request.headers.get("If-None-Match") == f'"{sha}"':
        response: HttpResponse = HttpResponseNotModified()
    else:
        data = data_of()
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="image/jpeg")
    response["ETag"] = f'"{sha}"'
    response["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def mall_image(request: HttpRequest, product_id: int, sha: str) -> HttpResponse:
    """A product's picture: public, addressed by product id and digest (ids cannot be walked); the bytes behind a
    digest never change, so it is cached a year. The JPEG we re-encoded, `nosniff`, sandboxed."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise Http404
    image = selectors_catalog.product_image_get(product_id=product_id, sha=sha)
    if image is None:
        raise Http404
    return _picture_response(request, sha, lambda: selectors_catalog.stored_bytes(image.image_name))


@require_GET
def mall_icon(request: HttpRequest, category_id: int, sha: str) -> HttpResponse:
    """A category's icon, served like a product picture."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise Http404
    category = selectors_catalog.category_icon_get(category_id=category_id, sha=sha)
    if category is None:
        raise Http404
    return _picture_response(request, sha, lambda: selectors_catalog.stored_bytes(category.icon_name))
