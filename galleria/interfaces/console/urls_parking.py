"""Console URLs: parking — car parks, tariffs, stays, exceptions, reports (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
