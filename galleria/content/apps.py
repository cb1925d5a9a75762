from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "galleria.content"
    label = "content"
