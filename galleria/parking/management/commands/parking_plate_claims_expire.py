from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.parking.services_plates import CLAIM_EXPIRE_DAYS, plate_claims_expire


class Command(BaseCommand):
    help = (
        f"Vehicle licence photos left unreviewed for {CLAIM_EXPIRE_DAYS} days: the claim expires and the photo is "
        "deleted (docs/parking.md, 'Plates verified once')."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"expired {plate_claims_expire()} plate claims")
