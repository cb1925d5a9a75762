"""`galleria recommendations_train [--group ID] [--evaluate]`: train a new recommendation model version per mall
group (docs/recommendations.md). Scheduled nightly by `galleria scheduler`; safe to run on demand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.merchants.selectors import mall_group_list
from galleria.recommendations.exceptions import NothingToTrainError
from galleria.recommendations.services import model_evaluate, model_train


class Command(BaseCommand):
    help = "Train the recommendation model of every mall group (or one), optionally with its offline scores."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None, help="one mall group id")
        parser.add_argument("--evaluate", action="store_true", help="also store the offline scores")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = mall_group_list(mall_group_id=options["group"]).order_by("pk")
        for group in groups:
            try:
                model = model_train(mall_group_id=group.pk)
            except NothingToTrainError:
                self.stdout.write(f"group {group.pk}: no purchases to train on")
                continue
            s = model.stats
            self.stdout.write(
                f"group {group.pk}: model v{model.version}: {s['members']} members, {s['merchants']} merchants,"
                f" {s['purchases']} purchases, {s['excluded_members']} opted out, {s['seconds']} s"
            )
            if options["evaluate"]:
                try:
                    result = model_evaluate(mall_group_id=group.pk)
                except NothingToTrainError:
                    continue
                self.stdout.write(f"group {group.pk}: {result.as_json()}")
