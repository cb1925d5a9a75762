"""The verification snippet of docs/games.md, read from the file and run against real draws: what we tell members
to run really recomputes our draws."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from galleria.games import services
from galleria.games.models import Draw, Prize
from galleria.games.types import PrizeIn

from .helpers import ACTOR, game, member, play

pytestmark = pytest.mark.django_db


def _snippet() -> dict[str, Any]:
    text = (Path(settings.BASE_DIR) / "docs" / "games.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/games.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), "docs/games.md", "exec"), namespace)  # our own documentation
    return namespace


def test_the_documented_snippet_recomputes_every_real_draw(world):
    g = game(
        world,
        [
            PrizeIn(kind="points", name="8 积分", weight=25, inventory=None, points=8),
            PrizeIn(kind="gift", name="公仔", weight=5, inventory=2),
            PrizeIn(kind="thanks", name="谢谢参与", weight=70, inventory=None),
        ],
        free_per_day=10,
    )
    people = [member(world) for _ in range(3)]
    for m in people:
        for i in range(10):
            play(world, m, g, client_seed=f"lucky{i}" if i % 2 else "")
    services.game_end(mall_group_id=world.group.pk, game_id=g.pk, actor=ACTOR)
    g.refresh_from_db()
    snippet = _snippet()
    seed, published = g.commitment.server_seed, g.commitment.seed_hash
    assert snippet["check_seed"](seed, published)
    assert not snippet["check_seed"]("0" * 64, published)
    prizes = list(Prize.objects.filter(game=g, weight__gt=0).order_by("position", "pk"))
    weights = [p.weight for p in prizes]
    draws = list(Draw.objects.filter(game=g))
    assert len(draws) == 30
    for d in draws:
        number, index = snippet["recompute"](seed, g.pk, d.member_id, d.seq, d.client_seed, weights)
        assert number == d.number
        assert prizes[index].pk == d.drawn_prize_id
        assert d.prize_id == (None if d.sold_out else d.drawn_prize_id)
