"""Member app URLs: the online mall (小程序商城) — its home, search, a category, a product, and the pictures
(docs/design/online-mall.md §9). The cart, checkout and orders come with the order screens."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import mall_views as v

urlpatterns: list[URLPattern] = [
    path("mall/", v.mall_home, name="mall"),
    path("mall/search/", v.mall_search, name="mall_search"),
    path("mall/c/<int:category_id>/", v.mall_category, name="mall_category"),
    path("mall/p/<int:product_id>/", v.mall_product, name="mall_product"),
    path("mall/images/<int:product_id>/<str:sha>/", v.mall_image, name="mall_image"),
    path("mall/icons/<int:category_id>/<str:sha>/", v.mall_icon, name="mall_icon"),
]
