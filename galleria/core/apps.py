from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "galleria.core"
    label = "core"
