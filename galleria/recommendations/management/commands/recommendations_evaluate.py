"""`galleria recommendations_evaluate [--group ID] [--days 30] [--k 10]`: offline evaluation of the recommender on
the group's own purchases with a time split (train before the cut, test on the next days): hit rate@k and NDCG@k
of the model, the popularity baseline and a random baseline; printed and stored on the active model
(docs/recommendations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.merchants.selectors import mall_group_list
from galleria.recommendations.exceptions import NothingToTrainError
from galleria.recommendations.services import model_evaluate


class Command(BaseCommand):
    help = "Evaluate the recommender offline (time split) against popularity and random baselines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None)
        parser.add_argument("--days", type=int, default=30, help="test window after the cut (days)")
        parser.add_argument("--k", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        for group in mall_group_list(mall_group_id=options["group"]).order_by("pk"):
            try:
                r = model_evaluate(mall_group_id=group.pk, test_days=options["days"], k=options["k"])
            except NothingToTrainError:
                self.stdout.write(f"group {group.pk}: no purchases")
                continue
            k = r.k
            lift = r.lift()
            self.stdout.write(
                f"group {group.pk}: {r.members} test members | hit@{k} / NDCG@{k}:"
                f" model {r.model.hit_rate:.3f} / {r.model.ndcg:.3f},"
                f" popularity {r.popularity.hit_rate:.3f} / {r.popularity.ndcg:.3f},"
                f" random {r.random.hit_rate:.3f} / {r.random.ndcg:.3f}"
                + ("" if lift is None else f" | lift vs popularity {lift * 100:+.1f} percent")
            )
