from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "galleria.events"
    label = "events"

    def ready(self) -> None:
        # money-priced events: payments calls this when the gateway's money for a held seat arrives (it cannot
        # import events, which sits above it)
        from galleria.payments.services.fulfilment import register
        from galleria.payments.types import Purpose

        from .services_gateway import event_fulfil

        register(Purpose.EVENT, event_fulfil)
