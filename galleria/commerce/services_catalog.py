"""Writes of the online mall's catalogue (docs/design/online-mall.md §3.1, §9): the mall's settings, a merchant's
shop, categories (two levels), products with options → SKUs and pictures, publishing, the mall's takedown,
shelves, and stock counts.

Each use case is one durable transaction that locks the row it changes (`lock_one`) and writes an audit entry with
what changed. Merchants' services take the merchant id: an id of another merchant's product reads as absent. Stock
is changed by one conditional UPDATE per row and never below what is allocated to orders (the CHECK is the
backstop; an order's allocation is the checkout's, commerce/sql.py "stock"). A product's derived columns
(`search_text`, `min_price_fen`, `max_price_fen`) are recomputed by every write that changes their sources here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import pictures
from galleria.core.locking import lock_one
from galleria.merchants.selectors import merchant_get, store_for_payments

from . import exceptions, rules_catalog, selectors_catalog
from .models import (
    Category,
    MerchantShop,
    OnlineSettings,
    Product,
    ProductImage,
    ProductOption,
    Shelf,
    ShelfItem,
    ShopPickupStore,
    Sku,
    SkuStock,
)
from .types import (
    OnlineProductIn,
    OnlineSettingsIn,
    OptionIn,
    ProductKind,
    ProductStatus,
    ShelfIn,
    ShelfPlacement,
    ShopChannel,
    ShopIn,
    SkuIn,
)

IMAGE_PREFIX = "commerce/online"
ONLINE = ShopChannel.ONLINE

__all__ = [
    "merchant_shop_save",
    "online_category_icon_set",
    "online_category_save",
    "online_product_block",
    "online_product_image_add",
    "online_product_image_remove",
    "online_product_options_save",
    "online_product_publish",
    "online_product_save",
    "online_product_unblock",
    "online_product_unpublish",
    "online_settings_save",
    "shelf_items_set",
    "shelf_save",
    "sku_stock_adjust",
    "sku_stock_set",
]


# ------------------------------------------------------------------------------------------------- settings, shops


def online_settings_save(*, mall_group_id: int, data: OnlineSettingsIn, actor: Actor) -> OnlineSettings:
    """Open or close the group's online mall and set its clocks (bounds: rules_catalog.SETTINGS_BOUNDS)."""
    values = {name: getattr(data, name) for name, _low, _high in rules_catalog.SETTINGS_BOUNDS}
    errors = rules_catalog.settings_problems(values)
    if errors:
        raise exceptions.SettingsInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        OnlineSettings.objects.get_or_create(mall_group_id=mall_group_id)
        row = lock_one(OnlineSettings.objects.filter(mall_group_id=mall_group_id))
        before = {"is_open": row.is_open} | {name: getattr(row, name) for name in values}
        after = {"is_open": data.is_open} | values
        for name, value in after.items():
            setattr(row, name, value)
        row.save()
        audit_record(
            actor=actor,
            action="online_mall.settings_save",
            target_type="online_mall",
            target_id=mall_group_id,
            mall_group_id=mall_group_id,
            changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
        )
        return row


def _check_merchant(*, mall_group_id: int, merchant_id: int) -> None:
    """A merchant of another group (or none) reads as absent."""
    try:
        merchant_get(mall_group_id=mall_group_id, merchant_id=merchant_id)
    except ObjectDoesNotExist:
        raise exceptions.ProductNotFoundError(code="commerce.merchant_not_found") from None


def _merchant_store(*, mall_group_id: int, merchant_id: int, store_id: int) -> bool:
    store = store_for_payments(store_id=store_id, mall_group_id=mall_group_id)
    return store is not None and store.merchant_id == merchant_id


def merchant_shop_save(*, mall_group_id: int, merchant_id: int, data: ShopIn, actor: Actor) -> MerchantShop:
    """A merchant's shop: open or closed, the store it ships from (none: no delivery), its pickup stores (open
    stores of this merchant), the return address and the customer-service phone."""
    errors = rules_catalog.shop_problems(return_address=data.return_address, service_phone=data.service_phone)
    if data.ship_from_store_id is not None and not _merchant_store(
        mall_group_id=mall_group_id, merchant_id=merchant_id, store_id=data.ship_from_store_id
    ):
        errors["ship_from_store"] = _("Choose an open store of this merchant.")
    pickup = sorted(set(data.pickup_store_ids))
    if any(not _merchant_store(mall_group_id=mall_group_id, merchant_id=merchant_id, store_id=s) for s in pickup):
        errors["pickup_stores"] = _("Choose open stores of this merchant.")
    if data.is_open and data.ship_from_store_id is None and not pickup:
        errors["is_open"] = _("An open shop ships from a store or has a pickup store.")
    if errors:
        raise exceptions.ShopInvalidError(_("Check the fields marked."), fields=errors)
    _check_merchant(mall_group_id=mall_group_id, merchant_id=merchant_id)
    with transaction.atomic(durable=True):
        MerchantShop.objects.get_or_create(merchant_id=merchant_id, defaults={"mall_group_id": mall_group_id})
        shop = lock_one(MerchantShop.objects.filter(merchant_id=merchant_id, mall_group_id=mall_group_id))
        before_pickup, before_ship = selectors_catalog.shop_store_ids(shop=shop)
        before = {
            "is_open": shop.is_open,
            "ship_from_store": before_ship,
            "pickup_stores": before_pickup,
            "return_address": shop.return_address,
            "service_phone": shop.service_phone,
        }
        shop.is_open, shop.ship_from_store_id = data.is_open, data.ship_from_store_id
        shop.return_address, shop.service_phone = data.return_address.strip(), data.service_phone.strip()
        shop.save()
        ShopPickupStore.objects.filter(shop=shop).exclude(store_id__in=pickup).delete()
        ShopPickupStore.objects.bulk_create(
            [ShopPickupStore(shop=shop, store_id=s) for s in pickup if s not in before_pickup]
        )
        after = {
            "is_open": shop.is_open,
            "ship_from_store": shop.ship_from_store_id,
            "pickup_stores": pickup,
            "return_address": shop.return_address,
            "service_phone": shop.service_phone,
        }
        audit_record(
            actor=actor,
            action="online_mall.shop_save",
            target_type="online_shop",
            target_id=merchant_id,
            mall_group_id=mall_group_id,
            changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
        )
        return shop


# ------------------------------------------------------------------------------------------------- categories


def online_category_save(
    *,
    mall_group_id: int,
    category_id: int | None,
    name: str,
    parent_id: int | None,
    sort_order: int,
    is_active: bool,
    actor: Actor,
) -> Category:
    """Create or edit a category of two levels: a parent must be a top category, and a category with children
    stays on top. A rename refreshes its products' search text."""
    name = name.strip()
    if not name or len(name) > rules_catalog.CATEGORY_NAME_MAX:
        message = _("Enter a name of at most %(n)s characters.") % {"n": rules_catalog.CATEGORY_NAME_MAX}
        raise exceptions.CategoryInvalidError(message, fields={"name": message})
    parent = None
    if parent_id is not None:
        parent = selectors_catalog.online_category_get(mall_group_id=mall_group_id, category_id=parent_id)
        if parent is None or parent.parent_id is not None or parent.pk == category_id:
            message = _("Choose a top category as the parent (categories have two levels).")
            raise exceptions.CategoryInvalidError(message, fields={"parent": message})
    with transaction.atomic(durable=True):
        if category_id is None:
            category = Category(mall_group_id=mall_group_id, shop=ONLINE)
            before: dict[str, object] = {}
        else:
            found = selectors_catalog.online_category_get(mall_group_id=mall_group_id, category_id=category_id)
            if found is None:
                raise exceptions.ProductNotFoundError(code="commerce.category_not_found")
            category = lock_one(Category.objects.filter(pk=found.pk))
            if parent is not None and Category.objects.filter(parent_id=category.pk).exists():
                message = _("This category has its own sub-categories: it stays a top category.")
                raise exceptions.CategoryInvalidError(message, fields={"parent": message})
            before = {"name": category.name, "parent": category.parent_id, "shown": category.is_active}
        category.name, category.parent_id = name, parent_id
        category.sort_order, category.is_active = sort_order, is_active
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError:
            message = _("A category with this name already exists.")
            raise exceptions.CategoryInvalidError(
                message, code="commerce.category_taken", fields={"name": message}
            ) from None
        after = {"name": name, "parent": parent_id, "shown": is_active}
        if before and before["name"] != name:
            ids = Product.objects.filter(category__in=[category.pk, *category.children.values_list("pk", flat=True)])
            for product_id in ids.values_list("pk", flat=True):
                _refresh_derived(product_id)
        audit_record(
            actor=actor,
            action="online_mall.category_save",
            target_type="online_category",
            target_id=category.pk,
            target_label=category.name,
            mall_group_id=mall_group_id,
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
        return category


def _store_picture(mall_group_id: int, data: bytes) -> tuple[str, pictures.CleanPicture]:
    clean = pictures.clean_picture(data, error=exceptions.ImageInvalidError)
    name = default_storage.save(f"{IMAGE_PREFIX}/{mall_group_id}/{uuid.uuid4().hex}.jpg", ContentFile(clean.data))
    return name, clean


def _delete_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def online_category_icon_set(*, mall_group_id: int, category_id: int, data: bytes, actor: Actor) -> Category:
    found = selectors_catalog.online_category_get(mall_group_id=mall_group_id, category_id=category_id)
    if found is None:
        raise exceptions.ProductNotFoundError(code="commerce.category_not_found")
    name, clean = _store_picture(mall_group_id, data)
    try:
        with transaction.atomic(durable=True):
            category = lock_one(Category.objects.filter(pk=found.pk))
            _delete_on_commit(category.icon_name)
            category.icon_name, category.icon_sha = name, clean.sha256
            category.save(update_fields=["icon_name", "icon_sha"])
            audit_record(
                actor=actor,
                action="online_mall.category_icon",
                target_type="online_category",
                target_id=category.pk,
                target_label=category.name,
                mall_group_id=mall_group_id,
                changes={"width": clean.width, "height": clean.height, "bytes": len(clean.data)},
            )
    except BaseException:
        default_storage.delete(name)
        raise
    return category


# ------------------------------------------------------------------------------------------------- products


def _refresh_derived(product_id: int) -> None:
    """Recompute a product's search text and price range from its rows (inside the caller's transaction)."""
    product = Product.objects.select_related("category__parent", "merchant").get(pk=product_id)
    categories = []
    if product.category is not None:
        categories = [product.category.name] + ([product.category.parent.name] if product.category.parent else [])
    values = [v for o in ProductOption.objects.filter(product_id=product_id).order_by("position") for v in o.values]
    prices = list(Sku.objects.filter(product_id=product_id, is_active=True).values_list("price_fen", flat=True))
    low, high = rules_catalog.price_range(prices)
    text = rules_catalog.search_text(
        title=product.title,
        subtitle=product.subtitle,
        categories=categories,
        merchant=product.merchant.name if product.merchant else "",
        values=values,
    )
    Product.objects.filter(pk=product_id).update(search_text=text, min_price_fen=low, max_price_fen=high)


_FIELDS = (
    "title",
    "subtitle",
    "description",
    "category_id",
    "allow_pickup",
    "allow_delivery",
    "on_sale_from",
    "on_sale_until",
    "sort_order",
)


def _values(product: Product) -> dict[str, object]:
    return {f: (v.isoformat() if hasattr(v := getattr(product, f), "isoformat") else v) for f in _FIELDS}


def _locked_product(*, mall_group_id: int, product_id: int, merchant_id: int | None) -> Product:
    found = selectors_catalog.online_product_get(
        mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id
    )
    if found is None:
        raise exceptions.ProductNotFoundError()
    return lock_one(Product.objects.filter(pk=found.pk))


def online_product_save(
    *, mall_group_id: int, merchant_id: int, product_id: int | None, data: OnlineProductIn, actor: Actor
) -> Product:
    """Create (a draft) or edit a merchant's product. Field errors: ProductInvalidError with `fields`. Its status
    is changed by publish / unpublish only."""
    errors = rules_catalog.product_problems(data)
    if data.category_id is not None and (
        selectors_catalog.online_category_get(mall_group_id=mall_group_id, category_id=data.category_id) is None
    ):
        errors["category"] = _("Choose a category of the online mall.")
    if errors:
        raise exceptions.ProductInvalidError(_("Check the fields marked."), fields=errors)
    _check_merchant(mall_group_id=mall_group_id, merchant_id=merchant_id)
    with transaction.atomic(durable=True):
        if product_id is None:
            product = Product(mall_group_id=mall_group_id, shop=ONLINE, merchant_id=merchant_id, kind=ProductKind.GIFT)
            before: dict[str, object] = {}
        else:
            product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
            before = _values(product)
        for name in _FIELDS:
            value = getattr(data, name)
            setattr(product, name, value.strip() if isinstance(value, str) else value)
        product.save()
        _refresh_derived(product.pk)
        after = _values(product)
        audit_record(
            actor=actor,
            action="online_mall.product_create" if product_id is None else "online_mall.product_update",
            target_type="online_product",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        )
        product.refresh_from_db()
        return product


def online_product_options_save(
    *,
    mall_group_id: int,
    merchant_id: int,
    product_id: int,
    options: Sequence[OptionIn],
    skus: Sequence[SkuIn],
    actor: Actor,
) -> list[Sku]:
    """Replace a product's options and the SKUs it sells. A SKU is matched by its option key: a kept combination
    keeps its row (and its stock and orders), a new one gets a row, a dropped one is deactivated (never deleted:
    stock rows and order lines refer to it). Returns the active SKUs in option order."""
    errors = rules_catalog.options_problems(options) or rules_catalog.skus_problems(options, skus)
    if errors:
        raise exceptions.OptionsInvalidError(_("Check the options and prices."), fields=errors)
    names = [rules_catalog.normalise_name(o.name) for o in options]
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
        existing = {s.option_key: s for s in Sku.objects.filter(product=product)}
        ProductOption.objects.filter(product=product).delete()
        ProductOption.objects.bulk_create(
            [
                ProductOption(
                    product=product, name=name, position=i, values=[rules_catalog.normalise_name(v) for v in o.values]
                )
                for i, (name, o) in enumerate(zip(names, options, strict=True))
            ]
        )
        kept: list[Sku] = []
        for data in skus:
            chosen = {rules_catalog.normalise_name(k): rules_catalog.normalise_name(v) for k, v in data.options.items()}
            key = rules_catalog.option_key(chosen, names)
            sku = existing.pop(key, None) or Sku(product=product, code=f"ON{product.pk}-{uuid.uuid4().hex[:10]}")
            sku.options = {n: chosen[n] for n in names}
            sku.option_key, sku.name = key, rules_catalog.sku_label(chosen, names)[:60]
            sku.price_fen, sku.list_price_fen = data.price_fen, data.list_price_fen
            sku.barcode, sku.is_active, sku.price_points = data.barcode.strip(), True, 0
            sku.save()
            kept.append(sku)
        dropped = [s.pk for s in existing.values() if s.is_active]
        Sku.objects.filter(pk__in=dropped).update(is_active=False)
        _refresh_derived(product.pk)
        audit_record(
            actor=actor,
            action="online_mall.product_skus",
            target_type="online_product",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={
                "options": {n: list(o.values) for n, o in zip(names, options, strict=True)},
                "skus": {s.option_key or "-": s.price_fen for s in kept},
                "deactivated": dropped,
            },
        )
        return kept


def online_product_image_add(
    *, mall_group_id: int, merchant_id: int, product_id: int, data: bytes, actor: Actor
) -> ProductImage:
    """Add a picture at the end (at most 9; the first is the cover, also kept on the product)."""
    if (
        selectors_catalog.online_product_get(
            mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id
        )
        is None
    ):
        raise exceptions.ProductNotFoundError()
    name, clean = _store_picture(mall_group_id, data)
    try:
        with transaction.atomic(durable=True):
            product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
            count = ProductImage.objects.filter(product=product).count()
            if count >= rules_catalog.MAX_IMAGES:
                message = _("A product has at most %(n)s pictures.") % {"n": rules_catalog.MAX_IMAGES}
                raise exceptions.ImageInvalidError(message, fields={"image": message})
            image = ProductImage.objects.create(
                product=product, position=count, image_name=name, image_sha=clean.sha256
            )
            if count == 0:
                Product.objects.filter(pk=product.pk).update(image_name=name, image_sha=clean.sha256)
            audit_record(
                actor=actor,
                action="online_mall.product_image",
                target_type="online_product",
                target_id=product.pk,
                target_label=product.title,
                mall_group_id=mall_group_id,
                changes={"added": count, "width": clean.width, "height": clean.height},
            )
    except BaseException:
        default_storage.delete(name)
        raise
    return image


def online_product_image_remove(
    *, mall_group_id: int, merchant_id: int, product_id: int, position: int, actor: Actor
) -> None:
    """Remove a picture; the ones after it move up (the second becomes the cover when the first goes)."""
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
        image = ProductImage.objects.filter(product=product, position=position).first()
        if image is None:
            raise exceptions.ProductNotFoundError(code="commerce.image_not_found")
        image.delete()
        _delete_on_commit(image.image_name)
        for later in ProductImage.objects.filter(product=product, position__gt=position).order_by("position"):
            ProductImage.objects.filter(pk=later.pk).update(position=F("position") - 1)
        cover = ProductImage.objects.filter(product=product, position=0).first()
        Product.objects.filter(pk=product.pk).update(
            image_name=cover.image_name if cover else "", image_sha=cover.image_sha if cover else ""
        )
        audit_record(
            actor=actor,
            action="online_mall.product_image",
            target_type="online_product",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={"removed": position},
        )


def online_product_publish(*, mall_group_id: int, merchant_id: int, product_id: int, actor: Actor) -> Product:
    """Put a product on sale: not taken down, a category, at least one active SKU with a price, and the shop can
    hand it over (a ship-from store for delivery, else a pickup store). PublishRefusedError lists what is missing."""
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
        pickup, ship_from = selectors_catalog.shop_store_ids(
            shop=selectors_catalog.merchant_shop_get(mall_group_id=mall_group_id, merchant_id=merchant_id)
        )
        prices = list(Sku.objects.filter(product=product, is_active=True).values_list("price_fen", flat=True))
        problems = rules_catalog.publish_problems(
            is_blocked=product.is_blocked,
            active_prices=prices,
            has_category=product.category_id is not None,
            allow_delivery=product.allow_delivery,
            ships=ship_from is not None,
            picks=bool(pickup),
        )
        if problems:
            raise exceptions.PublishRefusedError(extra={"problems": problems})
        return _set_status(product, ProductStatus.ON_SALE, actor=actor, action="online_mall.product_publish")


def online_product_unpublish(*, mall_group_id: int, merchant_id: int, product_id: int, actor: Actor) -> Product:
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=merchant_id)
        return _set_status(product, ProductStatus.OFF_SALE, actor=actor, action="online_mall.product_unpublish")


def _set_status(product: Product, status: str, *, actor: Actor, action: str) -> Product:
    before = product.status
    product.status = status
    product.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        target_type="online_product",
        target_id=product.pk,
        target_label=product.title,
        mall_group_id=product.mall_group_id,
        changes={"status": [before, status]},
    )
    return product


def online_product_block(*, mall_group_id: int, product_id: int, reason: str, actor: Actor) -> Product:
    """The mall takes a product down (console): hidden from members whatever its status, the reason shown to the
    merchant, who cannot publish it again until the mall lifts the takedown. Orders already placed go on."""
    reason = reason.strip()
    if not reason or len(reason) > rules_catalog.REASON_MAX:
        message = _("Give the merchant a reason (at most %(n)s characters).") % {"n": rules_catalog.REASON_MAX}
        raise exceptions.ProductInvalidError(message, code="commerce.reason_required", fields={"reason": message})
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=None)
        before = [product.is_blocked, product.blocked_reason]
        product.is_blocked, product.blocked_reason = True, reason
        product.save(update_fields=["is_blocked", "blocked_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="online_mall.product_block",
            target_type="online_product",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={"blocked": [before[0], True], "reason": [before[1], reason]},
        )
        return product


def online_product_unblock(*, mall_group_id: int, product_id: int, actor: Actor) -> Product:
    with transaction.atomic(durable=True):
        product = _locked_product(mall_group_id=mall_group_id, product_id=product_id, merchant_id=None)
        before = product.blocked_reason
        product.is_blocked, product.blocked_reason = False, ""
        product.save(update_fields=["is_blocked", "blocked_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="online_mall.product_unblock",
            target_type="online_product",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={"reason": [before, ""]},
        )
        return product


# ------------------------------------------------------------------------------------------------- shelves


def shelf_save(*, mall_group_id: int, shelf_id: int | None, data: ShelfIn, actor: Actor) -> Shelf:
    title = data.title.strip()
    errors: dict[str, str] = {}
    if not title or len(title) > rules_catalog.SHELF_TITLE_MAX:
        errors["title"] = _("Enter a title of at most %(n)s characters.") % {"n": rules_catalog.SHELF_TITLE_MAX}
    if data.placement not in ShelfPlacement.values:
        errors["placement"] = _("Choose where the shelf is shown.")
    category_id = data.category_id if data.placement == ShelfPlacement.CATEGORY else None
    if data.placement == ShelfPlacement.CATEGORY and (
        category_id is None
        or selectors_catalog.online_category_get(mall_group_id=mall_group_id, category_id=category_id) is None
    ):
        errors["category"] = _("Choose the category page the shelf is shown on.")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if errors:
        raise exceptions.ShelfInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if shelf_id is None:
            shelf = Shelf(mall_group_id=mall_group_id)
        else:
            found = selectors_catalog.shelf_get(mall_group_id=mall_group_id, shelf_id=shelf_id)
            if found is None:
                raise exceptions.ProductNotFoundError(code="commerce.shelf_not_found")
            shelf = lock_one(Shelf.objects.filter(pk=found.pk))
        shelf.title, shelf.placement, shelf.category_id = title, data.placement, category_id
        shelf.sort_order, shelf.starts_at, shelf.ends_at = data.sort_order, data.starts_at, data.ends_at
        shelf.is_active = data.is_active
        shelf.save()
        audit_record(
            actor=actor,
            action="online_mall.shelf_save",
            target_type="online_shelf",
            target_id=shelf.pk,
            target_label=shelf.title,
            mall_group_id=mall_group_id,
            changes={"placement": shelf.placement, "category": category_id, "shown": shelf.is_active},
        )
        return shelf


def shelf_items_set(*, mall_group_id: int, shelf_id: int, product_ids: Sequence[int], actor: Actor) -> list[int]:
    """The shelf's products in this order (online products of the group, each once, at most 50)."""
    ids = list(dict.fromkeys(product_ids))
    if len(ids) > rules_catalog.SHELF_MAX_ITEMS:
        message = _("A shelf holds at most %(n)s products.") % {"n": rules_catalog.SHELF_MAX_ITEMS}
        raise exceptions.ShelfInvalidError(message, fields={"products": message})
    known = set(
        Product.objects.filter(mall_group_id=mall_group_id, shop=ONLINE, pk__in=ids).values_list("pk", flat=True)
    )
    if len(known) != len(ids):
        message = _("Choose products of this online mall.")
        raise exceptions.ShelfInvalidError(message, fields={"products": message})
    with transaction.atomic(durable=True):
        found = selectors_catalog.shelf_get(mall_group_id=mall_group_id, shelf_id=shelf_id)
        if found is None:
            raise exceptions.ProductNotFoundError(code="commerce.shelf_not_found")
        shelf = lock_one(Shelf.objects.filter(pk=found.pk))
        before = selectors_catalog.shelf_product_ids(shelf_id=shelf.pk)
        ShelfItem.objects.filter(shelf=shelf).delete()
        ShelfItem.objects.bulk_create([ShelfItem(shelf=shelf, product_id=p, sort_order=i) for i, p in enumerate(ids)])
        audit_record(
            actor=actor,
            action="online_mall.shelf_items",
            target_type="online_shelf",
            target_id=shelf.pk,
            target_label=shelf.title,
            mall_group_id=mall_group_id,
            changes={"products": [before, ids]},
        )
        return ids


# ------------------------------------------------------------------------------------------------- stock


def _stock_target(*, mall_group_id: int, merchant_id: int | None, sku_id: int, store_id: int) -> Sku:
    sku = selectors_catalog.merchant_sku_get(mall_group_id=mall_group_id, merchant_id=merchant_id, sku_id=sku_id)
    if sku is None:
        raise exceptions.ProductNotFoundError()
    if not _merchant_store(
        mall_group_id=mall_group_id, merchant_id=int(sku.product.merchant_id or 0), store_id=store_id
    ):
        message = _("Choose an open store of this merchant.")
        raise exceptions.StockInvalidError(message, fields={"store": message})
    return sku


def _stock_refused(row: SkuStock) -> exceptions.StockInvalidError:
    message = _("%(allocated)s of the %(on_hand)s on hand are promised to orders: the count cannot go below that.") % {
        "allocated": row.allocated,
        "on_hand": row.on_hand,
    }
    return exceptions.StockInvalidError(message, fields={"on_hand": message})


def sku_stock_set(
    *, mall_group_id: int, merchant_id: int | None, sku_id: int, store_id: int, on_hand: int, reason: str, actor: Actor
) -> SkuStock:
    """A stock count: `on_hand` of a SKU at a store becomes `on_hand` (the row is created on first count). One
    conditional UPDATE: refused when below what is allocated to orders at that moment."""
    problem = rules_catalog.stock_count_problem(on_hand)
    reason = reason.strip()[:100]
    if problem:
        raise exceptions.StockInvalidError(problem, fields={"on_hand": problem})
    sku = _stock_target(mall_group_id=mall_group_id, merchant_id=merchant_id, sku_id=sku_id, store_id=store_id)
    with transaction.atomic(durable=True):
        row, _created = SkuStock.objects.get_or_create(sku_id=sku.pk, store_id=store_id)
        before = SkuStock.objects.filter(pk=row.pk).values_list("on_hand", flat=True).get()
        if not SkuStock.objects.filter(pk=row.pk, allocated__lte=on_hand).update(on_hand=on_hand):
            row.refresh_from_db()
            raise _stock_refused(row)
        row.refresh_from_db()
        _audit_stock(
            sku,
            row,
            action="online_mall.stock_set",
            changes={"on_hand": [before, row.on_hand], "reason": reason},
            actor=actor,
        )
        return row


def sku_stock_adjust(
    *, mall_group_id: int, merchant_id: int | None, sku_id: int, store_id: int, delta: int, reason: str, actor: Actor
) -> SkuStock:
    """Goods received (+) or damaged / counted short (−): `on_hand + delta`, never below what is allocated nor
    above 1,000,000 (one conditional UPDATE; docs/design/online-mall.md §4 "staff count")."""
    reason = reason.strip()[:100]
    if delta == 0 or not reason or abs(delta) > rules_catalog.MAX_STOCK:
        message = _("Enter a change other than 0 and a reason.")
        raise exceptions.StockInvalidError(message, fields={"delta": message})
    sku = _stock_target(mall_group_id=mall_group_id, merchant_id=merchant_id, sku_id=sku_id, store_id=store_id)
    with transaction.atomic(durable=True):
        row, _created = SkuStock.objects.get_or_create(sku_id=sku.pk, store_id=store_id)
        changed = SkuStock.objects.filter(
            pk=row.pk, allocated__lte=F("on_hand") + delta, on_hand__lte=rules_catalog.MAX_STOCK - delta
        ).update(on_hand=F("on_hand") + delta)
        row.refresh_from_db()
        if not changed:
            raise _stock_refused(row)
        changes = {"delta": delta, "on_hand": [row.on_hand - delta, row.on_hand], "reason": reason}
        _audit_stock(sku, row, action="online_mall.stock_adjust", changes=changes, actor=actor)
        return row


def _audit_stock(sku: Sku, row: SkuStock, *, action: str, changes: dict[str, object], actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type="online_sku",
        target_id=sku.pk,
        target_label=f"{sku.product.title} {sku.name}".strip(),
        mall_group_id=sku.product.mall_group_id,
        changes=changes | {"store": row.store_id, "allocated": row.allocated},
    )
