"""Console URLs of the dashboards (docs/analytics.md)."""

from django.urls import path

from .views import analytics

urlpatterns = [
    path("analytics/sales/", analytics.sales, name="analytics_sales"),
]
