"""Reads of the online mall's catalogue (docs/design/online-mall.md §3.1, §9): the mall's settings, merchants' shops
and their stores, categories (two levels), products with options, SKUs, pictures and stock, shelves.

Every read is scoped by mall group (and by merchant for the portal): an id from another group or merchant reads as
absent. Search is in search.py. Other layers read commerce through this module and `types`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q, QuerySet

from galleria.core import timeutil

from .models import (
    Category,
    MerchantShop,
    OnlineSettings,
    Product,
    ProductImage,
    ProductOption,
    Shelf,
    ShelfItem,
    Sku,
    SkuStock,
)
from .types import ProductCard, ProductStatus, ShelfPlacement, ShopChannel, SkuView

ONLINE = ShopChannel.ONLINE


# ------------------------------------------------------------------------------------------------- settings, shops


def online_settings_get(*, mall_group_id: int) -> OnlineSettings:
    """The group's online-mall settings (an unsaved default, closed, when never saved)."""
    found = OnlineSettings.objects.filter(mall_group_id=mall_group_id).first()
    return found if found is not None else OnlineSettings(mall_group_id=mall_group_id)


def merchant_shop_get(*, mall_group_id: int, merchant_id: int) -> MerchantShop | None:
    return (
        MerchantShop.objects.select_related("ship_from_store")
        .filter(mall_group_id=mall_group_id, merchant_id=merchant_id)
        .first()
    )


def shop_store_ids(*, shop: MerchantShop | None) -> tuple[list[int], int | None]:
    """(pickup store ids in id order, ship-from store id) of a shop; ([], None) without one."""
    if shop is None or shop.pk is None:
        return [], None
    pickup = list(shop.pickup_stores.order_by("store_id").values_list("store_id", flat=True))
    return pickup, shop.ship_from_store_id


def open_shop_merchant_ids(*, mall_group_id: int) -> list[int]:
    """The merchants whose shops are open, in id order (the search's filter)."""
    qs = MerchantShop.objects.filter(mall_group_id=mall_group_id, is_open=True).order_by("merchant_id")
    return list(qs.values_list("merchant_id", flat=True))


def shops_open(*, mall_group_id: int) -> QuerySet[MerchantShop]:
    return MerchantShop.objects.filter(mall_group_id=mall_group_id, is_open=True).select_related("merchant")


# ------------------------------------------------------------------------------------------------- categories


def online_categories(*, mall_group_id: int, active_only: bool = True) -> list[Category]:
    """The tree as a list: each top category followed by its children, both by sort order then name."""
    qs = Category.objects.filter(mall_group_id=mall_group_id, shop=ONLINE)
    if active_only:
        qs = qs.filter(is_active=True)
    rows = list(qs.order_by("sort_order", "name", "pk"))
    children: dict[int, list[Category]] = defaultdict(list)
    for row in rows:
        if row.parent_id is not None:
            children[row.parent_id].append(row)
    tree: list[Category] = []
    for row in rows:
        if row.parent_id is None:
            tree.append(row)
            tree.extend(children.get(row.pk, []))
    return tree


def online_category_get(*, mall_group_id: int, category_id: int) -> Category | None:
    return Category.objects.filter(mall_group_id=mall_group_id, shop=ONLINE, pk=category_id).first()


def category_with_children(*, mall_group_id: int, category_id: int) -> list[int]:
    """The category's id and its children's (a top category lists its children's products too)."""
    ids = [category_id]
    ids += list(
        Category.objects.filter(mall_group_id=mall_group_id, shop=ONLINE, parent_id=category_id).values_list(
            "pk", flat=True
        )
    )
    return ids


# ------------------------------------------------------------------------------------------------- products


def _online(mall_group_id: int) -> QuerySet[Product]:
    return Product.objects.filter(mall_group_id=mall_group_id, shop=ONLINE)


def online_product_get(*, mall_group_id: int, product_id: int, merchant_id: int | None = None) -> Product | None:
    """A product of the group (and of the merchant, when given), with its category and merchant."""
    qs = _online(mall_group_id).select_related("category", "merchant")
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return qs.filter(pk=product_id).first()


def merchant_products(*, mall_group_id: int, merchant_id: int, status: str = "", query: str = "") -> QuerySet[Product]:
    """The portal's product list (every status, blocked ones included), newest first."""
    qs = _online(mall_group_id).filter(merchant_id=merchant_id).select_related("category")
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(skus__barcode=query.strip())).distinct()
    return qs.order_by("-pk")


def console_products(
    *, mall_group_id: int, merchant_id: int | None = None, blocked: bool | None = None, query: str = ""
) -> QuerySet[Product]:
    """The console's view across merchants (takedown): optionally one merchant's, only (un)blocked ones."""
    qs = _online(mall_group_id).select_related("category", "merchant")
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if blocked is not None:
        qs = qs.filter(is_blocked=blocked)
    if query:
        qs = qs.filter(title__icontains=query)
    return qs.order_by("-pk")


def listed(*, mall_group_id: int, at: dt.datetime | None = None) -> QuerySet[Product]:
    """What members see: on sale, not taken down, inside the sale window, of an open shop."""
    at = at or timeutil.now()
    open_merchants = MerchantShop.objects.filter(mall_group_id=mall_group_id, is_open=True).values("merchant_id")
    return (
        _online(mall_group_id)
        .filter(status=ProductStatus.ON_SALE, is_blocked=False, merchant_id__in=open_merchants)
        .filter(Q(on_sale_from__isnull=True) | Q(on_sale_from__lte=at))
        .filter(Q(on_sale_until__isnull=True) | Q(on_sale_until__gt=at))
    )


def category_listing(
    *, mall_group_id: int, category_id: int | None = None, at: dt.datetime | None = None
) -> QuerySet[Product]:
    """A category page (its children's products too), best sellers first: the browse index's order."""
    qs = listed(mall_group_id=mall_group_id, at=at)
    if category_id is not None:
        qs = qs.filter(category_id__in=category_with_children(mall_group_id=mall_group_id, category_id=category_id))
    return qs.order_by("-sales_30d", "-pk")


def cards(products: Iterable[Product]) -> list[ProductCard]:
    return [
        ProductCard(
            product_id=p.pk,
            title=p.title,
            subtitle=p.subtitle,
            merchant_id=int(p.merchant_id or 0),
            image_sha=p.image_sha,
            min_price_fen=p.min_price_fen,
            max_price_fen=p.max_price_fen,
            sales_30d=p.sales_30d,
        )
        for p in products
    ]


def product_options(*, product_id: int) -> list[ProductOption]:
    return list(ProductOption.objects.filter(product_id=product_id).order_by("position"))


def product_images(*, product_id: int) -> list[ProductImage]:
    return list(ProductImage.objects.filter(product_id=product_id).order_by("position"))


def product_skus(*, product_id: int, active_only: bool = True) -> list[Sku]:
    qs = Sku.objects.filter(product_id=product_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("pk"))


def sellable_store_ids(*, mall_group_id: int, merchant_id: int) -> list[int]:
    """The stores a shop sells from: its pickup stores and its ship-from store."""
    pickup, ship_from = shop_store_ids(shop=merchant_shop_get(mall_group_id=mall_group_id, merchant_id=merchant_id))
    return sorted(set(pickup) | ({ship_from} if ship_from else set()))


def sku_available(*, sku_ids: Iterable[int], store_ids: Iterable[int]) -> dict[int, int]:
    """{sku id: on hand − allocated summed over those stores} (absent rows: 0)."""
    found: dict[int, int] = defaultdict(int)
    rows = SkuStock.objects.filter(sku_id__in=list(sku_ids), store_id__in=list(store_ids))
    for sku_id, on_hand, allocated in rows.values_list("sku_id", "on_hand", "allocated"):
        found[sku_id] += on_hand - allocated
    return dict(found)


def product_sku_views(*, mall_group_id: int, product: Product) -> list[SkuView]:
    """The product page's SKUs with what may be bought now (sold-out combinations show 0)."""
    skus = product_skus(product_id=product.pk)
    names = [o.name for o in product_options(product_id=product.pk)]
    stores = sellable_store_ids(mall_group_id=mall_group_id, merchant_id=int(product.merchant_id or 0))
    available = sku_available(sku_ids=[s.pk for s in skus], store_ids=stores)
    return [
        SkuView(
            sku_id=s.pk,
            options=dict(s.options),
            label=" / ".join(str(s.options.get(n, "")) for n in names),
            price_fen=s.price_fen,
            list_price_fen=s.list_price_fen,
            available=max(available.get(s.pk, 0), 0),
        )
        for s in skus
    ]


# ------------------------------------------------------------------------------------------------- stock


def stock_rows(*, mall_group_id: int, merchant_id: int, store_id: int | None = None) -> QuerySet[SkuStock]:
    """The portal's stock page: every (SKU, store) row of the merchant's products, by product then SKU."""
    qs = SkuStock.objects.filter(
        sku__product__mall_group_id=mall_group_id, sku__product__merchant_id=merchant_id, sku__product__shop=ONLINE
    ).select_related("sku__product", "store")
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return qs.order_by("sku__product_id", "sku_id", "store_id")


def merchant_skus(*, mall_group_id: int, merchant_id: int, query: str = "") -> QuerySet[Sku]:
    """The portal's stock page: the active SKUs of the merchant's online products (a title or an exact barcode
    narrows them), by product then SKU."""
    qs = Sku.objects.filter(
        product__mall_group_id=mall_group_id, product__merchant_id=merchant_id, product__shop=ONLINE, is_active=True
    ).select_related("product")
    query = query.strip()
    if query:
        qs = qs.filter(Q(product__title__icontains=query) | Q(barcode=query))
    return qs.order_by("-product_id", "pk")


def stock_by_sku(*, sku_ids: Iterable[int], store_id: int) -> dict[int, SkuStock]:
    """{sku id: its stock row at the store} (SKUs never counted there are absent)."""
    return {row.sku_id: row for row in SkuStock.objects.filter(sku_id__in=list(sku_ids), store_id=store_id)}


def product_image_get(*, product_id: int, sha: str) -> ProductImage | None:
    """A product's picture by its digest (the picture URL names both, so ids cannot be walked)."""
    if not sha:
        return None
    return ProductImage.objects.filter(product_id=product_id, image_sha=sha).first()


def category_icon_get(*, category_id: int, sha: str) -> Category | None:
    if not sha:
        return None
    return Category.objects.filter(pk=category_id, shop=ONLINE, icon_sha=sha).first()


def stored_bytes(name: str) -> bytes | None:
    """The bytes of a stored picture (None when the file is gone)."""
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            data: bytes = handle.read()
            return data
    except (FileNotFoundError, OSError):
        return None


def stock_get(*, sku_id: int, store_id: int) -> SkuStock | None:
    return SkuStock.objects.filter(sku_id=sku_id, store_id=store_id).first()


def sku_by_barcode(*, mall_group_id: int, merchant_id: int, barcode: str) -> Sku | None:
    """Scan a barcode on the stock page: the merchant's SKU with it (the newest when several)."""
    barcode = barcode.strip()
    if not barcode:
        return None
    return (
        Sku.objects.filter(
            barcode=barcode,
            product__mall_group_id=mall_group_id,
            product__merchant_id=merchant_id,
            product__shop=ONLINE,
        )
        .select_related("product")
        .order_by("-pk")
        .first()
    )


def merchant_sku_get(*, mall_group_id: int, merchant_id: int | None, sku_id: int) -> Sku | None:
    qs = Sku.objects.filter(pk=sku_id, product__mall_group_id=mall_group_id, product__shop=ONLINE)
    if merchant_id is not None:
        qs = qs.filter(product__merchant_id=merchant_id)
    return qs.select_related("product").first()


def catalog_group_id(
    *, product_id: int | None = None, category_id: int | None = None, shelf_id: int | None = None
) -> int | None:
    """The mall group of an online product, category or shelf (None when there is none): how the console finds the
    group of an object a URL names for a platform admin, who has no group of their own."""
    if product_id is not None:
        qs = _online_ids(Product.objects.filter(pk=product_id, shop=ONLINE))
    elif category_id is not None:
        qs = _online_ids(Category.objects.filter(pk=category_id, shop=ONLINE))
    elif shelf_id is not None:
        qs = _online_ids(Shelf.objects.filter(pk=shelf_id))
    else:
        return None
    return qs.first()


def _online_ids(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.values_list("mall_group_id", flat=True)


# ------------------------------------------------------------------------------------------------- shelves


def shelves(*, mall_group_id: int) -> QuerySet[Shelf]:
    """The console's shelves, by placement and sort order."""
    return (
        Shelf.objects.filter(mall_group_id=mall_group_id)
        .select_related("category")
        .order_by("placement", "sort_order", "pk")
    )


def shelf_get(*, mall_group_id: int, shelf_id: int) -> Shelf | None:
    return Shelf.objects.filter(mall_group_id=mall_group_id, pk=shelf_id).first()


def shelf_product_ids(*, shelf_id: int) -> list[int]:
    return list(
        ShelfItem.objects.filter(shelf_id=shelf_id).order_by("sort_order", "pk").values_list("product_id", flat=True)
    )


def shelves_shown(
    *,
    mall_group_id: int,
    placement: str = ShelfPlacement.HOME,
    category_id: int | None = None,
    at: dt.datetime | None = None,
) -> list[tuple[Shelf, list[ProductCard]]]:
    """The shelves a page shows now with their listed products in order (empty shelves left out)."""
    at = at or timeutil.now()
    qs = shelves(mall_group_id=mall_group_id).filter(placement=placement, is_active=True)
    qs = qs.filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at), Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    if placement == ShelfPlacement.CATEGORY:
        qs = qs.filter(category_id=category_id) if category_id is not None else qs.none()
    live = listed(mall_group_id=mall_group_id, at=at)
    items = ShelfItem.objects.filter(product__in=live).select_related("product").order_by("sort_order", "pk")
    shown: list[tuple[Shelf, list[ProductCard]]] = []
    for shelf in qs.prefetch_related(Prefetch("items", queryset=items, to_attr="live_items")):
        products = [item.product for item in shelf.live_items]
        if products:
            shown.append((shelf, cards(products)))
    return shown
