from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "galleria.games"
    label = "games"
