from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "galleria.parking"
    label = "parking"
