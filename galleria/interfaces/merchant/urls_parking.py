"""Merchant portal URLs: parking granted to customers (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import parking

urlpatterns: list[URLPattern] = [
    path("parking/", parking.parking, name="parking"),
    path("parking/export/", parking.parking_export, name="parking_export"),
    path("parking/grants/<int:grant_id>/revoke/", parking.parking_revoke, name="parking_revoke"),
]
