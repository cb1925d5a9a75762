from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "galleria.events"
    label = "events"
