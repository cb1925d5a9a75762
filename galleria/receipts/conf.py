"""Settings of the receipts area, read with their defaults (documented in docs/receipts.md)."""

from __future__ import annotations

from django.conf import settings

DEFAULT_ENGINE = "galleria.receipts.ocr.RapidOcrEngine"


def ocr_engine_path() -> str:
    """The OCR engine class (dotted path). Tests may use `galleria.receipts.ocr.ScriptedOcrEngine`."""
    return str(getattr(settings, "GALLERIA_RECEIPT_OCR_ENGINE", DEFAULT_ENGINE))


def ocr_timeout_seconds() -> float:
    """A read taking longer than this sends the receipt to manual review."""
    return max(1.0, float(getattr(settings, "GALLERIA_RECEIPT_OCR_TIMEOUT", 30)))


def max_upload_bytes() -> int:
    return max(1, int(getattr(settings, "GALLERIA_RECEIPT_MAX_BYTES", 15 * 1024 * 1024)))


def max_pixels() -> int:
    """Decoded size limit (a small file can decode to a huge bitmap)."""
    return max(1, int(getattr(settings, "GALLERIA_RECEIPT_MAX_PIXELS", 40_000_000)))


def stored_max_side() -> int:
    """Stored images are scaled down to at most this many pixels on their long side."""
    return max(200, int(getattr(settings, "GALLERIA_RECEIPT_STORED_MAX_SIDE", 2400)))


def storage_prefix() -> str:
    return str(getattr(settings, "GALLERIA_RECEIPT_STORAGE_PREFIX", "receipts"))
