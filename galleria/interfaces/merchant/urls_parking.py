"""Merchant portal URLs: parking granted to customers (docs/parking.md)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
