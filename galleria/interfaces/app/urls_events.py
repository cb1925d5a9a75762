"""Member app URLs: events (活动) — upcoming events, an event and registering, my tickets, a ticket with its QR,
confirming an offered seat, cancelling, posters (docs/events.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import event_views as v

urlpatterns: list[URLPattern] = [
    path("events/", v.events, name="events"),
    path("events/<int:event_id>/", v.event_detail, name="event"),
    path("events/tickets/", v.tickets, name="event_tickets"),
    path("events/tickets/<int:registration_id>/", v.ticket, name="event_ticket"),
    path("events/tickets/<int:registration_id>/cancel/", v.ticket_cancel, name="event_ticket_cancel"),
    path("events/tickets/<int:registration_id>/confirm/", v.ticket_confirm, name="event_ticket_confirm"),
    path("events/tickets/<int:registration_id>/pay/", v.ticket_pay, name="event_ticket_pay"),
    path("events/payments/<str:key>/", v.event_payment, name="event_payment"),
    path("events/payments/<str:key>/state/", v.event_payment_state, name="event_payment_state"),
    path("events/posters/<int:event_id>/<str:sha>/", v.event_poster, name="event_poster"),
]
