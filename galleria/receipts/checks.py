"""Start-up check: the OCR models must ship with the installed `rapidocr` (nothing downloads at run time)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from . import conf
from .ocr import missing_models


@checks.register("receipts")
def ocr_models_present(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if conf.ocr_engine_path() != conf.DEFAULT_ENGINE:
        return []
    missing = missing_models()
    errors: list[checks.CheckMessage] = []
    if missing:
        errors.append(
            checks.Error(
                f"The receipt OCR models are missing: {', '.join(missing)}.",
                hint="Install rapidocr==3.10.0 (its wheel ships them); Galleria never downloads models.",
                id="receipts.E001",
            )
        )
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        errors.append(
            checks.Error(
                "onnxruntime is not installed: receipt photos cannot be read.",
                hint="pip install onnxruntime (pyproject.toml pins it).",
                id="receipts.E002",
            )
        )
    return errors
