"""`galleria events_offers_lapse`: seat offers past their deadline lapse to the next member in line (docs/events.md).
Scheduled every 5 minutes by `galleria scheduler`; idempotent, one transaction per offer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.events.services import offers_lapse


class Command(BaseCommand):
    help = "Lapse unconfirmed seat offers of events and offer the seats to the next in line."

    def handle(self, *args: Any, **options: Any) -> None:
        n = offers_lapse()
        self.stdout.write(f"{n} offer(s) lapsed")
