"""`galleria online_orders_progress`: paid online orders move on by themselves (docs/design/online-mall.md §10) —
shipped orders past the group's auto-receive days are received, pickups not collected within the pickup days of
"ready" are cancelled with a full refund, delivered orders past their return window (and with no open after-sales
request) complete and their earned points become spendable, after-sales requests the shop did not answer in time
go to the mall. The scheduler runs it every 10 minutes; idempotent, one transaction per order, SKIP LOCKED."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.commerce.services_orders import PROGRESS_BATCH, orders_progress


class Command(BaseCommand):
    help = "Receive, complete or cancel online orders whose time has come; escalate unanswered after-sales."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=PROGRESS_BATCH, help="orders per kind and run (default 200)")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = orders_progress(limit=max(1, min(int(options["limit"]), 10_000)))
        self.stdout.write(
            f"online orders: {counts['received']} received, {counts['uncollected']} uncollected cancelled, "
            f"{counts['completed']} completed, {counts['escalated']} after-sales escalated"
        )
