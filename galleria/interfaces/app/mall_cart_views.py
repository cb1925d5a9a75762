"""The online mall's cart in the member app (docs/design/online-mall.md §9): "add to cart" on the product page, and
the cart page — lines grouped by shop, quantity change and remove, lines that cannot be bought now flagged with why,
the total of what can be bought, an empty state. Plain forms (no script needed); galleria.commerce.services_cart
decides (on sale, 1–99 units, at most 100 lines)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.commerce import selectors_catalog, services_cart
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny

from .mall_cart import cart_shops
from .views import _base_context, member_view

# The product page's inline message for a refused "add to cart" (?cart=<code>): its own words, never the bare code.
CART_ERRORS = {
    "commerce.not_on_sale": "not_on_sale",
    "commerce.blocked": "not_on_sale",
    "commerce.not_found": "not_on_sale",
    "commerce.cart_full": "cart_full",
    "commerce.quantity_invalid": "quantity",
}


def _quantity(raw: object, default: int = 1) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return default
    return int(text) if text.isdigit() and len(text) < 4 else None


def _in_stock(mall_group_id: int, sku_id: int, quantity: int) -> bool:
    """Whether the shop's stores have the units available now (an unknown SKU passes: the service refuses it)."""
    sku = selectors_catalog.merchant_sku_get(mall_group_id=mall_group_id, merchant_id=None, sku_id=sku_id)
    if sku is None:
        return True
    merchant_id = int(sku.product.merchant_id or 0)
    stores = selectors_catalog.sellable_store_ids(mall_group_id=mall_group_id, merchant_id=merchant_id)
    return selectors_catalog.sku_available(sku_ids=[sku_id], store_ids=stores).get(sku_id, 0) >= quantity


@require_POST
@member_view
def mall_cart_add(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """Add the chosen SKU (and quantity) to the cart; back to the product page, which says what happened."""
    raw_sku = str(request.POST.get("sku") or "")
    product_id = str(request.POST.get("product") or "")
    back = reverse("app:mall_product", args=[int(product_id)]) if product_id.isdigit() else reverse("app:mall")
    quantity = _quantity(request.POST.get("quantity"))
    if not raw_sku.isdigit() or len(raw_sku) > 12:
        return redirect(back + "?" + urlencode({"cart": "not_on_sale"}))
    params: dict[str, str] = {"sku": raw_sku}
    if quantity is None:
        return redirect(back + "?" + urlencode({**params, "cart": "quantity"}))
    if not _in_stock(mall.group_id, int(raw_sku), quantity):
        return redirect(back + "?" + urlencode({**params, "cart": "out_of_stock"}))
    try:
        services_cart.cart_add(member_id=member.pk, mall_group_id=mall.group_id, sku_id=int(raw_sku), quantity=quantity)
    except ApplicationError as exc:
        return redirect(back + "?" + urlencode({**params, "cart": CART_ERRORS.get(exc.code, "not_on_sale")}))
    return redirect(back + "?" + urlencode({**params, "cart": "added"}))


@never_cache
@require_GET
@member_view
def mall_cart(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    shops = cart_shops(member_id=member.pk, mall_group_id=mall.group_id)
    buyable = [line for shop in shops for line in shop.ok_lines]
    total = sum(line.amount_fen for line in buyable)
    return render(
        request,
        "app/mall/cart.html",
        {
            **_base_context(mall, member),
            "shops": shops,
            "buyable_count": sum(line.quantity for line in buyable),
            "has_problems": any(not line.ok for shop in shops for line in shop.lines),
            "total_text": format_cny(total),
            "max_units": services_cart.MAX_UNITS,
        },
    )


@require_POST
@member_view
def mall_cart_update(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """Set a line's quantity (0 or "remove" takes it out). Idempotent: a retried form sets the same number."""
    raw_sku = str(request.POST.get("sku") or "")
    if not raw_sku.isdigit() or len(raw_sku) > 12:
        return redirect("app:mall_cart")
    sku_id = int(raw_sku)
    if request.POST.get("remove"):
        services_cart.cart_remove(member_id=member.pk, sku_ids=[sku_id])
        messages.success(request, _("Removed from your cart."))
        return redirect("app:mall_cart")
    quantity = _quantity(request.POST.get("quantity"), default=-1)
    step = str(request.POST.get("step") or "")
    if quantity is not None and step in ("-1", "1"):
        quantity += int(step)
    if quantity is None or quantity < 0:
        messages.error(request, _("Choose a quantity between 1 and %(n)s.") % {"n": services_cart.MAX_UNITS})
        return redirect("app:mall_cart")
    try:
        services_cart.cart_set(member_id=member.pk, mall_group_id=mall.group_id, sku_id=sku_id, quantity=quantity)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("app:mall_cart")
