from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "galleria.recommendations"
    label = "recommendations"
