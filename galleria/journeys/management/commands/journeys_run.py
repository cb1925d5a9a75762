"""`galleria journeys_run`: the journeys' minute sweep — enter the members the scanned triggers find, then run
every due step (scheduler job `journeys-run`, docs/marketing.md "Journeys")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.journeys import services


class Command(BaseCommand):
    help = "Enter members found by the scanned journey triggers and run every due journey step."

    def handle(self, *args: Any, **options: Any) -> None:
        entered = services.journeys_scan()
        moved = services.journeys_advance()
        self.stdout.write(f"journeys: {entered} entered, {moved} moved on")
