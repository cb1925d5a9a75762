"""Races on PostgreSQL with real threads (each its own connection).

100 plays against a game whose top prize has 3 in stock and nearly all the weight: 25 threads released together,
each playing 4 times for 4 different members (so 25 plays are in flight at any moment; 100 threads would exceed the
shared server's connection limit). At most 3 are won (the CHECK and the conditional UPDATE), every other play that
drew it says sold out, and the log verifies. One key tapped at once plays once and charges once."""

from __future__ import annotations

import pytest

from galleria.games import selectors
from galleria.games.models import Draw, Prize
from galleria.games.types import PrizeIn
from galleria.points.selectors import points_balance
from galleria.testing import run_parallel

from .helpers import game, member, play

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_hundred_concurrent_plays_win_at_most_three_top_prizes(world):
    g = game(
        world,
        [
            PrizeIn(kind="gift", name="iPhone", weight=1_000_000, inventory=3),
            PrizeIn(kind="thanks", name="谢谢参与", weight=1, inventory=None),
        ],
    )
    members = [member(world) for _ in range(100)]
    results = run_parallel(25, lambda i: [play(world, members[i * 4 + k], g) for k in range(4)])
    flat = [r for batch in results for r in batch]
    assert len(flat) == 100
    top = Prize.objects.get(game=g, name="iPhone")
    won = [r for r in flat if r.prize_id == top.pk]
    assert len(won) == top.won == 3
    assert Draw.objects.filter(game=g, prize=top).count() == 3
    assert len({r.pickup_code for r in won}) == 3
    sold_out = [r for r in flat if r.sold_out]
    assert all(r.drawn_prize_id == top.pk for r in sold_out)
    assert selectors.verify(game=g).problems == ()


def test_one_key_tapped_ten_times_at_once_plays_once(world):
    g = game(world, [PrizeIn(kind="thanks", name="谢谢", weight=1, inventory=None)], free_per_day=0)
    m = member(world, points=100)
    ids = run_parallel(10, lambda i: play(world, m, g, key="same-tap").draw_id)
    assert len(set(ids)) == 1
    assert Draw.objects.filter(game=g).count() == 1
    assert points_balance(member_id=m.pk) == 90
