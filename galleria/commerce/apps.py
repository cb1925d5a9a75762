from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "galleria.commerce"
    label = "commerce"

    def ready(self) -> None:
        # paying the cash part of an exchange at WeChat Pay / Alipay: payments calls this when the money arrives
        # (it cannot import commerce, which sits above it)
        from galleria.payments.services.fulfilment import register
        from galleria.payments.types import Purpose

        from .services_gateway import exchange_fulfil
        from .services_online_gateway import online_fulfil

        register(Purpose.EXCHANGE, exchange_fulfil)
        register(Purpose.ONLINE, online_fulfil)  # an online checkout's one gateway payment
