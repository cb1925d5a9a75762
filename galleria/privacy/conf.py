"""Settings of the privacy area, read with their defaults (documented in docs/privacy.md)."""

from __future__ import annotations

from django.conf import settings


def cooling_off_days() -> int:
    """Days between an erasure request and the erasure; the member can cancel during them."""
    return max(0, int(getattr(settings, "GALLERIA_ERASURE_COOLING_OFF_DAYS", 15)))


def retention_inactive_days() -> int:
    """Anonymise members inactive for longer than this many days (0 = never)."""
    return max(0, int(getattr(settings, "GALLERIA_RETENTION_INACTIVE_DAYS", 3 * 365)))


def export_ttl_days() -> int:
    """How long a generated data export stays downloadable."""
    return max(1, int(getattr(settings, "GALLERIA_PRIVACY_EXPORT_TTL_DAYS", 7)))


def job_batch() -> int:
    """Members handled per batch by the erasure and retention jobs (each member is its own transaction)."""
    return max(1, int(getattr(settings, "GALLERIA_PRIVACY_JOB_BATCH", 200)))


def export_section_paths() -> list[str]:
    """Dotted paths of the export sections of the areas privacy cannot import (settings.GALLERIA_EXPORT_SECTIONS)."""
    return list(getattr(settings, "GALLERIA_EXPORT_SECTIONS", []))
