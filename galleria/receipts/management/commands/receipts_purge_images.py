"""`galleria receipts_purge_images`: delete receipt photos past each mall group's retention (docs/receipts.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.receipts.services import receipt_images_purge


class Command(BaseCommand):
    help = "Delete receipt photos older than the group's retention period (decided receipts, abandoned drafts)."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = receipt_images_purge()
        self.stdout.write(f"receipt photos deleted: {removed}")
