"""Console URLs: what merchants may grant in parking, and the grants (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
