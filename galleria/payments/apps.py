from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "galleria.payments"
    label = "payments"
