from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "galleria.points"
    label = "points"
