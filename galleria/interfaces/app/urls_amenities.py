"""Member app URLs: member services (会员服务) — item rental at the desks, bookable services, my bookings
(docs/amenities.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import amenity_views as v

urlpatterns: list[URLPattern] = [
    path("services/", v.home, name="amenities"),
    path("services/<int:offering_id>/", v.offering, name="amenity_offering"),
    path("services/bookings/<int:booking_id>/cancel/", v.booking_cancel, name="amenity_booking_cancel"),
]
