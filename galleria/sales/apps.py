from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "galleria.sales"
    label = "sales"
