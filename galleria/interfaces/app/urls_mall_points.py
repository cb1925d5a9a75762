"""Member app URLs: WeChat Pay points (智慧商圈积分) — the page, linking WeChat (web authorisation) and its return."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import mall_points_views

urlpatterns: list[URLPattern] = [
    path("wechat-points/", mall_points_views.mall_points, name="mall_points"),
    path("wechat-points/link/", mall_points_views.mall_points_link, name="mall_points_link"),
    path("wechat-points/return/", mall_points_views.mall_points_return, name="mall_points_return"),
]
