"""Console URLs: plates verified once — members' vehicle licence photos and the desk check (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import parking_plates

urlpatterns: list[URLPattern] = [
    path("parking/plates/", parking_plates.plate_claims, name="parking_plate_claims"),
    path("parking/plates/<int:claim_id>/", parking_plates.plate_claim_review, name="parking_plate_claim"),
    path("parking/plates/<int:claim_id>/photo/", parking_plates.plate_claim_photo, name="parking_plate_claim_photo"),
    path("members/<int:member_id>/plates/verify/", parking_plates.member_plate_verify, name="member_plate_verify"),
]
