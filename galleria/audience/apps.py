from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "galleria.audience"
    label = "audience"
