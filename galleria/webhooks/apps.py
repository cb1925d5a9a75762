from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "galleria.webhooks"
    label = "webhooks"
