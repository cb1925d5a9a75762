from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.parking.services_keys import car_park_nonce_prune


class Command(BaseCommand):
    help = "Delete car-park API request nonces older than twice the clock-skew window (they can no longer be replayed)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"pruned {car_park_nonce_prune()} nonces")
