from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "galleria.dedupe"
    label = "dedupe"
