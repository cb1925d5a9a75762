"""Member app URLs: my car, paying parking, history, frictionless exit, verifying plates (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import parking_plate_views, parking_views

urlpatterns: list[URLPattern] = [
    path("parking/", parking_views.parking, name="parking"),
    path("parking/<int:session_id>/pay/", parking_views.parking_pay, name="parking_pay"),
    path("parking/paid/<int:payment_id>/", parking_views.parking_paid, name="parking_paid"),
    path("parking/payment/<str:key>/", parking_views.parking_payment, name="parking_payment"),
    path("parking/payment/<str:key>/state/", parking_views.parking_payment_state, name="parking_payment_state"),
    path("parking/history/", parking_views.parking_history, name="parking_history"),
    path("parking/history/<int:session_id>/", parking_views.parking_stay, name="parking_stay"),
    path("parking/auto-pay/", parking_views.parking_auto_pay, name="parking_auto_pay"),
    path("parking/plates/", parking_plate_views.parking_plates, name="parking_plates"),
    path(
        "parking/plates/claims/<int:claim_id>/withdraw/",
        parking_plate_views.parking_plate_claim_withdraw,
        name="parking_plate_claim_withdraw",
    ),
]
