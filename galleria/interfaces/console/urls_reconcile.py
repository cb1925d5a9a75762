"""Console URLs: reconciliation with the gateways' bills and WeChat Pay 分账 (docs/reconcile.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import reconcile

urlpatterns: list[URLPattern] = [
    path("reconcile/", reconcile.reconcile, name="reconcile"),
    path("reconcile/run/", reconcile.reconcile_run, name="reconcile_run"),
    path("reconcile/findings/<int:finding_id>/", reconcile.reconcile_finding, name="reconcile_finding"),
    path("reconcile/shares/", reconcile.profit_shares, name="profit_shares"),
    path("reconcile/shares/<int:order_id>/", reconcile.profit_share, name="profit_share"),
    path("reconcile/<str:provider>/<str:day>/", reconcile.reconcile_day, name="reconcile_day"),
]
