"""`galleria online_checkouts_expire`: online checkouts not paid in time are cancelled — their gateway payment closed
first (a late payment is applied instead), then the points hold, the coupon holds and the stock allocation released
(docs/design/online-mall.md §10). The scheduler runs it every minute; idempotent, one transaction per checkout,
safe with several workers (a checkout another transaction holds is skipped)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.commerce.services_checkout import EXPIRE_BATCH, checkouts_expire


class Command(BaseCommand):
    help = "Cancel online checkouts not paid in time, releasing their points, coupons and stock."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=EXPIRE_BATCH, help="checkouts per run (default 200)")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = checkouts_expire(limit=max(1, min(int(options["limit"]), 10_000)))
        self.stdout.write(
            f"online checkouts: {counts['cancelled']} cancelled, {counts['paid']} found paid, "
            f"{counts['waiting']} waiting for the gateway, {counts['skipped']} skipped"
        )
