from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.parking.services_grants import grants_bill_backlog


class Command(BaseCommand):
    help = (
        "Bill merchants, through the ledger, for the parking their grants covered that has not been posted yet "
        "(grants recorded before billing existed). Idempotent: a second run posts nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"posted {grants_bill_backlog()} parking grant transactions")
