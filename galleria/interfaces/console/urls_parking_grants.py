"""Console URLs: what merchants may grant in parking, and the grants (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import parking_grants

urlpatterns: list[URLPattern] = [
    path("parking/grants/", parking_grants.parking_grants, name="parking_grants"),
    path(
        "parking/grants/merchants/<int:merchant_id>/",
        parking_grants.parking_grant_allowance,
        name="parking_grant_allowance",
    ),
]
