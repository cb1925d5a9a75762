"""The demo's games: a published wheel and a blind box with plays that verify, and the streak rule configured."""

from __future__ import annotations

import pytest

from galleria.demo.games import seed_games
from galleria.games import selectors
from galleria.games.models import CheckInDay, Draw, Game
from galleria.games.tests.helpers import member

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_two_published_games_with_plays_and_streak_rewards(world):
    for _ in range(12):
        member(world)
    result = seed_games(mall_group_id=world.group.pk, seed=7)
    games = list(Game.objects.filter(mall_group=world.group, status="published"))
    assert {g.kind for g in games} == {"wheel", "blind_box"} and result.games == 2
    assert result.plays == Draw.objects.filter(game__in=games).count() > 10
    for g in games:
        assert selectors.verify(game=g).problems == ()
    rule = selectors.streak_rule(mall_group_id=world.group.pk)
    assert rule is not None and rule.reward_7_points == 50 and rule.makeup_enabled
    assert CheckInDay.objects.count() == 5
