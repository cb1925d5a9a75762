"""`galleria audience_refresh`: the profiles, scores, stages and automatic tags of the members who bought since the
last run (docs/marketing.md). Scheduled every minute by `galleria scheduler`; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.audience.services import profiles_refresh


class Command(BaseCommand):
    help = "Refresh the profiles of the members who just bought."

    def handle(self, *args: Any, **options: Any) -> None:
        r = profiles_refresh()
        self.stdout.write(f"{r.members} member(s) refreshed, up to sale {r.last_sale_id}")
