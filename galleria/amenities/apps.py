from django.apps import AppConfig


class AmenitiesConfig(AppConfig):
    name = "galleria.amenities"
    label = "amenities"
