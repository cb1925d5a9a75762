"""Console URLs: games — the list and editor, a game's prizes and odds, publish and end, the draw log, the gift
desk and the check-in streak rewards (docs/games.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import games as v

urlpatterns: list[URLPattern] = [
    path("games/", v.games, name="games"),
    path("games/new/", v.game_new, name="game_new"),
    path("games/desk/", v.desk, name="games_desk"),
    path("games/streaks/", v.streaks, name="games_streaks"),
    path("games/streaks/save/", v.streaks_save, name="games_streaks_save"),
    path("games/<int:game_id>/", v.game_detail, name="game"),
    path("games/<int:game_id>/edit/", v.game_edit, name="game_edit"),
    path("games/<int:game_id>/prizes/", v.prize_add, name="game_prize_add"),
    path("games/<int:game_id>/prizes/<int:prize_id>/delete/", v.prize_delete, name="game_prize_delete"),
    path("games/<int:game_id>/publish/", v.game_publish, name="game_publish"),
    path("games/<int:game_id>/end/", v.game_end, name="game_end"),
    path("games/<int:game_id>/draws/", v.game_draws, name="game_draws"),
]
