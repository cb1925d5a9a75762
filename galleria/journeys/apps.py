from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "galleria.journeys"
    label = "journeys"
