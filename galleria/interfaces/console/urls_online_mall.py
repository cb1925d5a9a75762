"""Console URLs: the online mall's catalogue — settings, categories (with icons), shelves, products and the takedown
(docs/design/online-mall.md §9), and the online orders across merchants (views/online_orders.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import online_catalog as v
from .views import online_orders

urlpatterns: list[URLPattern] = [
    path("online-mall/settings/", v.online_settings, name="online_settings"),
    path("online-mall/categories/", v.online_categories, name="online_categories"),
    path("online-mall/categories/<int:category_id>/", v.online_category, name="online_category"),
    path("online-mall/shelves/", v.online_shelves, name="online_shelves"),
    path("online-mall/shelves/<int:shelf_id>/", v.online_shelf, name="online_shelf"),
    path("online-mall/products/", v.online_products, name="online_products"),
    path("online-mall/products/<int:product_id>/", v.online_product, name="online_product"),
    path("online-mall/orders/", online_orders.online_orders, name="online_orders"),
    path("online-mall/orders/<int:order_id>/", online_orders.online_order, name="online_order"),
]
