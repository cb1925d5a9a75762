from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "galleria.demo"
    label = "demo"
