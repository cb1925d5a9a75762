"""`galleria imports_purge_files`: delete uploaded import files nobody needs any more (personal data)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.imports import conf
from galleria.imports.services import import_files_purge


class Command(BaseCommand):
    help = (
        "Delete the uploaded files of finished imports, and of unfinished ones older than "
        "GALLERIA_IMPORT_FILE_RETENTION_DAYS; idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = import_files_purge()
        self.stdout.write(
            f"deleted {deleted} uploaded file(s) (unfinished ones kept {conf.file_retention_days()} days)"
        )
