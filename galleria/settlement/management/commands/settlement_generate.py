"""`galleria settlement_generate [--period YYYY-MM] [--group CODE]`: generate (or regenerate) the merchants'
settlement statements of a month (docs/settlement.md). Without --period: the month before the current one in the
default mall time zone — what the scheduler runs on the first days of each month. Idempotent: a run with no new
postings changes nothing; confirmed statements never change (late postings become supplementary statements)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.merchants.selectors import mall_group_list
from galleria.settlement import rules, services


class Command(BaseCommand):
    help = "Generate the merchants' settlement statements of a month (default: last month), for one group or all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", default="", help="the month, YYYY-MM (default: last month)")
        parser.add_argument("--group", default="", help="a mall group's code (default: every group)")

    def handle(self, *args: Any, period: str, group: str, **options: Any) -> None:
        today = timeutil.local_date(timeutil.now(), None)
        try:
            month = rules.parse_period(period, today=today) if period else rules.previous_period(today)
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        groups = mall_group_list(mall_group_id=None)
        if group:
            groups = groups.filter(code=group)
            if not groups.exists():
                raise CommandError(f"no mall group with code {group!r}")
        actor = Actor.system("settlement_generate")
        for g in groups:
            result = services.statements_generate(mall_group_id=g.pk, period=month, actor=actor)
            self.stdout.write(
                f"{g.code} {month.label}: {result.created} new ({result.supplements} supplementary), "
                f"{result.regenerated} regenerated, {result.unchanged} unchanged"
            )
