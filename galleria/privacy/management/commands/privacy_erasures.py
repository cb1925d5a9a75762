"""`galleria privacy_erasures`: erase the members whose deletion request's cooling-off window has ended."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.privacy.services import erasure_run_due


class Command(BaseCommand):
    help = "Carry out the account deletions whose cooling-off window has ended (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = erasure_run_due()
        self.stdout.write(f"erased {result.erased}, blocked {result.blocked}")
