from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.merchants.services import pos_nonce_prune


class Command(BaseCommand):
    help = "Delete POS request nonces older than twice the clock-skew window (they can no longer be replayed)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"pruned {pos_nonce_prune()} nonces")
