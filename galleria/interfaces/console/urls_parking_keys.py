"""Console URLs: the car-park system's API keys (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
