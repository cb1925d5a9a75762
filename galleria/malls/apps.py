from django.apps import AppConfig


class MallsConfig(AppConfig):
    name = "galleria.malls"
    label = "malls"
