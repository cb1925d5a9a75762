"""Console URLs: events — the list and editor, an event's registrations and waiting list, the check-in desk,
attendance and the no-show rule (docs/events.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import events as v

urlpatterns: list[URLPattern] = [
    path("events/", v.events, name="events"),
    path("events/new/", v.event_new, name="event_new"),
    path("events/<int:event_id>/", v.event_detail, name="event"),
    path("events/<int:event_id>/edit/", v.event_edit, name="event_edit"),
    path(
        "events/<int:event_id>/registrations/<int:registration_id>/cancel/",
        v.registration_cancel,
        name="event_registration_cancel",
    ),
    path("events/<int:event_id>/questions/", v.question_add, name="event_questions"),
    path(
        "events/<int:event_id>/questions/<int:question_id>/delete/",
        v.question_delete,
        name="event_question_delete",
    ),
    path("events/check-in/", v.check_in, name="events_check_in"),
    path("events/attendance/", v.attendance, name="events_attendance"),
    path("events/policy/", v.policy, name="events_policy"),
]
