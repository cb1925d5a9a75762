"""Console URLs: the points mall — items, settings, orders, the desk's pickup verification, statistics
(docs/points-mall.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import points_mall, points_mall_orders

urlpatterns: list[URLPattern] = [
    path("points-mall/", points_mall.items, name="points_mall_items"),
    path("points-mall/items/new/", points_mall.item_new, name="points_mall_item_new"),
    path("points-mall/items/preview/", points_mall.item_preview, name="points_mall_item_preview"),
    path("points-mall/items/<int:product_id>/", points_mall.item_detail, name="points_mall_item"),
    path("points-mall/items/<int:product_id>/edit/", points_mall.item_edit, name="points_mall_item_edit"),
    path("points-mall/items/<int:product_id>/stock/", points_mall.item_stock, name="points_mall_item_stock"),
    path("points-mall/settings/", points_mall.shop_settings, name="points_mall_settings"),
    path("points-mall/orders/", points_mall_orders.orders, name="points_mall_orders"),
    path("points-mall/orders/<int:order_id>/", points_mall_orders.order_detail, name="points_mall_order"),
    path("points-mall/orders/<int:order_id>/cancel/", points_mall_orders.order_cancel, name="points_mall_order_cancel"),
    path("points-mall/orders/<int:order_id>/ship/", points_mall_orders.order_ship, name="points_mall_order_ship"),
    path("points-mall/pickup/", points_mall_orders.pickup, name="points_mall_pickup"),
    path("points-mall/stats/", points_mall_orders.stats, name="points_mall_stats"),
]
