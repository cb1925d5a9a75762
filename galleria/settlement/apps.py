from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "galleria.settlement"
    label = "settlement"
