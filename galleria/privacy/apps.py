from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "galleria.privacy"
    label = "privacy"
