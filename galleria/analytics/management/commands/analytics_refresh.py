from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.analytics.services import rollup_refresh


class Command(BaseCommand):
    help = "Recompute the daily sales rollups touched by the sales and refunds since the last run (every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = rollup_refresh()
        self.stdout.write(
            f"{result.slices} day slice(s) recomputed, up to sale {result.last_sale_id}"
            f" and refund {result.last_refund_id}"
        )
