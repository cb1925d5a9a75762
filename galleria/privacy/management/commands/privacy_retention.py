"""`galleria privacy_retention`: anonymise members inactive longer than GALLERIA_RETENTION_INACTIVE_DAYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.privacy import conf
from galleria.privacy.services import retention_run


class Command(BaseCommand):
    help = "Anonymise members inactive for longer than GALLERIA_RETENTION_INACTIVE_DAYS (0 = off); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=None, help="members per batch")

    def handle(self, *args: Any, **options: Any) -> None:
        if conf.retention_inactive_days() <= 0:
            self.stdout.write("retention is off (GALLERIA_RETENTION_INACTIVE_DAYS = 0)")
            return
        result = retention_run(batch=options["batch"])
        self.stdout.write(f"anonymised {result.erased}, skipped {result.skipped} (wallet money or came back)")
