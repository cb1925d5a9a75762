"""`galleria ledger check`: re-derive every balance from the legs; exit non-zero on drift or imbalance.
`galleria ledger balance ACCOUNT_ID [--at ISO]`: an account's balance as of an instant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.ledger.selectors import balance_as_of, ledger_check


class Command(BaseCommand):
    help = "Ledger tools: `check` (drift and imbalance, exit 1 on any) and `balance` (as of an instant)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check")
        check.add_argument("--group", type=int, default=None, help="only this mall group id")
        bal = sub.add_parser("balance")
        bal.add_argument("account_id", type=int)
        bal.add_argument("--at", default=None, help="ISO 8601 instant, e.g. 2026-01-31T16:00:00+00:00")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "balance":
            at = dt.datetime.fromisoformat(options["at"]) if options["at"] else None
            if at is not None and at.tzinfo is None:
                raise CommandError("--at needs a time zone offset")
            self.stdout.write(str(balance_as_of(account_id=options["account_id"], at=at)))
            return
        report = ledger_check(mall_group_id=options["group"])
        self.stdout.write(f"checked {report.accounts_checked} accounts, {report.transactions_checked} transactions")
        for drift in report.drifts:
            self.stdout.write(f"DRIFT account {drift.account_id}: cached {drift.cached}, legs say {drift.derived}")
        for drift in report.held_drifts:
            self.stdout.write(
                f"HELD DRIFT account {drift.account_id}: held {drift.cached}, open holds say {drift.derived}"
            )
        for tx in report.unbalanced:
            self.stdout.write(f"UNBALANCED transaction {tx}")
        for acc in report.negative:
            self.stdout.write(f"NEGATIVE member account {acc}")
        if not report.ok:
            raise CommandError("ledger check failed")
        self.stdout.write("ledger OK")
