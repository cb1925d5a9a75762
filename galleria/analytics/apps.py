from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "galleria.analytics"
    label = "analytics"
