"""`galleria profit_share_sweep [--days N]`: WeChat Pay 分账 of paid pay-at-store payments (docs/reconcile.md).

Creates the share order of every paid, recorded pay-at-store payment of the last N days (default 2) that has none,
sends pending orders, asks the gateway about processing ones and releases the frozen funds of payments with
nothing to share. Idempotent and safe to run from several processes (orders are claimed with a lease).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.reconcile.services import profit_share_sweep


class Command(BaseCommand):
    help = "Share the merchants' part of pay-at-store payments through WeChat Pay 分账."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="payments paid in the last N days (default 2)")
        parser.add_argument("--limit", type=int, default=200, help="orders per run (default 200)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and not 1 <= days <= 180:
            raise CommandError("--days must be 1–180")
        result = profit_share_sweep(days=days, limit=max(1, options["limit"]))
        self.stdout.write(
            f"created {result.created}, sent {result.sent}, finished {result.finished}, "
            f"refused or closed {result.failed}, released {result.unfrozen}"
        )
