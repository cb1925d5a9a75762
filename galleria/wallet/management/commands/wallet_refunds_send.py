"""`galleria wallet_refunds_send`: send top-up refunds the gateway has not accepted yet (the task sent after each
booking normally does; this retries the ones a gateway failure left behind). Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.wallet.selectors import topup_refunds_unsent
from galleria.wallet.services import wallet_topup_refund_send


class Command(BaseCommand):
    help = "Send booked top-up refunds to their payment gateway (retries the ones not accepted yet)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = topup_refunds_unsent(limit=max(1, options["limit"]))
        if not ids:  # the usual case: every refund was accepted when it was booked
            if options["verbosity"] > 1:
                self.stdout.write("wallet refunds: nothing waiting for the gateway")
            return
        sent = sum(wallet_topup_refund_send(topup_refund_id=refund_id) for refund_id in ids)
        self.stdout.write(f"wallet refunds: {sent} of {len(ids)} accepted by the gateway")
        if sent < len(ids):
            self.stderr.write(f"{len(ids) - sent} still waiting for the gateway (see their last error)")
