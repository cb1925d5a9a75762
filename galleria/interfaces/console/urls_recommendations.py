"""Console URLs: recommendations — the model, its offline scores, the block switches, train now, and what is
recommended to a member and why (docs/recommendations.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import recommendations as v

urlpatterns: list[URLPattern] = [
    path("recommendations/", v.overview, name="recommendations"),
    path("recommendations/switches/", v.switches_save, name="recommendations_switches"),
    path("recommendations/train/", v.train, name="recommendations_train"),
]
