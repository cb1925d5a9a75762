"""Member app URLs: "为你推荐" — recommendations and the personalisation switch (docs/recommendations.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import for_you_views as v

urlpatterns: list[URLPattern] = [
    path("for-you/", v.for_you, name="for_you"),
    path("for-you/switch/", v.for_you_switch, name="for_you_switch"),
]
