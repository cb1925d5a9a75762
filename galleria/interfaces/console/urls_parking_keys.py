"""Console URLs: the car-park system's API keys (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import parking_keys

urlpatterns: list[URLPattern] = [
    path("parking/keys/", parking_keys.parking_key_car_parks, name="parking_keys"),
    path("parking/<int:car_park_id>/keys/", parking_keys.parking_car_park_keys, name="parking_car_park_keys"),
    path(
        "parking/<int:car_park_id>/keys/<int:key_pk>/revoke/",
        parking_keys.parking_key_revoke,
        name="parking_key_revoke",
    ),
]
