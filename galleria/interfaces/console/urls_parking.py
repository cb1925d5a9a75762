"""Console URLs: parking — car parks, tariffs, stays, exceptions, reports (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import parking, parking_reports, parking_stays, parking_tariffs

urlpatterns: list[URLPattern] = [
    # car parks, zones, gates
    path("parking/", parking.car_parks, name="parking_car_parks"),
    path("parking/new/", parking.car_park_new, name="parking_car_park_new"),
    path("parking/<int:car_park_id>/", parking.car_park_detail, name="parking_car_park"),
    path("parking/<int:car_park_id>/edit/", parking.car_park_edit, name="parking_car_park_edit"),
    path("parking/<int:car_park_id>/zones/new/", parking.zone_new, name="parking_zone_new"),
    path("parking/<int:car_park_id>/zones/<int:zone_id>/edit/", parking.zone_edit, name="parking_zone_edit"),
    path("parking/<int:car_park_id>/zones/<int:zone_id>/remove/", parking.zone_remove, name="parking_zone_remove"),
    path("parking/<int:car_park_id>/gates/new/", parking.gate_new, name="parking_gate_new"),
    path("parking/<int:car_park_id>/gates/<int:gate_id>/edit/", parking.gate_edit, name="parking_gate_edit"),
    path("parking/<int:car_park_id>/gates/<int:gate_id>/remove/", parking.gate_remove, name="parking_gate_remove"),
    # tariffs
    path("parking/<int:car_park_id>/tariffs/", parking_tariffs.tariffs, name="parking_tariffs"),
    path("parking/<int:car_park_id>/tariffs/new/", parking_tariffs.tariff_new, name="parking_tariff_new"),
    path("parking/<int:car_park_id>/tariffs/<int:version_id>/", parking_tariffs.tariff_detail, name="parking_tariff"),
    path(
        "parking/<int:car_park_id>/tariffs/<int:version_id>/withdraw/",
        parking_tariffs.tariff_withdraw,
        name="parking_tariff_withdraw",
    ),
    # live occupancy, stays, exceptions
    path("parking/live/", parking_stays.live, name="parking_live"),
    path("parking/live/feed/", parking_stays.live_feed, name="parking_live_feed"),
    path("parking/stays/", parking_stays.stays, name="parking_stays"),
    path("parking/stays/<int:session_id>/", parking_stays.stay_detail, name="parking_stay"),
    path("parking/stays/<int:session_id>/close/", parking_stays.stay_close, name="parking_stay_close"),
    path("parking/stays/<int:session_id>/resolve/", parking_stays.stay_resolve, name="parking_stay_resolve"),
    path("parking/exceptions/", parking_stays.exceptions, name="parking_exceptions"),
    # reports
    path("parking/reports/", parking_reports.reports, name="parking_reports"),
]
