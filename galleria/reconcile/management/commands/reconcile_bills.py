"""`galleria reconcile_bills [--date YYYY-MM-DD] [--days N] [--group CODE] [--provider wechat|alipay]`

Download the gateways' daily bills and reconcile them with Galleria's payments and refunds (docs/reconcile.md).
Without --date: yesterday in Beijing time (the gateways publish a day's bill after 10:00 the next morning; the
scheduler runs this at 10:30). --days N also re-runs the N−1 days before (re-running a date is idempotent: its open
findings are replaced, fixed and resolved ones kept). Exits 1 when a bill could not be reconciled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.audit.types import Actor
from galleria.merchants.selectors import mall_group_list
from galleria.reconcile.services import gateway_today, reconcile_dates
from galleria.reconcile.types import RunResult

PROVIDERS = ("wechat", "alipay")
MAX_DAYS = 62


class Command(BaseCommand):
    help = "Reconcile the gateways' daily bills with our payments and refunds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the bill date, YYYY-MM-DD (Beijing time); default: yesterday")
        parser.add_argument("--days", type=int, default=1, help="also the days before --date (default 1: only it)")
        parser.add_argument("--group", help="a mall group's code (default: every group)")
        parser.add_argument("--provider", choices=PROVIDERS, help="one provider (default: both)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            last = dt.date.fromisoformat(options["date"]) if options["date"] else gateway_today() - dt.timedelta(days=1)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        days = options["days"]
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be 1–{MAX_DAYS}")
        groups = list(mall_group_list(mall_group_id=None))
        if options["group"]:
            groups = [g for g in groups if g.code == options["group"]]
            if not groups:
                raise CommandError(f"no mall group with code {options['group']!r}")
        dates = [last - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        providers = [options["provider"]] if options["provider"] else list(PROVIDERS)
        done = reconcile_dates(
            bill_dates=dates,
            mall_group_ids=[g.pk for g in groups],
            providers=providers,
            actor=Actor.system("reconcile_bills"),
        )
        codes = {g.pk: g.code for g in groups}
        failed = 0
        for group_id, provider, day, outcome in done:
            where = f"{codes[group_id]} {provider} {day.isoformat()}"
            if isinstance(outcome, RunResult) and outcome.status == "done":
                found = ", ".join(f"{k} {v}" for k, v in outcome.counts.items() if v)
                self.stdout.write(f"{where}: {found or 'empty bill'}; open findings {outcome.open_findings}")
            else:
                failed += 1
                error = outcome.error if isinstance(outcome, RunResult) else repr(outcome)
                self.stderr.write(f"{where}: FAILED {error}")
        if not done:
            self.stdout.write("nothing to reconcile (no group takes these providers)")
        if failed:
            raise CommandError(f"{failed} bill(s) could not be reconciled")
