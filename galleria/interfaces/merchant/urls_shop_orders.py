"""Merchant portal URLs: the shop's online orders — list, one order and its actions, pickup by code — and the
after-sales queue, the reviews and replies (docs/design/online-mall.md §9)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import shop_orders as v
from . import shop_orders_after_sales as rv
from . import shop_orders_reviews as reviews

urlpatterns: list[URLPattern] = [
    path("shop/orders/", v.order_list, name="shop_orders"),
    path("shop/orders/<int:order_id>/", v.order_page, name="shop_order"),
    path("shop/orders/<int:order_id>/action/", v.order_action, name="shop_order_action"),
    path("shop/pickup/", v.pickup, name="shop_pickup"),
    path("shop/after-sales/", rv.return_list, name="shop_returns"),
    path("shop/after-sales/<int:request_id>/", rv.return_page, name="shop_return"),
    path("shop/after-sales/<int:request_id>/action/", rv.return_action, name="shop_return_action"),
    path("shop/reviews/", reviews.review_list, name="shop_reviews"),
    path("shop/reviews/<int:review_id>/reply/", reviews.review_reply, name="shop_review_reply"),
]
