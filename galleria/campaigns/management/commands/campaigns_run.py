"""`galleria campaigns_run`: advance every due or sending campaign (docs/marketing.md). Scheduled every minute by
`galleria scheduler` behind the campaign's own task; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.campaigns.services import campaigns_run_due


class Command(BaseCommand):
    help = "Advance due and sending campaigns."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{campaigns_run_due()} campaign(s) advanced")
