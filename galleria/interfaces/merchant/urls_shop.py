"""Merchant portal URLs: the shop in the online mall — settings, products (editor, options → SKUs, pictures, on/off
sale) and stock per store (docs/design/online-mall.md §9)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import shop_catalog as v

urlpatterns: list[URLPattern] = [
    path("shop/settings/", v.shop_settings, name="shop_settings"),
    path("shop/products/", v.products, name="shop_products"),
    path("shop/products/new/", v.product_new, name="shop_product_new"),
    path("shop/products/<int:product_id>/", v.product_edit, name="shop_product"),
    path("shop/products/<int:product_id>/options/", v.product_options, name="shop_product_options"),
    path("shop/products/<int:product_id>/images/", v.product_image_add, name="shop_product_image_add"),
    path(
        "shop/products/<int:product_id>/images/<int:position>/remove/",
        v.product_image_remove,
        name="shop_product_image_remove",
    ),
    path("shop/products/<int:product_id>/status/", v.product_status, name="shop_product_status"),
    path("shop/stock/", v.stock, name="shop_stock"),
    path("shop/stock/<int:sku_id>/", v.stock_change, name="shop_stock_change"),
]
