"""Member app URLs: the points mall (积分商城) — the shop, an item, the exchange, the gateway's return page, my
exchanges and one order, cancelling it, item pictures (docs/points-mall.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import points_mall_views as v

urlpatterns: list[URLPattern] = [
    path("points-mall/", v.points_mall, name="points_mall"),
    path("points-mall/items/<int:product_id>/", v.points_mall_item, name="points_mall_item"),
    path("points-mall/items/<int:product_id>/exchange/", v.points_mall_exchange, name="points_mall_exchange"),
    path("points-mall/payment/<str:key>/", v.points_mall_payment, name="points_mall_payment"),
    path("points-mall/payment/<str:key>/state/", v.points_mall_payment_state, name="points_mall_payment_state"),
    path("points-mall/orders/", v.points_mall_orders, name="points_mall_orders"),
    path("points-mall/orders/<int:order_id>/", v.points_mall_order, name="points_mall_order"),
    path("points-mall/orders/<int:order_id>/cancel/", v.points_mall_order_cancel, name="points_mall_order_cancel"),
    path("points-mall/images/<int:product_id>/<str:sha>/", v.points_mall_image, name="points_mall_image"),
]
