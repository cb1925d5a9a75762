"""`galleria amenities_slots_generate`: every bookable member service gets the time slots of its next two weeks from
its weekly hours (docs/amenities.md). Scheduled daily by `galleria scheduler`; idempotent (a slot that exists is
kept with its bookings)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.amenities.services_config import slots_generate_all


class Command(BaseCommand):
    help = "Make the next two weeks of time slots of every bookable member service."

    def handle(self, *args: Any, **options: Any) -> None:
        n = slots_generate_all()
        self.stdout.write(f"{n} slot(s) made")
