"""Member app URLs: games (营销游戏) — the games, a game and playing it, my prizes with the pickup code, the check-in
calendar with the streak and make-up check-ins (docs/games.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import game_views as v

urlpatterns: list[URLPattern] = [
    path("games/", v.games, name="games"),
    path("games/<int:game_id>/", v.game_detail, name="game"),
    path("games/<int:game_id>/play/", v.game_play, name="game_play"),
    path("games/prizes/", v.prizes, name="game_prizes"),
    path("games/prizes/<int:draw_id>/", v.prize, name="game_prize"),
    path("points/checkin/calendar/", v.checkin_calendar, name="checkin_calendar"),
]
