from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.analytics.services import rollup_rebuild


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = (
        "Recompute the daily sales rollups of a period from the sales (default: every day since each mall's first "
        "sale). Safe to run at any time, also while the minute job runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None, help="only this mall group's malls")
        parser.add_argument("--since", type=_date, default=None, help="first mall-local day (YYYY-MM-DD)")
        parser.add_argument("--until", type=_date, default=None, help="last mall-local day (default: today)")
        parser.add_argument("--days", type=int, default=None, help="the last N days (the nightly job uses 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        since, until, days = options["since"], options["until"], options["days"]
        if days is not None and (days < 1 or since):
            raise CommandError("--days is a positive number of days, not combined with --since")
        if since and until and until < since:
            raise CommandError("--until is before --since")
        started = time.monotonic()
        rows = rollup_rebuild(mall_group_id=options["group"], since=since, until=until, days=days)
        self.stdout.write(f"{rows} rollup row(s) written in {time.monotonic() - started:.1f} s")
