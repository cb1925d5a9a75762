"""The OCR engine behind receipt photos: local, offline, models shipped inside the `rapidocr` wheel.

`RapidOcrEngine` runs rapidocr 3.10 on onnxruntime with the three models its wheel bundles (PP-OCRv6 small
detection and recognition, the v2.0 mobile text-direction classifier), passed by explicit file path: rapidocr
would otherwise resolve a model name to a download URL, and nothing may download at run time here. The Django
system check `receipts.E001` (checks.py) fails start-up when a file is missing.

`read_with_timeout` runs the engine on one long-lived worker thread and stops waiting after the timeout: the
caller then sends the receipt to manual review (a Python thread cannot be killed; the late read finishes in the
background and is discarded). The engine is loaded once per process and reused (~370 MB resident).

`ScriptedOcrEngine` is the tests' stand-in: it returns the lines a test gives it, or raises, or sleeps.
"""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, ClassVar, Protocol

from django.utils.module_loading import import_string

from . import conf
from .types import OcrLine

MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


class OcrEngine(Protocol):
    def read(self, image: bytes) -> list[OcrLine]: ...


class OcrTimeoutError(Exception):
    pass


def models_dir() -> Path | None:
    try:
        import rapidocr
    except ImportError:
        return None
    return Path(rapidocr.__file__).parent / "models"


def missing_models() -> list[str]:
    """The bundled model files that are not on disk (all of them when rapidocr is not installed)."""
    folder = models_dir()
    if folder is None:
        return list(MODEL_FILES.values())
    return [name for name in MODEL_FILES.values() if not (folder / name).is_file()]


def _sorted_lines(boxes: Any, texts: Any, scores: Any) -> list[OcrLine]:
    """Top to bottom, then left to right (rapidocr returns detection order)."""
    rows = []
    for box, text, score in zip(boxes, texts, scores, strict=False):
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        rows.append((sum(ys) / len(ys), min(xs), str(text), round(float(score) * 100)))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [OcrLine(text=text, confidence=int(score)) for _y, _x, text, score in rows]


class RapidOcrEngine:
    _engine: ClassVar[Any] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def engine(cls) -> Any:
        with cls._lock:
            if cls._engine is None:
                folder = models_dir()
                if folder is None or missing_models():
                    raise RuntimeError(f"rapidocr models missing: {missing_models()}")
                from rapidocr import RapidOCR

                params: dict[str, Any] = {"Global.log_level": "error"}
                params.update({key: str(folder / name) for key, name in MODEL_FILES.items()})
                cls._engine = RapidOCR(params=params)
            return cls._engine

    def read(self, image: bytes) -> list[OcrLine]:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(image)) as img:
            array = np.asarray(img.convert("RGB"))[:, :, ::-1]  # BGR, as OpenCV reads files
        result = self.engine()(array)
        if result.boxes is None or result.txts is None:
            return []
        return _sorted_lines(result.boxes, result.txts, result.scores)


class ScriptedOcrEngine:
    """Tests: `ScriptedOcrEngine.lines = [("合计 ¥12.00", 98), …]`; `error` raises; `delay` sleeps first."""

    lines: ClassVar[list[tuple[str, int]]] = []
    error: ClassVar[Exception | None] = None
    delay: ClassVar[float] = 0.0

    @classmethod
    def reset(cls) -> None:
        cls.lines, cls.error, cls.delay = [], None, 0.0

    def read(self, image: bytes) -> list[OcrLine]:
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return [OcrLine(text=t, confidence=c) for t, c in self.lines]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt-ocr")
        return _pool


def current_engine() -> OcrEngine:
    engine: OcrEngine = import_string(conf.ocr_engine_path())()
    return engine


def read_with_timeout(image: bytes, *, timeout: float | None = None) -> list[OcrLine]:
    """The engine's lines, or OcrTimeoutError after `timeout` seconds; the engine's own errors propagate."""
    engine = current_engine()
    future = _executor().submit(engine.read, image)
    try:
        return future.result(timeout=timeout if timeout is not None else conf.ocr_timeout_seconds())
    except FutureTimeout:
        future.cancel()
        raise OcrTimeoutError from None
