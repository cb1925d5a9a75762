"""`galleria games_verify <game id>`: recompute every draw of a game from its seed (docs/games.md, "Checking a
draw"). Refuses a game whose seed is not revealed yet unless `--before-reveal` (staff, on the server). Exit status 1
when the seed does not match its published hash or any draw does not recompute."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.games import selectors


class Command(BaseCommand):
    help = "Recompute every draw of a game from its revealed seed and report any that does not match."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("game_id", type=int)
        parser.add_argument("--seed", default=None, help="check against this seed instead of the stored one")
        parser.add_argument("--before-reveal", action="store_true", help="verify a game that is still running")

    def handle(self, *args: Any, **options: Any) -> None:
        game = selectors.game_by_id(game_id=options["game_id"])
        if game is None:
            raise CommandError(f"no game {options['game_id']}")
        view = selectors.commitment_view(game=game)
        if view is None:
            raise CommandError("the game was never published")
        if not view.revealed and not options["before_reveal"]:
            raise CommandError("the seed is not revealed yet (the game has not ended); use --before-reveal")
        report = selectors.verify(game=game, server_seed=options["seed"])
        self.stdout.write(f"game {game.pk} {game.title}")
        self.stdout.write(f"seed hash {report.seed_hash}: {'matches' if report.seed_ok else 'DOES NOT MATCH'}")
        self.stdout.write(f"{report.draws} draw(s) recomputed, {len(report.problems)} problem(s)")
        for problem in report.problems:
            self.stdout.write(f"  {problem}")
        if not report.seed_ok or report.problems:
            raise SystemExit(1)
