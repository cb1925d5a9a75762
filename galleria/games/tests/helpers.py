"""Games test data: a game with prizes, published, in one call; members with points; a play in one call."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.games import services
from galleria.games.models import Game
from galleria.games.types import DrawResult, GameIn, PrizeIn
from galleria.members.services import member_register
from galleria.testing_points import give_points

ACTOR = Actor.system("games-test")
_phones = itertools.count(60000000)
_keys = itertools.count(1)

DEFAULT_PRIZES = (
    PrizeIn(kind="points", name="88 积分", weight=30, inventory=None, points=88),
    PrizeIn(kind="gift", name="公仔", weight=10, inventory=5),
    PrizeIn(kind="thanks", name="谢谢参与", weight=60, inventory=None),
)


def game(world: Any, prizes: Sequence[PrizeIn] = DEFAULT_PRIZES, *, publish: bool = True, **values: Any) -> Game:
    """A wheel open now for 7 days, 1 free play a day, extra plays at 10 points."""
    now = timeutil.now()
    data: dict[str, Any] = {
        "kind": "wheel",
        "title": "幸运大转盘",
        "description": "",
        "colour": "#d9480f",
        "starts_at": now - dt.timedelta(hours=1),
        "ends_at": now + dt.timedelta(days=7),
        "entry_points": 10,
        "free_per_day": 1,
        "max_per_day": 0,
        "max_per_game": 0,
        "chances_per_checkin": 0,
        "spend_fen_per_chance": 0,
    } | values
    g = services.game_save(mall_group_id=world.group.pk, game_id=None, data=GameIn(**data), actor=ACTOR)
    for p in prizes:
        services.prize_save(mall_group_id=world.group.pk, game_id=g.pk, prize_id=None, data=p, actor=ACTOR)
    if publish:
        g = services.game_publish(mall_group_id=world.group.pk, game_id=g.pk, actor=ACTOR)
    return g


def member(world: Any, *, points: int = 0) -> Any:
    m = member_register(mall=world.mall, phone=f"136{next(_phones):08d}", channel="desk", actor=ACTOR)
    if points:
        give_points(world, m, points)
    return m


def play(world: Any, m: Any, g: Game, *, key: str | None = None, **kw: Any) -> DrawResult:
    return services.draw(
        member_id=m.pk,
        mall_group_id=world.group.pk,
        game_id=g.pk,
        idempotency_key=key or f"k{next(_keys)}",
        tz_name=world.mall.timezone,
        **kw,
    )
