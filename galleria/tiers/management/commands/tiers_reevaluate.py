"""`galleria tiers_reevaluate [--group ID] [--date YYYY-MM-DD] [--force] [--chunk N]`: the daily tier review.

Starts grace periods, downgrades members whose grace ended and ends expired overrides (upgrades happen at once
on each sale; the review also catches any it missed). Without `--group` every group that has a ladder is
reviewed; without `--date` each group's mall-local today. Resumable (a crashed run continues after the last
finished chunk) and idempotent: a day already finished is skipped, and `--force` re-runs it, changing nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.tiers.models import TierLevel
from galleria.tiers.services import DEFAULT_CHUNK, tier_reevaluate


class Command(BaseCommand):
    help = "Daily tier review: grace periods, downgrades after grace, end of overrides."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None, help="only this mall group id")
        parser.add_argument("--date", default=None, help="review day YYYY-MM-DD (default: mall-local today)")
        parser.add_argument("--force", action="store_true", help="run again a day that already finished")
        parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="members per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        if not 1 <= options["chunk"] <= 10_000:
            raise CommandError("--chunk must be between 1 and 10000")
        if options["group"] is not None:
            groups = [options["group"]]
        else:
            groups = sorted(set(TierLevel.objects.values_list("mall_group_id", flat=True)))
        for group_id in groups:
            report = tier_reevaluate(
                mall_group_id=group_id, today=day, chunk_size=options["chunk"], force=options["force"]
            )
            changes = ", ".join(f"{k}={v}" for k, v in sorted(report.changes.items())) or "none"
            state = "already done" if report.already_done else f"{report.members_seen} members"
            self.stdout.write(f"group {group_id} {report.run_on}: {state}; changes: {changes}")
