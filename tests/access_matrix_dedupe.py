"""Access matrix entries of the dedupe area (merged into MATRIX by tests/access_matrix.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_DEDUPE: dict[str, Entry] = {}
