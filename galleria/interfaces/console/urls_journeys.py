"""Console URLs: journeys — the list, the editor, a journey's flow and statistics, publishing, pausing, resuming and
stopping (docs/marketing.md, "Journeys")."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import journeys as v

urlpatterns: list[URLPattern] = [
    path("journeys/", v.journeys, name="journeys"),
    path("journeys/new/", v.journey_new, name="journey_new"),
    path("journeys/<int:journey_id>/", v.journey_detail, name="journey"),
    path("journeys/<int:journey_id>/edit/", v.journey_edit, name="journey_edit"),
    path("journeys/<int:journey_id>/publish/", v.journey_publish, name="journey_publish"),
    path("journeys/<int:journey_id>/pause/", v.journey_pause, name="journey_pause"),
    path("journeys/<int:journey_id>/resume/", v.journey_resume, name="journey_resume"),
    path("journeys/<int:journey_id>/stop/", v.journey_stop, name="journey_stop"),
]
