"""Settings of the dedupe app, read with their defaults (documented in docs/merge.md)."""

from __future__ import annotations

from django.conf import settings


def undo_days() -> int:
    """How many days after a merge it can still be undone (`GALLERIA_MERGE_UNDO_DAYS`, default 30)."""
    return int(getattr(settings, "GALLERIA_MERGE_UNDO_DAYS", 30))
