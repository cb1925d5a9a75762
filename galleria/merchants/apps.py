from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "galleria.merchants"
    label = "merchants"
