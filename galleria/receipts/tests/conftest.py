from __future__ import annotations

import pytest

from galleria.receipts.ocr import ScriptedOcrEngine


@pytest.fixture(autouse=True)
def scripted_ocr(settings, tmp_path):
    """Receipts tests read photos with the scripted engine (the real one is exercised by test_ocr_real.py) and
    store them under a temporary MEDIA_ROOT."""
    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.ScriptedOcrEngine"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ScriptedOcrEngine.reset()
    yield ScriptedOcrEngine
    ScriptedOcrEngine.reset()
