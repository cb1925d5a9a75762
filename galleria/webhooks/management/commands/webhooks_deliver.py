"""`galleria webhooks_deliver`: send every due webhook delivery — first tries, retries whose backoff has passed,
replays — and record each answer (scheduler job `webhooks-deliver`, every minute; docs/api.md "Webhooks"). Safe to
run on several machines at once (SKIP LOCKED and a lease per delivery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.webhooks import rules, services


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due and record the answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=50, help="deliveries claimed at a time")
        parser.add_argument(
            "--lease-seconds",
            type=int,
            default=int(rules.LEASE.total_seconds()),
            help="a claimed delivery whose worker died is sent again after this",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.deliveries_run(
            batch=max(1, options["batch"]), lease=dt.timedelta(seconds=max(1, options["lease_seconds"]))
        )
        self.stdout.write(
            f"webhooks: {result.delivered} delivered, {result.retried} to retry, {result.given_up} given up,"
            f" {result.disabled} endpoints turned off"
        )
