"""Console URLs: 智慧商圈 (payment-linked points) — the transactions, one transaction, reporting it again, and the
web-authorisation settings (docs/payments-mall-points.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import mall_points

urlpatterns: list[URLPattern] = [
    path("payments/wechat-points/", mall_points.mall_points, name="mall_points"),
    path("payments/wechat-points/settings/", mall_points.mall_points_settings, name="mall_points_settings"),
    path("payments/wechat-points/<int:txn_id>/", mall_points.mall_point, name="mall_point"),
    path("payments/wechat-points/<int:txn_id>/report/", mall_points.mall_point_resync, name="mall_point_resync"),
]
