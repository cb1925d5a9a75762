"""Access matrix entries of the content area (merged into MATRIX by tests/access_matrix.py)."""

from __future__ import annotations

from .access_matrix import Entry

MATRIX_CONTENT: dict[str, Entry] = {}
