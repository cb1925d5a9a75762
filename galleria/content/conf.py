"""Settings of the content app, read with defaults (documented in docs/member-app.md)."""

from __future__ import annotations

from django.conf import settings


def image_max_bytes() -> int:
    """Largest banner image accepted (bytes)."""
    return int(getattr(settings, "GALLERIA_CONTENT_IMAGE_MAX_BYTES", 1024 * 1024))


def image_max_side() -> int:
    """Largest width or height accepted (pixels)."""
    return int(getattr(settings, "GALLERIA_CONTENT_IMAGE_MAX_SIDE", 4096))
