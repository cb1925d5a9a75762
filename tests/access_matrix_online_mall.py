"""Access matrix entries of the online mall's catalogue screens (merged into tests/access_matrix.MATRIX): the merchant
portal's shop (settings, products, options, pictures, on/off sale, stock), the console's settings, categories,
shelves and products with the takedown, and the member app's mall (home, search, category, product, pictures).

The objects are 喜茶's (merchant A of the 星河 group) and made with the ORM on first use, so building a URL leaves no
audit trace: an open online mall, an open shop, a category, a product on sale with one SKU and one picture, a shelf.
优衣库's owner gets a 404 for them, the 海岸城 admin too."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, app, console, page, portal, public, r
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # online_mall.view
MANAGERS = {"admin", "marketing", ROOT}  # online_mall.manage
OWNERS = {"owner"}  # portal.products, portal.shop_settings (managers too; not in the evidence world)
STOCK = {"owner", "clerk"}  # portal.stock


def _category(ew: EvidenceWorld) -> Any:
    from galleria.commerce.models import Category

    category, _created = Category.objects.get_or_create(
        mall_group=ew.world.group, shop="online", name="证据饮品", defaults={"sort_order": 0}
    )
    return category


def _product(ew: EvidenceWorld) -> Any:
    from galleria.commerce.models import MerchantShop, OnlineSettings, Product, Sku

    OnlineSettings.objects.update_or_create(mall_group=ew.world.group, defaults={"is_open": True})
    MerchantShop.objects.get_or_create(
        merchant=ew.world.merchant,
        defaults={"mall_group": ew.world.group, "is_open": True, "ship_from_store": ew.world.store},
    )
    product, created = Product.objects.get_or_create(
        mall_group=ew.world.group,
        shop="online",
        title="证据芝士奶茶",
        defaults={
            "merchant": ew.world.merchant,
            "kind": "gift",
            "status": "on_sale",
            "category": _category(ew),
            "allow_delivery": True,
            "search_text": "证据芝士奶茶",
            "min_price_fen": 1900,
            "max_price_fen": 1900,
        },
    )
    if created:
        Sku.objects.create(product=product, code=f"ONEV{product.pk}", price_fen=1900, option_key="", options={})
    return product


def product_id(ew: EvidenceWorld) -> int:
    return int(_product(ew).pk)


def sku_id(ew: EvidenceWorld) -> int:
    return int(_product(ew).skus.order_by("pk").first().pk)


def category_id(ew: EvidenceWorld) -> int:
    return int(_category(ew).pk)


def shelf_id(ew: EvidenceWorld) -> int:
    from galleria.commerce.models import Shelf

    shelf, _created = Shelf.objects.get_or_create(mall_group=ew.world.group, title="证据货架", placement="home")
    return int(shelf.pk)


def _jpeg() -> tuple[bytes, str]:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (138, 28, 63)).save(out, format="JPEG")
    data = out.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def _image_url(ew: EvidenceWorld) -> str:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.urls import reverse

    from galleria.commerce.models import ProductImage

    product = _product(ew)
    image = ProductImage.objects.filter(product=product, position=0).first()
    if image is None:
        data, sha = _jpeg()
        name = default_storage.save(f"commerce/online/evidence/{sha}.jpg", ContentFile(data))
        image = ProductImage.objects.create(product=product, position=0, image_name=name, image_sha=sha)
    return reverse("app:mall_image", args=[product.pk, image.image_sha])


def _icon_url(ew: EvidenceWorld) -> str:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.urls import reverse

    category = _category(ew)
    if not category.icon_sha:
        data, sha = _jpeg()
        category.icon_name = default_storage.save(f"commerce/online/evidence/icon-{sha}.jpg", ContentFile(data))
        category.icon_sha = sha
        category.save(update_fields=["icon_name", "icon_sha"])
    return reverse("app:mall_icon", args=[category.pk, category.icon_sha])


def _search_url(ew: EvidenceWorld) -> str:
    from django.urls import reverse

    _product(ew)
    return reverse("app:mall_search") + "?q=%E5%A5%B6%E8%8C%B6"  # 奶茶


def _position(ew: EvidenceWorld) -> int:
    return 0


MATRIX_ONLINE_MALL: dict[str, Entry] = {
    # merchant portal (objects of 喜茶)
    "merchant:shop_settings": page(portal(OWNERS), note="POST without data: a closed shop with no store, saved")(
        r("merchant:shop_settings")
    ),
    "merchant:shop_products": page(portal(OWNERS))(r("merchant:shop_products")),
    "merchant:shop_product_new": page(portal(OWNERS), note="POST without data: 400 with the fields marked")(
        r("merchant:shop_product_new")
    ),
    "merchant:shop_product": page(portal(OWNERS, scoped=True), note="POST without data: 400")(
        r("merchant:shop_product", product_id)
    ),
    "merchant:shop_product_options": page(portal(OWNERS, scoped=True), note="POST without data: 400")(
        r("merchant:shop_product_options", product_id)
    ),
    "merchant:shop_product_image_add": action(portal(OWNERS, scoped=True), note="without a file: 400")(
        r("merchant:shop_product_image_add", product_id)
    ),
    "merchant:shop_product_image_remove": action(portal(OWNERS, scoped=True))(
        r("merchant:shop_product_image_remove", product_id, _position)
    ),
    "merchant:shop_product_status": action(portal(OWNERS, scoped=True), note="without an action: nothing changes")(
        r("merchant:shop_product_status", product_id)
    ),
    "merchant:shop_stock": page(portal(STOCK))(r("merchant:shop_stock")),
    "merchant:shop_stock_change": action(portal(STOCK, scoped=True), note="without data: 400, nothing changes")(
        r("merchant:shop_stock_change", sku_id)
    ),
    # console
    "console:online_settings": page(console(VIEWERS), post=console(MANAGERS), note="POST without data: 400")(
        r("console:online_settings")
    ),
    "console:online_categories": page(console(VIEWERS), post=console(MANAGERS), note="POST without data: 400")(
        r("console:online_categories")
    ),
    "console:online_category": page(
        console(VIEWERS, scoped=True), post=console(MANAGERS, scoped=True), note="POST without data: 400"
    )(r("console:online_category", category_id)),
    "console:online_shelves": page(console(VIEWERS), post=console(MANAGERS), note="POST without data: 400")(
        r("console:online_shelves")
    ),
    "console:online_shelf": page(
        console(VIEWERS, scoped=True), post=console(MANAGERS, scoped=True), note="POST without data: 400"
    )(r("console:online_shelf", shelf_id)),
    "console:online_products": page(console(VIEWERS))(r("console:online_products")),
    "console:online_product": page(
        console(VIEWERS, scoped=True), post=console(MANAGERS, scoped=True), note="POST without an action: 400"
    )(r("console:online_product", product_id)),
    # member app
    "app:mall": page(app(), post=GET_ONLY)(r("app:mall")),
    "app:mall_search": page(app(), post=GET_ONLY)(_search_url),
    "app:mall_category": page(app(), post=GET_ONLY)(r("app:mall_category", category_id)),
    "app:mall_product": page(app(), post=GET_ONLY)(r("app:mall_product", product_id)),
    "app:mall_image": page(public(), post=GET_ONLY, note="product pictures are public, addressed by digest")(
        _image_url
    ),
    "app:mall_icon": page(public(), post=GET_ONLY, note="category icons are public, addressed by digest")(_icon_url),
}
