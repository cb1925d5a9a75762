"""Settings of the imports area, read with their defaults (documented in docs/import.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def max_bytes() -> int:
    """Largest file accepted (refused before a byte is parsed)."""
    return int(getattr(settings, "GALLERIA_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_rows() -> int:
    """Most data rows read from one file; the rest is refused with a message."""
    return int(getattr(settings, "GALLERIA_IMPORT_MAX_ROWS", 1_000_000))


def max_blank_rows() -> int:
    """Consecutive blank rows after which reading stops (a sheet with a million empty rows)."""
    return int(getattr(settings, "GALLERIA_IMPORT_MAX_BLANK_ROWS", 1000))


def max_columns() -> int:
    return int(getattr(settings, "GALLERIA_IMPORT_MAX_COLUMNS", 60))


def batch_rows() -> int:
    """Rows per committed transaction of a real run (the resume checkpoint)."""
    return int(getattr(settings, "GALLERIA_IMPORT_BATCH_ROWS", 500))


def storage_dir() -> Path:
    """Private directory of uploaded files (not under a served URL)."""
    configured = getattr(settings, "GALLERIA_IMPORT_DIR", None)
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "imports"


def file_retention_days() -> int:
    """Days an unfinished import's uploaded file is kept (a finished one's is deleted at once)."""
    return int(getattr(settings, "GALLERIA_IMPORT_FILE_RETENTION_DAYS", 30))
