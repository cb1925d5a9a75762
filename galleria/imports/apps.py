from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "galleria.imports"
    label = "imports"
