from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "galleria.parking"
    label = "parking"

    def ready(self) -> None:
        # paying a stay at WeChat Pay / Alipay: payments calls this when the money arrives (it cannot import parking)
        from galleria.payments.services.fulfilment import register
        from galleria.payments.types import Purpose

        from .services_gateway import parking_fulfil

        register(Purpose.PARKING, parking_fulfil)
