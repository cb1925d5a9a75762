"""Console URLs: member services — the desk screen, rentals, the report, item types, desks and stock, services
with their hours, bookings (docs/amenities.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import amenities as v
from .views import amenities_config as c

urlpatterns: list[URLPattern] = [
    path("amenities/", v.rentals, name="amenities"),
    path("amenities/desk/", v.desk_pick, name="amenities_desk"),
    path("amenities/desk/<int:desk_id>/", v.desk_screen, name="amenities_desk_screen"),
    path("amenities/report/", v.report, name="amenities_report"),
    path("amenities/bookings/", v.bookings, name="amenities_bookings"),
    path("amenities/bookings/<int:booking_id>/decide/", v.booking_decide, name="amenities_booking_decide"),
    path("amenities/items/", c.items, name="amenities_items"),
    path("amenities/stock/", c.stock, name="amenities_stock"),
    path("amenities/services/", c.offerings, name="amenities_offerings"),
    path("amenities/services/<int:offering_id>/", c.offering, name="amenities_offering"),
]
