"""Member app URLs: my car, paying parking, history, frictionless exit (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
