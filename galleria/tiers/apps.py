from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "galleria.tiers"
    label = "tiers"
