from django.apps import AppConfig


class ApiauthConfig(AppConfig):
    name = "galleria.apiauth"
    label = "apiauth"
