"""Online-mall catalogue test data: an open online mall, 喜茶's shop (pickup at its 星河广场 store, shipping from
it), a category tree and a product with options sold at that store."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from galleria.commerce import services_catalog as catalog
from galleria.commerce.models import Category, Product
from galleria.commerce.types import OnlineProductIn, OnlineSettingsIn, OptionIn, ShopIn, SkuIn

from .helpers import ACTOR


def open_online_mall(world: Any, *, merchant: Any = None, store: Any = None) -> Any:
    merchant = merchant or world.merchant
    store = store or world.store
    catalog.online_settings_save(mall_group_id=world.group.pk, data=OnlineSettingsIn(is_open=True), actor=ACTOR)
    return catalog.merchant_shop_save(
        mall_group_id=world.group.pk,
        merchant_id=merchant.pk,
        data=ShopIn(is_open=True, ship_from_store_id=store.pk, pickup_store_ids=(store.pk,), service_phone="0755-1"),
        actor=ACTOR,
    )


def categories(world: Any) -> tuple[Category, Category]:
    top = catalog.online_category_save(
        mall_group_id=world.group.pk,
        category_id=None,
        name="饮品",
        parent_id=None,
        sort_order=0,
        is_active=True,
        actor=ACTOR,
    )
    child = catalog.online_category_save(
        mall_group_id=world.group.pk,
        category_id=None,
        name="奶茶",
        parent_id=top.pk,
        sort_order=0,
        is_active=True,
        actor=ACTOR,
    )
    return top, child


def product(
    world: Any,
    *,
    title: str = "芝士奶茶",
    category: Category | None = None,
    merchant: Any = None,
    publish: bool = True,
    **values: Any,
) -> Product:
    merchant = merchant or world.merchant
    p = catalog.online_product_save(
        mall_group_id=world.group.pk,
        merchant_id=merchant.pk,
        product_id=None,
        data=OnlineProductIn(title=title, category_id=category.pk if category else None, **values),
        actor=ACTOR,
    )
    catalog.online_product_options_save(
        mall_group_id=world.group.pk,
        merchant_id=merchant.pk,
        product_id=p.pk,
        options=[OptionIn("杯型", ("中杯", "大杯"))],
        skus=[SkuIn({"杯型": "中杯"}, 2800), SkuIn({"杯型": "大杯"}, 3200, 3600)],
        actor=ACTOR,
    )
    if publish:
        catalog.online_product_publish(
            mall_group_id=world.group.pk, merchant_id=merchant.pk, product_id=p.pk, actor=ACTOR
        )
    p.refresh_from_db()
    return p


def picture(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="PNG")
    return out.getvalue()
