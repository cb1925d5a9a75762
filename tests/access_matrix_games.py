"""Access matrix entries of games (merged into tests/access_matrix.MATRIX): the member app's games, a game and
playing it, my prizes and a prize with its pickup code, the check-in calendar (make-ups); the console's games, the
editor, a game's page with its prizes, publish and end, the draw log, the gift desk and the streak rewards.

Two evidence games: a published wheel (open for a week) the member has played once for a gift, and an ended game
that every console action names, so publishing, ending and removing a prize are refused and change nothing. The
member's play POST carries no key (the page expired: nothing played); another member asking for the member's prize
gets the prizes list, as for an unknown id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # games.view
MANAGERS = {"admin", "marketing", ROOT}  # games.manage
DESK = {"admin", "service", ROOT}  # games.desk
PRIZES = "/app/games/prizes/"


def _game(ew: EvidenceWorld, *, title: str, status: str) -> Any:
    from django.utils import timezone

    from galleria.games import rules
    from galleria.games.models import Commitment, Game, Prize

    now = timezone.now()
    game, created = Game.objects.get_or_create(
        mall_group=ew.world.group,
        title=title,
        defaults={
            "kind": "wheel",
            "starts_at": now - dt.timedelta(days=1),
            "ends_at": now + dt.timedelta(days=7),
            "status": status,
        },
    )
    if created:
        Prize.objects.create(game=game, position=1, kind="gift", name="证据公仔", weight=1, inventory=5, won=1)
        seed = "e" * 64
        Commitment.objects.create(game=game, server_seed=seed, seed_hash=rules.seed_commitment(seed), published_at=now)
    return game


def game_id(ew: EvidenceWorld) -> int:
    return int(_game(ew, title="证据大转盘", status="published").pk)


def ended_id(ew: EvidenceWorld) -> int:
    return int(_game(ew, title="证据已结束", status="ended").pk)


def ended_prize_id(ew: EvidenceWorld) -> int:
    from galleria.games.models import Prize

    return int(Prize.objects.get(game_id=ended_id(ew)).pk)


def draw_id(ew: EvidenceWorld) -> int:
    from galleria.games.models import Draw, Prize

    game = _game(ew, title="证据大转盘", status="published")
    prize = Prize.objects.get(game=game)
    draw, _created = Draw.objects.get_or_create(
        member=ew.member,
        idempotency_key="evidence-draw",
        defaults={
            "mall_group": ew.world.group,
            "game": game,
            "seq": 1,
            "number": 0,
            "total_weight": 1,
            "drawn_prize": prize,
            "prize": prize,
            "pickup_code": "EVD23456",
        },
    )
    return int(draw.pk)


MATRIX_GAMES: dict[str, Entry] = {
    # member app
    "app:games": page(app(), post=GET_ONLY)(r("app:games")),
    "app:game": page(app(), post=GET_ONLY)(r("app:game", game_id)),
    "app:game_play": action(app(), note="without a key: the page expired, nothing played")(r("app:game_play", game_id)),
    "app:game_prizes": page(app(), post=GET_ONLY)(r("app:game_prizes")),
    "app:game_prize": page(app(other_member=redirect(PRIZES)), post=GET_ONLY)(r("app:game_prize", draw_id)),
    "app:checkin_calendar": page(app(), note="POST without a day: 422, nothing made up")(r("app:checkin_calendar")),
    # console
    "console:games": page(console(VIEWERS))(r("console:games")),
    "console:game_new": page(console(MANAGERS), note="POST without data: 422")(r("console:game_new")),
    "console:game": page(console(VIEWERS, scoped=True))(r("console:game", game_id)),
    "console:game_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:game_edit", game_id)
    ),
    "console:game_prize_add": action(console(MANAGERS, scoped=True), note="without data: 422")(
        r("console:game_prize_add", ended_id)
    ),
    "console:game_prize_delete": action(console(MANAGERS, scoped=True), note="an ended game: refused, unchanged")(
        r("console:game_prize_delete", ended_id, ended_prize_id)
    ),
    "console:game_publish": action(console(MANAGERS, scoped=True), note="an ended game: refused, unchanged")(
        r("console:game_publish", ended_id)
    ),
    "console:game_end": action(console(MANAGERS, scoped=True), note="an ended game: refused, unchanged")(
        r("console:game_end", ended_id)
    ),
    "console:game_draws": page(console(VIEWERS, scoped=True))(r("console:game_draws", game_id)),
    "console:games_desk": page(console(DESK), note="POST without a code: the empty desk screen")(
        r("console:games_desk")
    ),
    "console:games_streaks": page(console(VIEWERS), post=GET_ONLY)(r("console:games_streaks")),
    "console:games_streaks_save": action(console(MANAGERS), note="without data: 422")(r("console:games_streaks_save")),
}
